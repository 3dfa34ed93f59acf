#!/bin/sh
# Accuracy of dyn's dynamogram network on real surface cards: 5-fold cross-validation of
# `dyn fit dynamogram` with its default settings on ../shared/data/dynamograms/oilfield12-half.csv
# (600 cards, 12 markers), fixed seed; prints the accuracy and the time taken.
# usage: sh bench/dynamogram.sh [DATA] [SEED]     (from the repository root, after `make`)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/dynamograms/oilfield12-half.csv}
seed=${2:-0}
[ -r "$data" ] || {
	echo "dynamogram.sh: cannot read '$data'" >&2
	exit 1
}
store=${TMPDIR:-/tmp}/dyn-bench-dynamogram
rm -rf "$store"
mkdir -p "$store"
start=$(date +%s)
"$root/dyn" --store "$store" --seed "$seed" -q fit dynamogram --cv 5 --no-refit --id bench \
	"$data" >/dev/null
end=$(date +%s)
"$root/dyn" --store "$store" models show bench --format json >"$store/bench.json"
acc=$(sed -n 's/.*"accuracy":[[:space:]]*\([0-9.eE+-]*\).*/\1/p' "$store/bench.json" | head -n 1)
echo "dynamogram benchmark: $(basename "$data"), 5-fold cross-validation, seed $seed"
echo "accuracy $acc (target >= 0.90), $((end - start)) s wall, load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$store"
