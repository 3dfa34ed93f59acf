#!/bin/sh
# dyn forecast: output shape and dates at every granularity, intervals, methods, backtest,
# batch over --all in threads (order independent of --threads), --shard with GNU parallel, plots.
. "$(dirname "$0")/lib.sh"
T=$TESTDATA/tickets

# Two weeks of queue 1 (Mon 2024-01-01 .. Sun 2024-01-14) with a clear weekly pattern.
{
	echo queueId,date,new_tickets
	for d in 01 02 03 04 05 06 07 08 09 10 11 12 13 14; do
		case $d in 06 | 07 | 13 | 14) v=2 ;; *) v=$((10 + ${d#0} % 3)) ;; esac
		echo "1,2024-01-$d,$v"
	done
} >two.csv

expect_success 'rows: queue_id,date,value and an interval per level, dates after the history' '
	dyn --format csv forecast --horizon 3 two.csv >out &&
	head -n 1 out >h && echo "queue_id,date,value,lo_80,hi_80,lo_95,hi_95" >exp && compare exp h &&
	cut -d, -f1,2 out | tail -n 3 >d && printf "1,2024-01-15\n1,2024-01-16\n1,2024-01-17\n" >exp &&
	compare exp d
'

expect_success 'intervals are nested around the forecast and never negative' '
	dyn --format csv forecast --queue 6,16 --horizon 30 $T/tickets.csv >out &&
	test $(wc -l <out) -eq 61 &&
	awk -F, "NR > 1 && !(\$6 <= \$4 && \$4 <= \$3 && \$3 <= \$5 && \$5 <= \$7 && \$6 >= 0) { print; bad = 1 } END { exit bad }" out
'

expect_success '--level sets the interval columns' '
	dyn --format csv forecast --horizon 2 --level 50,99.5 two.csv | head -n 1 >h &&
	echo "queue_id,date,value,lo_50,hi_50,lo_99.5,hi_99.5" >exp && compare exp h
'

expect_success '--method snaive repeats the last week' '
	dyn --format csv forecast --method snaive --horizon 7 --level 80 two.csv | cut -d, -f3 | tail -n 7 >out &&
	tail -n 7 two.csv | cut -d, -f3 >exp && compare exp out
'

expect_success '--method naive and mean' '
	dyn --format csv forecast --method naive --horizon 2 two.csv | cut -d, -f3 | tail -n 1 >out &&
	echo 2 >exp && compare exp out &&
	dyn --format csv forecast --method mean --horizon 1 two.csv | cut -d, -f3 | tail -n 1 >out &&
	awk -F, "NR > 1 { s += \$3; n++ } END { print s / n }" two.csv >exp &&
	awk -v e="$(cat exp)" "{ d = \$1 - e; if (d < 0) d = -d; exit d > 1e-9 }" out
'

expect_success 'weekly forecasts are dated on Mondays, monthly on the 1st; partial periods are dropped' '
	dyn --format csv forecast --queue 6 --granularity week --horizon 3 $T/tickets.csv | cut -d, -f2 | tail -n 3 >out &&
	printf "2024-07-01\n2024-07-08\n2024-07-15\n" >exp && compare exp out &&
	dyn --format csv forecast --queue 6 --granularity month --horizon 2 $T/tickets.csv | cut -d, -f2 | tail -n 2 >out &&
	printf "2024-07-01\n2024-08-01\n" >exp && compare exp out &&
	dyn --format csv forecast --queue 6 --granularity week --horizon 1 --to 2024-06-27 $T/tickets.csv | cut -d, -f2 | tail -n 1 >out &&
	echo 2024-06-24 >exp && compare exp out
'

expect_success 'the default horizon is 28 days, 12 weeks or 6 months; horizon 366 works' '
	dyn --format csv forecast --queue 6 --method snaive $T/tickets.csv | test $(wc -l) -eq 29 &&
	dyn --format csv forecast --queue 6 --granularity month --method snaive $T/tickets.csv | test $(wc -l) -eq 7 &&
	dyn --format csv forecast --queue 6 --horizon 366 --from 2023-06-01 $T/tickets.csv >out &&
	test $(wc -l <out) -eq 367 && tail -n 1 out | grep -q "^6,2025-07-01," && ! grep -qi nan out
'

expect_success '--all skips parents without rows; --rollup forecasts them too' '
	dyn --format csv forecast --all --method snaive --horizon 1 --queues $T/queues.csv $T/tickets.csv >out &&
	test $(($(wc -l <out) - 1)) -eq 25 &&
	dyn --format csv forecast --all --rollup --method snaive --horizon 1 --queues $T/queues.csv $T/tickets.csv >out &&
	test $(($(wc -l <out) - 1)) -eq 36 &&
	grep -q "^1,2024-07-01," out
'

expect_success 'batch output is the same with 1 and 4 threads (automatic ETS, weekly)' '
	dyn --threads 1 --format csv forecast --all --granularity week --horizon 8 $T/tickets.csv >one &&
	dyn --threads 4 --format csv forecast --all --granularity week --horizon 8 $T/tickets.csv >four &&
	test $(wc -l <one) -eq 201 && compare one four
'

expect_success '--shard I/N: four shards together are the whole batch, each queue once' '
	dyn --format csv forecast --all --method snaive --horizon 2 $T/tickets.csv | tail -n +2 | sort >all &&
	for i in 1 2 3 4; do dyn --format csv forecast --all --shard $i/4 --method snaive --horizon 2 $T/tickets.csv | tail -n +2; done | sort >merged &&
	compare all merged &&
	for i in 1 2 3 4; do dyn --format csv forecast --all --shard $i/4 --method snaive --horizon 1 $T/tickets.csv | tail -n +2 | cut -d, -f1; done | sort | uniq -d >dups &&
	test ! -s dups
'

expect_success 'GNU parallel over 4 shards merged equals the single run' '
	command -v parallel >/dev/null || { echo "GNU parallel is not installed (apt-get install parallel)"; exit 1; }
	dyn --format csv forecast --all --granularity week --horizon 4 $T/tickets.csv | tail -n +2 | sort >single &&
	parallel --will-cite -j 4 "$DYN" --format csv forecast --all --shard {}/4 --granularity week --horizon 4 $T/tickets.csv ::: 1 2 3 4 |
		grep -v "^queue_id," | sort >sharded &&
	compare single sharded
'

expect_success '--backtest reports MASE, sMAPE and coverage, and the same for seasonal naive' '
	dyn --format csv forecast --queue 6 --backtest --horizon 28 $T/tickets.csv >out &&
	head -n 1 out >h &&
	echo "queue_id,method,n,horizon,mase,smape,coverage_80,coverage_95,snaive_mase,snaive_smape,snaive_coverage_80,snaive_coverage_95" >exp &&
	compare exp h &&
	tail -n 1 out | sed "s/\"[^\"]*\"/M/" | awk -F, "{ exit !(\$3 == 1249 && \$4 == 28 && \$5 > 0 && \$5 < 2 && \$6 > 0 && \$6 < 200 && \$7 >= 0 && \$7 <= 1 && \$9 > 0) }"
'

expect_success '--backtest with --method snaive equals its own benchmark' '
	dyn --format csv forecast --queue 6 --backtest --method snaive --horizon 14 $T/tickets.csv | tail -n 1 |
		sed "s/\"[^\"]*\"/M/" | awk -F, "{ exit !(\$5 == \$9 && \$6 == \$10) }"
'

expect_success 'JSON and NDJSON output' '
	dyn --format json forecast --horizon 2 two.csv >out && grep -q "\"hi_95\"" out &&
	dyn --format ndjson forecast --horizon 2 two.csv >out && test $(wc -l <out) -eq 2
'

expect_success '--plot writes a PNG and an SVG' '
	dyn --format csv forecast --queue 6 --horizon 60 --plot f.png --queues $T/queues.csv $T/tickets.csv >out &&
	test $(wc -l <out) -eq 61 &&
	od -An -c -N 4 f.png | grep -q "P   N   G" &&
	dyn forecast --queue 2 --rollup --granularity week --horizon 26 --plot f.svg --queues $T/queues.csv $T/tickets.csv >/dev/null &&
	grep -q "<svg" f.svg &&
	must_fail 2 dyn forecast --all --plot f.png $T/tickets.csv &&
	err_is "^dyn: option --plot: draws one queue.s forecast"
'

expect_success 'an unwritable plot file is a one-line error' '
	must_fail 1 dyn forecast --queue 6 --plot /nonexistent/dir/f.png $T/tickets.csv &&
	err_is "^dyn: option --plot: \"/nonexistent/dir/f.png\": cannot be written: No such file or directory$" && test ! -s out
'

expect_success '--missing skip: unknown days inside the history are interpolated, not zeros' '
	{ echo queueId,date,new_tickets; for d in 01 02 03 05 06 07 08 09 10 11 12 13 14; do echo "1,2024-01-$d,10"; done; } >gap.csv &&
	dyn --format csv forecast --method mean --horizon 1 --missing skip gap.csv | tail -n 1 | cut -d, -f3 >out &&
	echo 10 >exp && compare exp out &&
	dyn --format csv forecast --method mean --horizon 1 gap.csv | tail -n 1 | cut -d, -f3 >out &&
	awk "{ exit !(\$1 < 10) }" out
'

expect_success '-v names the method fitted to each queue on stderr' '
	dyn -v --format csv forecast --method snaive --horizon 1 two.csv >out 2>err &&
	grep -q "^dyn: queue \"1\": SNaive\|^dyn: queue \"1\": .*on 14 periods" err
'
expect_success '--level none: the point forecast without intervals' '
	dyn --format csv forecast --queue 6 --horizon 2 --level none "$TESTDATA/tickets/tickets.csv" >out &&
	test "$(head -n 1 out)" = "queue_id,date,value" && test "$(wc -l <out)" -eq 3
'

# Aggregated input: a week's (or month's) total stamped on its first day. The naive method
# forecasts the last value, so the last period kept and the dates are hand-checked.
wk() { # wk FIRST-DAY: 6 weekly rows 10..15 from that day (GNU date)
	printf "queueId,date,new_tickets\n"
	i=0
	while [ $i -lt 6 ]; do
		printf "1,%s,%s\n" "$(date -u -d "$1 + $((7 * i)) days" +%F)" $((10 + i))
		i=$((i + 1))
	done
}
for first in 2024-01-01:Mondays:2024-02-12 2024-01-07:Sundays:2024-02-18 2024-01-03:Wednesdays:2024-02-14; do
	d=${first%%:*} rest=${first#*:} words=${first#*:}
	words=${words%%:*} next=${rest#*:}
	expect_success "weekly rows on $words: the last week kept, forecasts stamped on $words" '
		wk '"$d"' >w.csv &&
		dyn -v --format csv forecast --method naive --level none --horizon 2 w.csv >out 2>err &&
		grep -q "one row a week (on '"$words"')" err && ! grep -q incomplete err &&
		test "$(sed -n 2p out)" = "1,'"$next"',15" &&
		test "$(wc -l <out)" -eq 3
	'
done
expect_success 'weekly series stamped on different weekdays: each forecast on its own; --rollup over them refused' '
	{ wk 2024-01-01; wk 2024-01-07 | tail -n +2 | sed "s/^1,/2,/"; } >mix.csv &&
	dyn --format csv forecast --all --method naive --level none --horizon 1 mix.csv >out 2>err &&
	printf "queue_id,date,value\n1,2024-02-12,15\n2,2024-02-18,15\n" >exp && compare exp out &&
	printf "id,name,level,parent_id\n0,all,1,\n1,a,2,0\n2,b,2,0\n" >mq.csv &&
	must_fail 1 dyn forecast --queues mq.csv --queue 0 --rollup mix.csv &&
	err_is "^dyn: --rollup: the weekly rows under queue \"0\" fall on different weekdays: their weeks do not add up$" &&
	dyn forecast --queues mq.csv --queue 0 --rollup --input-granularity day --horizon 1 mix.csv >/dev/null &&
	must_fail 2 dyn forecast --granularity day --queue 1 mix.csv &&
	err_is "one row a week \(each series on a weekday of its own\)"
'
expect_success 'monthly rows on the 1st and on the last day: months kept, stamped alike' '
	printf "queueId,date,new_tickets\n1,2024-01-01,5\n1,2024-02-01,6\n1,2024-03-01,7.5\n" >m1.csv &&
	dyn --format csv forecast --method naive --level none --horizon 2 m1.csv >out &&
	printf "queue_id,date,value\n1,2024-04-01,7.5\n1,2024-05-01,7.5\n" >exp && compare exp out &&
	printf "queueId,date,new_tickets\n1,2023-12-31,5\n1,2024-01-31,6\n1,2024-02-29,7\n" >m2.csv &&
	dyn --format csv forecast --method naive --level none --horizon 2 m2.csv >out &&
	printf "queue_id,date,value\n1,2024-03-31,7\n1,2024-04-30,7\n" >exp && compare exp out
'
expect_success 'aggregated input: another granularity is refused; --input-granularity is checked' '
	wk 2024-01-01 >w.csv &&
	must_fail 2 dyn forecast --granularity day w.csv &&
	err_is "^dyn: --granularity day: the data has one row a week \(on Mondays\); forecast it --granularity week$" &&
	dyn --format csv forecast --input-granularity day --method naive --level none --horizon 1 w.csv >out &&
	test "$(sed -n 2p out)" = "1,2024-02-06,15" &&
	printf "queueId,date,new_tickets\n1,2024-01-01,1\n1,2024-01-02,1\n" >d.csv &&
	must_fail 1 dyn forecast --input-granularity week d.csv &&
	err_is "^dyn: --input-granularity week: rows on 2024-01-01 \(a Monday\) and 2024-01-02 \(a Tuesday\) are not one row a week$"
'
expect_success 'daily data: an incomplete last week is left out, and said so' '
	awk -F, "NR == 1 || \$2 < \"2024-06-28\"" "$T/tickets.csv" >cut.csv &&
	dyn --format csv forecast --queue 6 --granularity week --horizon 1 --level none cut.csv >out 2>err &&
	err_is "^dyn: the last week \(from 2024-06-24: 4 of its 7 days in the data\) is incomplete: left out of 1 queue.s history$" &&
	grep -q "^6,2024-06-24," out &&
	dyn -q --format csv forecast --queue 6 --granularity week --horizon 1 cut.csv >/dev/null 2>err && test ! -s err
'
