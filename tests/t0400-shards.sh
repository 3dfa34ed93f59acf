#!/bin/sh
# Scale-out: sharded runs concatenate into the unsharded result. The README's GNU parallel
# recipe for predict (header once, --no-header parts, --row-offset from the job number),
# forecast --shard I/N for N = 1..4, and a pipe that feeds records in chunks as Spark's
# RDD.pipe feeds a partition (NDJSON records with a key, no header).
. "$(dirname "$0")/lib.sh"

BC=$TESTDATA/breast_cancer.csv
T=$TESTDATA/tickets
dyn fit logreg --id bc --label diagnosis "$BC" >/dev/null

expect_success 'the parallel recipe gives the unsharded CSV byte for byte' '
	command -v parallel >/dev/null || { echo "GNU parallel not installed: skipped"; exit 0; }
	dyn --format csv predict bc "$BC" >full.csv &&
	{
		head -n 1 "$BC" | dyn --format csv predict bc &&
		parallel -k --pipe -N 100 --header : \
			"\"$DYN\" --no-header --format csv predict bc --row-offset \$(( ({#} - 1) * 100 ))" <"$BC"
	} >sharded.csv &&
	compare full.csv sharded.csv
'
expect_success 'forecast --shard I/N for N = 1..4 merges into the unsharded forecast' '
	dyn --format csv forecast --all --horizon 7 --queues "$T/queues.csv" "$T/tickets.csv" >all.csv &&
	tail -n +2 all.csv | sort >all.sorted &&
	for n in 1 2 3 4; do
		head -n 1 all.csv >merged.csv && i=1 &&
		while [ $i -le $n ]; do
			dyn --no-header --format csv forecast --all --horizon 7 --shard $i/$n \
				--queues "$T/queues.csv" "$T/tickets.csv" >>merged.csv || exit 1
			i=$((i + 1))
		done
		test "$(head -n 1 merged.csv)" = "$(head -n 1 all.csv)" &&
		tail -n +2 merged.csv | sort >merged.sorted && compare all.sorted merged.sorted || exit 1
	done
'
expect_success 'the man page'"'"'s cron job over hosts, with this machine as the only host (-S :)' '
	command -v parallel >/dev/null || { echo "GNU parallel not installed: skipped"; exit 0; }
	mkdir -p data && cp "$T/tickets.csv" data/ &&
	dyn --format csv forecast --all --horizon 7 data/tickets.csv >all.csv &&
	(cd data && parallel -S : --wd "$PWD" \
		"\"$DYN\" \$([ {} -gt 1 ] && echo --no-header) --format csv forecast --all --horizon 7 --shard {}/8 \
		tickets.csv > part{}.csv" ::: $(seq 8) && cat part?.csv >forecast.csv) &&
	test "$(head -n 1 data/forecast.csv)" = "$(head -n 1 all.csv)" &&
	tail -n +2 all.csv | sort >a && tail -n +2 data/forecast.csv | sort >b && compare a b
'
expect_success 'records fed in chunks, as RDD.pipe feeds a partition, give the same keyed rows' '
	awk -F, "NR == 1 { for (i = 1; i <= NF; i++) h[i] = \$i; next }
		{ printf \"{\\\"id\\\": %d\", NR - 1; for (i = 1; i <= NF; i++) if (h[i] != \"diagnosis\") printf \", \\\"%s\\\": %s\", h[i], \$i; print \"}\" }" \
		"$BC" >bc.ndjson &&
	dyn --format csv predict bc --input-format ndjson --key id bc.ndjson >one.csv &&
	split -l 97 bc.ndjson part. && : >chunks.csv &&
	for p in part.*; do
		dyn --no-header --format csv predict bc --input-format ndjson --key id <"$p" >>chunks.csv || exit 1
	done &&
	tail -n +2 one.csv | sort -t, -k1,1n >a && sort -t, -k1,1n chunks.csv >b && compare a b &&
	test "$(wc -l <a)" -eq 569
'
expect_success '--no-header leaves JSON alone and --row-offset numbers rows from N + 1' '
	head -n 3 "$BC" | dyn --no-header --format csv predict bc --row-offset 40 | cut -d, -f1 >rows &&
	printf "41\n42\n" >exp && compare exp rows &&
	head -n 3 "$BC" | dyn --no-header --format json predict bc | grep -q "^\[" &&
	dyn --format csv models ls --no-header >ls.csv && ! grep -q "^id," ls.csv && grep -q "^bc," ls.csv
'

echo "1..$test_count"
