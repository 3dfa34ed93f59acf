#!/bin/sh
# Throughput of the record reader alone (CSV parsing + rec_number on every field), on a
# generated CSV of ROWS rows x 30 numeric columns (default 1,000,000 rows, ~235 MB).
# Usage: make && sh bench/io-read.sh [ROWS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
work=${TMPDIR:-/tmp}/dyn-bench-io
mkdir -p "$work"
data=$work/rows-$rows.csv
if [ ! -s "$data" ]; then
	awk -v n="$rows" 'BEGIN {
		srand(1)
		for (j = 0; j < 30; j++) printf "%sf%d", (j ? "," : ""), j
		printf "\n"
		for (i = 0; i < n; i++) {
			for (j = 0; j < 30; j++) printf "%s%.4f", (j ? "," : ""), (rand() - 0.5) * 60
			printf "\n"
		}
	}' >"$data"
fi
cflags=$(pkg-config --cflags libcjson)
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$here/lib" $cflags -o "$work/io_read" \
	"$here/bench/io_read.c" "$here/build/libdyn.a" -lcjson -larchive -lcsv -lm
echo "$(date -u +%Y-%m-%dT%H:%MZ) io_read $data"
"$work/io_read" "$data"
gzip -1 -c "$data" >"$work/rows.csv.gz"
echo "gzip -1 compressed input (MB/s of uncompressed CSV):"
"$work/io_read" "$work/rows.csv.gz" "$(wc -c <"$data")" | sed 's/^/  (gz) /'
