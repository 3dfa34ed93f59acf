#!/bin/sh
# dyn mark at scale: imports 100,000 cards into a fresh marking database, then times 50
# rounds of `dyn mark next` and `dyn mark CARD MARKER` (issue target: under 10 ms each).
# Reports medians of the whole command (process start included; wall and CPU, which a busy
# machine inflates less) and of the database work alone (DYN_TRACE_PERF phases: open, hold a
# card / mark). /usr/bin/time measures at 10 ms resolution for CPU.
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

# each command's wall and CPU time (/usr/bin/time), and the phases DYN_TRACE_PERF names
i=0
: >"$work/times"
# perf stat gives the CPU time to the microsecond (/usr/bin/time to 10 ms) with the wall time
T="perf stat -x , -e task-clock -o"
# run OUT CMD...: runs CMD twice (the same card again: next holds it, mark is idempotent),
# timed alone for the wall time, then under perf stat for the CPU time (perf's own start would
# count in the wall time); OUT gets "wall_ms cpu_ms"
run() {
	o=$1
	shift
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	w=$(( ($(date +%s%N) - t0) / 1000 ))
	$T "$o.perf" "$@" >/dev/null 2>&1
	awk -F, -v w="$w" '/task-clock/ { c = $1 } END { printf "%.1f %.1f\n", w / 1000, c }' "$o.perf" >"$o"
}
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	u=u$((i % 4))
	DYN_TRACE_PERF=1 "$dyn" mark next --user "$u" --format json >"$work/next.json" 2>"$work/next.trace"
	run "$work/next.time" "$dyn" mark next --user "$u" --format json
	nt=$(cat "$work/next.time")
	card=$(sed -n 's/.*"card":[[:space:]]*\([0-9]*\).*/\1/p' "$work/next.json")
	DYN_TRACE_PERF=1 "$dyn" mark "$card" normal --user "$u" 2>"$work/mark.trace"
	run "$work/mark.time" "$dyn" mark "$card" normal --user "$u"
	mt=$(cat "$work/mark.time")
	nd=$(awk '/mark next: (open|hold)/ { s += $(NF - 1) } END { printf "%.3f", s * 1000 }' "$work/next.trace")
	md=$(awk '/mark: (open|mark)/ { s += $(NF - 1) } END { printf "%.3f", s * 1000 }' "$work/mark.trace")
	echo "$nt $mt $nd $md" >>"$work/times"
done
med() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
col() { cut -d' ' -f"$1" "$work/times" | med; }
echo "next: median $(col 1) ms a command (CPU $(col 2) ms), $(col 5) ms in the database (open + hold)"
echo "mark: median $(col 3) ms a command (CPU $(col 4) ms), $(col 6) ms in the database (open + mark)"
: >"$work/v"
for _ in 1 2 3 4 5 6 7 8 9; do
	run "$work/v.time" "$dyn" --version
	cat "$work/v.time" >>"$work/v"
done
echo "dyn --version: median $(cut -d' ' -f1 "$work/v" | med) ms (CPU $(cut -d' ' -f2 "$work/v" | med) ms): process start alone"
echo "database: $(du -h "$DYN_STORE/datasets/dynamograms.db" | cut -f1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$work"
