#!/bin/sh
# dyn stats --by summary vs GNU datamash (grouped mean, median and p95) on the same
# 10,000,000 ticket rows, generated deterministically. Prints both times and the throughput
# ratio (> 1 means dyn is faster). Usage: sh bench/stats.sh [ROWS]   (needs datamash, GNU time)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
DYN=${DYN:-$here/../dyn}
rows=${1:-10000000}
for t in datamash /usr/bin/time; do
	command -v $t >/dev/null || { echo "bench/stats.sh: needs $t (sh tools/deps.sh tools/bench-packages)" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dyn-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# 2,000 queues x (rows / 2,000) consecutive days from 2000-01-01; counts from an LCG with a
# weekly pattern. Rows are grouped by queue, as exports usually are (datamash -s sorts anyway).
nq=2000
awk -v rows="$rows" -v nq="$nq" 'BEGIN {
	ndays = int(rows / nq); split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
	# dates as text, once
	y = 2000; m = 1; d = 1
	for (i = 0; i < ndays; i++) {
		date[i] = sprintf("%04d-%02d-%02d", y, m, d)
		d++; feb = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
		lim = (m == 2) ? feb : ml[m]
		if (d > lim) { d = 1; m++; if (m > 12) { m = 1; y++ } }
	}
	print "queueId,date,new_tickets"
	s = 12345
	for (q = 1; q <= nq; q++)
		for (i = 0; i < ndays; i++) {
			s = (s * 1103515245 + 12345) % 2147483648
			print q "," date[i] "," (int(s / 65536) % 40) + ((i % 7) < 5 ? 20 : 0)
		}
}' >"$tmp/tickets.csv"
n=$(($(wc -l <"$tmp/tickets.csv") - 1))

# Wall-clock and CPU (user + system) seconds of each, by GNU time.
/usr/bin/time -f "%e %U %S" -o "$tmp/t.dyn" "$DYN" --format csv stats --by summary "$tmp/tickets.csv" >"$tmp/dyn.out"
LC_ALL=C /usr/bin/time -f "%e %U %S" -o "$tmp/t.dm" datamash -t, -s -H -g 1 mean 3 median 3 perc:95 3 <"$tmp/tickets.csv" >"$tmp/datamash.out"
read -r w1 u1 s1 <"$tmp/t.dyn"
read -r w2 u2 s2 <"$tmp/t.dm"

# The two must agree on what they both compute (mean, median, p95 of queue 1).
dm=$(awk -F, 'NR > 1 && $1 == "1" { print $2, $3, $4 }' "$tmp/datamash.out")
dy=$(awk -F, 'NR > 1 && $1 == "1" { print $13, $16, $19 }' "$tmp/dyn.out")
awk -v w1="$w1" -v c1="$(echo "$u1 $s1" | awk '{ print $1 + $2 }')" -v w2="$w2" \
	-v c2="$(echo "$u2 $s2" | awk '{ print $1 + $2 }')" -v n="$n" -v dm="$dm" -v dy="$dy" 'BEGIN {
	printf "rows: %d\n", n
	printf "dyn stats --by summary:   %.2f s wall, %.2f s CPU  (%.1f M rows/s)\n", w1, c1, n / w1 / 1e6
	printf "datamash mean/median/p95: %.2f s wall, %.2f s CPU  (%.1f M rows/s)\n", w2, c2, n / w2 / 1e6
	printf "throughput ratio dyn/datamash: %.2f (wall), %.2f (CPU)\n", w2 / w1, c2 / c1
	printf "queue 1 (mean median p95): dyn %s, datamash %s\n", dy, dm
}'
