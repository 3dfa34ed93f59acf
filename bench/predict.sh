#!/bin/sh
# Benchmark of `dyn predict` streaming and start-up, in one run:
#  1. throughput: 1,000,000 CSV rows of 30 numeric features through a logreg model, in MB/s of
#     input (target >= 100 MB/s), and the peak resident memory at 100,000 and 1,000,000 rows
#     (it must not grow with the row count);
#  2. start-up: predicting a single row from a stored model, against liblinear-predict on one
#     row with a model of the same size (target: dyn <= 2 x liblinear's wall time), timed with
#     hyperfine.
# usage: sh bench/predict.sh   (from the repository root, after make)
# Needs: liblinear-tools, hyperfine, time (Debian).
set -eu
DYN=${DYN:-./dyn}
OUT=${OUT:-bench/out/predict}
ROWS=${ROWS:-1000000}
for tool in liblinear-train liblinear-predict hyperfine /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "predict.sh: $tool not found; apt-get install liblinear-tools hyperfine time" >&2
		exit 1
	}
done
mkdir -p "$OUT"
export DYN_STORE="$OUT/store"

# Deterministic data: 30 features, label from a linear rule plus noise (awk's srand(1)).
gen() { # gen ROWS FILE
	awk -v n="$1" 'BEGIN {
		srand(1); OFS = ",";
		h = "y"; for (j = 1; j <= 30; j++) h = h ",f" j; print h;
		for (i = 0; i < n; i++) {
			s = 0; line = "";
			for (j = 1; j <= 30; j++) { x = rand() * 4 - 2; s += (j % 3 - 1) * x; line = line "," sprintf("%.6f", x) }
			print (s + rand() - 0.5 > 0 ? 1 : 0) line
		}
	}' >"$2"
}
[ -f "$OUT/train.csv" ] || gen 20000 "$OUT/train.csv"
[ -f "$OUT/rows.csv" ] && [ "$(wc -l <"$OUT/rows.csv")" -eq $((ROWS + 1)) ] || gen "$ROWS" "$OUT/rows.csv"
head -100001 "$OUT/rows.csv" >"$OUT/rows100k.csv"
head -2 "$OUT/rows.csv" >"$OUT/one.csv"

rm -rf "$DYN_STORE"
"$DYN" -q fit logreg --id bench --label y --test-fraction 0 "$OUT/train.csv" >/dev/null

bytes=$(wc -c <"$OUT/rows.csv")
best=
for run in 1 2 3; do
	t0=$(date +%s.%N)
	"$DYN" predict bench "$OUT/rows.csv" >/dev/null
	t1=$(date +%s.%N)
	t=$(echo "$t1 - $t0" | bc -l)
	if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" -eq 1 ]; then best=$t; fi
done
mbs=$(echo "$bytes / 1000000 / $best" | bc -l)
rss_small=$(/usr/bin/time -f %M "$DYN" predict bench "$OUT/rows100k.csv" 2>&1 >/dev/null | tail -1)
rss_big=$(/usr/bin/time -f %M "$DYN" predict bench "$OUT/rows.csv" 2>&1 >/dev/null | tail -1)
printf 'predict throughput: %d rows, %.1f MB in %.3f s best of 3 = %.1f MB/s (target >= 100)\n' \
	"$ROWS" "$(echo "$bytes / 1000000" | bc -l)" "$best" "$mbs"
printf 'predict peak RSS: %s KiB at 100,000 rows, %s KiB at %d rows\n' "$rss_small" "$rss_big" "$ROWS"

# liblinear on the same training data (libsvm format), one row to predict.
awk -F, 'NR > 1 { line = $1; for (j = 2; j <= NF; j++) line = line " " (j - 1) ":" $j; print line }' \
	"$OUT/train.csv" >"$OUT/train.svm"
awk -F, 'NR == 2 { line = $1; for (j = 2; j <= NF; j++) line = line " " (j - 1) ":" $j; print line }' \
	"$OUT/rows.csv" >"$OUT/one.svm"
liblinear-train -s 0 -q "$OUT/train.svm" "$OUT/ll.model" >/dev/null
hyperfine -N --warmup 20 --runs 300 --export-json "$OUT/startup.json" \
	"$DYN predict bench $OUT/one.csv" \
	"liblinear-predict -b 1 $OUT/one.svm $OUT/ll.model $OUT/ll.out" >"$OUT/hyperfine.txt" 2>&1 || {
	cat "$OUT/hyperfine.txt"
	exit 1
}
awk '/"mean"/ { gsub(/[^0-9.e-]/, "", $2); m[++n] = $2 } END {
	printf "start-up, one row: dyn %.2f ms, liblinear-predict %.2f ms: ratio %.2f (target <= 2)\n",
		m[1] * 1000, m[2] * 1000, m[1] / m[2] }' "$OUT/startup.json"
