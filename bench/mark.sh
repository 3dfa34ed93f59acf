#!/bin/sh
# dyn mark at scale: imports 100,000 cards into a fresh marking database, then times 50
# rounds of `dyn mark next` and `dyn mark CARD MARKER` (issue target: under 10 ms each).
# Reports medians of the whole command (process start included) and of the database work
# alone (DYN_TRACE_PERF phases: open, hold a card / mark).
# usage: sh bench/mark.sh [CARDS] [ROUNDS]     (from the repository root, after `make`)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dyn=$root/dyn
cards=${1:-100000}
rounds=${2:-50}
work=${TMPDIR:-/tmp}/dyn-bench-mark
rm -rf "$work"
mkdir -p "$work"
export DYN_STORE="$work/store"

# Distinct 32-point cards (an ellipse of random size, tilt and noise each): the number of
# points does not change what next and mark do, only the import's size.
awk -v n="$cards" 'BEGIN {
	srand(1); print "card,position,load"
	for (c = 0; c < n; c++) {
		s = 1 + 5 * rand(); f = 20 + 80 * rand(); w = 0.2 + 0.6 * rand()
		for (i = 0; i < 32; i++) {
			t = 6.283185307 * i / 32
			printf "k%d,%.5f,%.4f\n", c, s * (1 - cos(t)) / 2, f * (1 + w * sin(t) + 0.01 * rand())
		}
	}
}' >"$work/cards.csv"

t0=$(date +%s.%N)
"$dyn" mark import "$work/cards.csv" >/dev/null
t1=$(date +%s.%N)
n=$("$dyn" mark stats --format json | sed -n 's/^[[:space:]]*"cards":[[:space:]]*\([0-9]*\),/\1/p' | head -n 1)
echo "mark benchmark: $n cards imported in $(echo "$t1 - $t0" | bc) s; $rounds rounds of next + mark"

# ms of one command (wall), and of the phases named in DYN_TRACE_PERF's output
i=0
: >"$work/times"
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	a=$(date +%s%N)
	DYN_TRACE_PERF=1 "$dyn" mark next --user "u$((i % 4))" --format json >"$work/next.json" 2>"$work/next.trace"
	b=$(date +%s%N)
	card=$(sed -n 's/.*"card":[[:space:]]*\([0-9]*\).*/\1/p' "$work/next.json")
	DYN_TRACE_PERF=1 "$dyn" mark "$card" normal --user "u$((i % 4))" 2>"$work/mark.trace"
	c=$(date +%s%N)
	nd=$(awk '/mark next: (open|hold)/ { s += $(NF - 1) } END { printf "%.3f", s * 1000 }' "$work/next.trace")
	md=$(awk '/mark: (open|mark)/ { s += $(NF - 1) } END { printf "%.3f", s * 1000 }' "$work/mark.trace")
	echo "$(( (b - a) / 1000 )) $(( (c - b) / 1000 )) $nd $md" >>"$work/times"
done
med() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
echo "next: median $(cut -d' ' -f1 "$work/times" | med | awk '{ printf "%.1f", $1 / 1000 }') ms a command, $(cut -d' ' -f3 "$work/times" | med) ms in the database (open + hold)"
echo "mark: median $(cut -d' ' -f2 "$work/times" | med | awk '{ printf "%.1f", $1 / 1000 }') ms a command, $(cut -d' ' -f4 "$work/times" | med) ms in the database (open + mark)"
echo "dyn --version: median $(for _ in 1 2 3 4 5 6 7 8 9; do a=$(date +%s%N); "$dyn" --version >/dev/null; b=$(date +%s%N); echo $(( (b - a) / 1000 )); done | med | awk '{ printf "%.1f", $1 / 1000 }') ms (process start alone)"
echo "database: $(du -h "$DYN_STORE/datasets/dynamograms.db" | cut -f1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$work"
