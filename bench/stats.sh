#!/bin/sh
# dyn stats --by summary vs GNU datamash (grouped mean, median and p95) on the same
# 10,000,000 ticket rows, generated deterministically. Prints both times and the throughput
# ratio (> 1 means dyn is faster). Usage: sh bench/stats.sh [ROWS]   (needs datamash, awk)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
DYN=${DYN:-$here/../dyn}
rows=${1:-10000000}
command -v datamash >/dev/null || { echo "bench/stats.sh: needs datamash (apt-get install datamash)" >&2; exit 1; }
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

now() { date +%s.%N; }
t0=$(now)
"$DYN" --format csv stats --by summary "$tmp/tickets.csv" >"$tmp/dyn.out"
t1=$(now)
LC_ALL=C datamash -t, -s -H -g 1 mean 3 median 3 perc:95 3 <"$tmp/tickets.csv" >"$tmp/datamash.out"
t2=$(now)

# The two must agree on what they both compute (mean, median, p95 of queue 1).
dm=$(awk -F, 'NR > 1 && $1 == "1" { print $2, $3, $4 }' "$tmp/datamash.out")
dy=$(awk -F, 'NR > 1 && $1 == "1" { print $13, $16, $19 }' "$tmp/dyn.out")
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v n="$n" -v dm="$dm" -v dy="$dy" 'BEGIN {
	a = t1 - t0; b = t2 - t1
	printf "rows: %d\n", n
	printf "dyn stats --by summary:  %.2f s  (%.1f M rows/s)\n", a, n / a / 1e6
	printf "datamash mean/median/p95: %.2f s  (%.1f M rows/s)\n", b, n / b / 1e6
	printf "throughput ratio dyn/datamash: %.2f\n", b / a
	printf "queue 1 (mean median p95): dyn %s, datamash %s\n", dy, dm
}'
