#!/bin/sh
# Accuracy of dyn's dynamogram network on real surface cards: 5-fold cross-validation of
# `dyn fit dynamogram` with its default settings on ../shared/data/dynamograms/oilfield12-half.csv
# (600 cards, 12 markers), for each seed given (default 0); prints each accuracy and the time
# taken, and with several seeds their mean: one seed's figure moves by 0.02-0.03 with the seed.
# usage: sh bench/dynamogram.sh [DATA] [SEED...]     (from the repository root, after `make`)
#        sh bench/dynamogram.sh "" 0 1 2             (the default data, seeds 0, 1 and 2)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/dynamograms/oilfield12-half.csv}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- 0
[ -r "$data" ] || {
	echo "dynamogram.sh: cannot read '$data'" >&2
	exit 1
}
store=${TMPDIR:-/tmp}/dyn-bench-dynamogram.$$
sum=0
for seed in "$@"; do
	rm -rf "$store"
	mkdir -p "$store"
	start=$(date +%s)
	"$root/dyn" --store "$store" --seed "$seed" -q fit dynamogram --cv 5 --no-refit --id bench \
		"$data" >/dev/null
	end=$(date +%s)
	"$root/dyn" --store "$store" models show bench --format json >"$store/bench.json"
	acc=$(sed -n 's/.*"accuracy":[[:space:]]*\([0-9.eE+-]*\).*/\1/p' "$store/bench.json" |
		head -n 1)
	echo "dynamogram benchmark: $(basename "$data"), 5-fold cross-validation, seed $seed"
	echo "accuracy $acc (target >= 0.90), $((end - start)) s wall, load average" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	sum=$(awk -v s="$sum" -v a="$acc" 'BEGIN { printf "%.10g", s + a }')
	rm -rf "$store"
done
[ $# -gt 1 ] && awk -v s="$sum" -v n=$# 'BEGIN { printf "mean accuracy over %d seeds %.4f\n", n, s / n }'
exit 0
