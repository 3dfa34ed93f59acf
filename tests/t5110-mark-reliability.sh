#!/bin/sh
# dyn mark under load: 16 processes importing, asking for cards and marking at once on one
# store lose no mark and never hand one card to two users; imports killed with SIGKILL leave a
# consistent database that a second import completes without duplicates.
. "$(dirname "$0")/lib.sh"

db=$DYN_STORE/datasets/dynamograms.db
ncards() { sqlite3 "$db" "SELECT count(*) FROM cards"; }
card_of() { sed -n 's/.*"card":[[:space:]]*\([0-9]*\).*/\1/p'; }

# 120 unlabeled cards to hand out; 4 more sets of 40 to import during the marking
dyn --seed 11 mark generate --per-marker 6 --points base.csv
cut -d, -f1,3,4 base.csv >base-u.csv
for i in 1 2 3 4; do
	dyn --seed "2$i" mark generate --per-marker 2 --points "more$i.csv"
done
dyn mark import base-u.csv >/dev/null

# A marker: asks for a card, marks it, N times; logs "user card" for each card it got.
marker() {
	u=$1
	for _ in 1 2 3 4 5 6; do
		c=$("$DYN" mark next --user "$u" --format json | card_of) || return 1
		[ -n "$c" ] || return 1
		echo "$u $c" >>"log.$u"
		"$DYN" mark "$c" normal --user "$u" || return 1
	done
}

expect_success '16 processes mark and import at once: nothing lost, no card handed twice' '
	pids= &&
	for u in 1 2 3 4 5 6 7 8 9 10 11 12; do
		marker "u$u" 2>"err.u$u" & pids="$pids $!"
	done &&
	for i in 1 2 3 4; do
		"$DYN" mark import "more$i.csv" --user "imp$i" >/dev/null 2>"err.imp$i" & pids="$pids $!"
	done &&
	fails=0 && for p in $pids; do wait "$p" || fails=$((fails + 1)); done &&
	cat err.* && test "$fails" -eq 0 &&
	cat log.u* >all.log && test "$(wc -l <all.log)" -eq 72 &&
	test "$(cut -d" " -f2 all.log | sort | uniq -d | wc -l)" -eq 0 &&
	for u in 1 2 3 4 5 6 7 8 9 10 11 12; do
		n=$(sqlite3 "$db" "SELECT count(*) FROM marks WHERE user = '"'"'u$u'"'"'") &&
		test "$n" -eq 6 || exit 1
	done &&
	test "$(ncards)" -eq $((120 + 4 * 40)) &&
	test "$(sqlite3 "$db" "SELECT count(*) FROM marks WHERE user LIKE '"'"'imp%'"'"'")" -eq 160 &&
	test "$(sqlite3 "$db" "SELECT count(*) FROM holds")" -eq 0 &&
	test "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok
'

# 1,000 cards for the kill trials: an import long enough to be killed part way
dyn --seed 12 mark generate --per-marker 50 --points big.csv
cut -d, -f1,3,4 big.csv >big-u.csv

expect_success 'imports killed with SIGKILL 20 times: consistent, then completed without duplicates' '
	t0=$(date +%s%N) && DYN_STORE=$PWD/clean "$DYN" mark import big-u.csv >/dev/null &&
	ms=$(( ($(date +%s%N) - t0) / 1000000 )) &&
	want=$(sqlite3 clean/datasets/dynamograms.db "SELECT count(*) FROM cards") &&
	test "$want" -ge 950 && : >kept &&
	i=0 && while [ $i -lt 20 ]; do
		i=$((i + 1))
		rm -rf killed
		DYN_STORE=$PWD/killed "$DYN" mark import big-u.csv >/dev/null 2>&1 & p=$!
		# at i/21 of the time a whole import took, whatever this machine'"'"'s speed
		d=$((i * ms / 21)) && sleep "$((d / 1000)).$(printf "%03d" $((d % 1000)))"
		kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
		f=killed/datasets/dynamograms.db n=0
		if [ -f $f ]; then
			test "$(sqlite3 $f "PRAGMA integrity_check")" = ok || exit 1
			n=$(sqlite3 $f "SELECT count(*) FROM cards")
			# what was kept is the first n cards the whole import keeps, in its order:
			# whole transactions, nothing half-written
			sqlite3 clean/datasets/dynamograms.db "SELECT source FROM cards ORDER BY id" |
				head -n "$n" >want.src &&
			sqlite3 $f "SELECT source FROM cards ORDER BY id" >got.src &&
			cmp -s want.src got.src || { echo "not a prefix: $n cards"; exit 1; }
		fi
		echo "$n" >>kept
		DYN_STORE=$PWD/killed "$DYN" mark import big-u.csv >last.csv || exit 1
		test "$(sqlite3 $f "SELECT count(*) FROM cards")" -eq "$want" || exit 1
		test "$(sqlite3 $f "SELECT count(DISTINCT hash) FROM cards")" -eq "$want" || exit 1
		test "$(grep -c ",duplicate," last.csv)" -eq "$n" || exit 1
		test "$(sqlite3 $f "PRAGMA integrity_check")" = ok || exit 1
	done &&
	# some kills landed part way through (else this tested nothing)
	awk -v w="$want" "\$1 > 0 && \$1 < w { m = 1 } END { exit !m }" kept
'

expect_success 'an import read by head prints only cards it kept (then SIGPIPE ends it)' '
	rm -rf piped &&
	DYN_STORE=$PWD/piped "$DYN" mark import big-u.csv | head -n 3 >head.csv &&
	test "$(wc -l <head.csv)" -eq 3 &&
	for id in $(sed 1d head.csv | cut -d, -f1); do
		test "$(sqlite3 piped/datasets/dynamograms.db \
			"SELECT count(*) FROM cards WHERE id = $id")" -eq 1 || exit 1
	done &&
	test "$(sqlite3 piped/datasets/dynamograms.db "PRAGMA integrity_check")" = ok
'

echo "1..$test_count"
