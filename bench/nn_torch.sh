#!/bin/sh
# Benchmark of dyn's dynamogram network (lib/nn) against the same network in PyTorch on CPU
# (bench/nn_torch.py, built from the dyn model's own params), in one run:
#  1. training throughput, cards/s, T = 1 and 2 threads (`dyn --threads T`, torch.set_num_threads):
#     the same cards (PER_MARKER generated cards of each of the 20 markers), input (10, points),
#     batch size, AdamW, EPOCHS epochs, augmentation off, no validation (--test-fraction 0),
#     the network nn_torch.py mirrors (--absolute false --series false --join false);
#     only the epochs are timed (dyn: the "seconds" of each epoch in `dyn models show --format
#     json`; PyTorch: the same loop timed in the script); a run's figure is its median epoch;
#     dyn's CPU seconds an epoch are (CPU of an EPOCHS run - CPU of a 1-epoch run) / (EPOCHS - 1);
#  2. predicting 10,000 cards, process start included: `dyn predict MODEL cards10k.csv` against
#     `nn_torch.py predict` (starts Python, imports torch, reads the CSV with the csv module,
#     computes the same inputs in numpy, runs dyn's stored weights in eval mode), both writing
#     card,label,probability to a file; their labels are compared;
#  3. lib/nn's convolution against OpenBLAS sgemm (bench/nn_conv.sh; NN_CONV=0 skips it).
# dyn and PyTorch runs alternate (PAIRS pairs); medians and ratios are printed.
# usage: sh bench/nn_torch.sh   (from the repository root, after make)
#        env: PAIRS (3), EPOCHS (5), PER_MARKER (100: 2,000 training cards), NN_CONV (1)
# Needs: python3-torch (installed with apt-get when missing), time (Debian).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
DYN=${DYN:-./dyn}
OUT=${OUT:-bench/out/nn_torch}
PAIRS=${PAIRS:-3}
EPOCHS=${EPOCHS:-5}
PER_MARKER=${PER_MARKER:-100}
mkdir -p "$OUT"
"$PY" -c 'import torch' 2>/dev/null || {
	echo python3-torch >"$OUT/packages"
	sh tools/deps.sh "$OUT/packages"
}
[ -x /usr/bin/time ] || { echo "nn_torch.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
[ -x "$DYN" ] || { echo "nn_torch.sh: build dyn first (make)" >&2; exit 1; }
export DYN_STORE="$OUT/store"
# PyTorch's OpenMP threads spin while they wait by default: on a shared machine a spinning
# thread takes the core its partner needs (2 threads ran 20x slower than 1 here); passive
# waiting is PyTorch's best setting, so it is the one compared.
export OMP_WAIT_POLICY=PASSIVE
train=$OUT/train-$PER_MARKER.csv
[ -s "$train" ] || "$DYN" mark generate -f --per-marker "$PER_MARKER" --points "$train"
# 10,000 cards that card_validate accepts (a generated card may be left open: dyn predict stops
# at a bad card), taken from 510 of each marker.
[ -s "$OUT/cards10k.csv" ] || {
	"$DYN" mark generate -f --per-marker 510 --points "$OUT/cards-raw.csv"
	awk -F, 'function flush(  xr, yr, s, g, i, d) {
			if (!n) return; xr = xmax - xmin; yr = ymax - ymin; s = 0
			for (i = 2; i <= n; i++) {
				d = sqrt(((x[i] - x[i - 1]) / xr) ^ 2 + ((y[i] - y[i - 1]) / yr) ^ 2)
				if (d > s) s = d
			}
			g = sqrt(((x[n] - x[1]) / xr) ^ 2 + ((y[n] - y[1]) / yr) ^ 2)
			if (!(g > 0.25 && g > 1.5 * s) && kept < 10000) { kept++; printf "%s", rows }
			n = 0; rows = ""
		}
		NR == 1 { print; next }
		$1 != cur { flush(); cur = $1 }
		{ n++; x[n] = $3; y[n] = $4; rows = rows $0 "\n"
		  if (n == 1 || $3 < xmin) xmin = $3; if (n == 1 || $3 > xmax) xmax = $3
		  if (n == 1 || $4 < ymin) ymin = $4; if (n == 1 || $4 > ymax) ymax = $4 }
		END { flush() }' "$OUT/cards-raw.csv" >"$OUT/cards10k.csv"
	rm -f "$OUT/cards-raw.csv"
}
med() { sort -g | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# cpu SECONDS of a /usr/bin/time -f '%e %U %S' file: user + sys
cpu() { tail -1 "$1" | awk '{ print $2 + $3 }'; }
# median epoch seconds and cards an epoch of `dyn models show --format json`
dyn_epochs() {
	"$PY" -c 'import json, statistics, sys
d = json.load(open(sys.argv[1]))
s = [e["seconds"] for e in d["training"]["epochs"]]
n, B = d["metrics"]["n"], min(d["params"]["batch_size"], d["metrics"]["n"])
print(statistics.median(s), n - 1 if n > 1 and n % B == 1 else n)' "$1"
}
torch_epochs() { # median epoch seconds, median epoch cpu, cards an epoch
	"$PY" -c 'import statistics, sys
e = [l.split() for l in open(sys.argv[1]) if l.startswith("epoch ")]
print(statistics.median(float(f[3]) for f in e), statistics.median(float(f[5]) for f in e), e[0][7])' "$1"
}

echo "dyn $("$DYN" --version | cut -d' ' -f2), torch $("$PY" -c 'import torch; print(torch.__version__)'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "training: $(($(wc -l <"$train") - 1)) point rows, $PER_MARKER cards of each of 20 markers; $EPOCHS epochs; $PAIRS alternated pairs"
fit() { # fit T EPOCHS ID
	/usr/bin/time -f '%e %U %S' -o "$OUT/$3.time" "$DYN" -q --threads "$1" fit dynamogram \
		--id "$3" --replace --label marker --epochs "$2" --augment false --test-fraction 0 \
		--absolute false --series false --join false "$train" >/dev/null
	"$DYN" models show "$3" --format json >"$OUT/$3.json"
}
for T in 1 2; do
	fit "$T" 1 "one-t$T"
	one=$(cpu "$OUT/one-t$T.time")
	: >"$OUT/dyn-t$T.runs"
	: >"$OUT/torch-t$T.runs"
	for r in $(seq "$PAIRS"); do
		fit "$T" "$EPOCHS" "train-t$T"
		set -- $(dyn_epochs "$OUT/train-t$T.json")
		dcpu=$(echo "($(cpu "$OUT/train-t$T.time") - $one) / ($EPOCHS - 1)" | bc -l)
		echo "$1 $dcpu $2" >>"$OUT/dyn-t$T.runs"
		"$PY" bench/nn_torch.py train "$OUT/train-t$T.json" "$train" "$T" "$EPOCHS" >"$OUT/torch-t$T-$r.txt"
		torch_epochs "$OUT/torch-t$T-$r.txt" >>"$OUT/torch-t$T.runs"
		tail -1 "$OUT/dyn-t$T.runs" | { read -r ds dc dn
			tail -1 "$OUT/torch-t$T.runs" | { read -r ts tc tn
				printf 'T=%d pair %d: dyn %.3f s an epoch (%.0f cards/s, cpu %.3f s), PyTorch %.3f s (%.0f cards/s, cpu %.3f s): dyn/PyTorch throughput %.2f\n' \
					"$T" "$r" "$ds" "$(echo "$dn / $ds" | bc -l)" "$dc" "$ts" "$(echo "$tn / $ts" | bc -l)" "$tc" "$(echo "$ts / $ds" | bc -l)"
			}
		}
	done
	ds=$(cut -d' ' -f1 "$OUT/dyn-t$T.runs" | med)
	dc=$(cut -d' ' -f2 "$OUT/dyn-t$T.runs" | med)
	ts=$(cut -d' ' -f1 "$OUT/torch-t$T.runs" | med)
	tc=$(cut -d' ' -f2 "$OUT/torch-t$T.runs" | med)
	dn=$(head -1 "$OUT/dyn-t$T.runs" | cut -d' ' -f3)
	tn=$(head -1 "$OUT/torch-t$T.runs" | cut -d' ' -f3)
	printf 'training T=%d, medians: dyn %.0f cards/s, PyTorch %.0f cards/s: ratio %.2f (target >= 1); cpu an epoch dyn %.3f s, PyTorch %.3f s: ratio %.2f\n' \
		"$T" "$(echo "$dn / $ds" | bc -l)" "$(echo "$tn / $ts" | bc -l)" \
		"$(echo "($dn / $ds) / ($tn / $ts)" | bc -l)" "$dc" "$tc" "$(echo "$tc / $dc" | bc -l)"
done

model=$DYN_STORE/$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["file"])' "$OUT/train-t1.json")
cards=$OUT/cards10k.csv
echo "predict: $(($(wc -l <"$cards") - 1)) point rows, 10000 cards, model train-t1 ($(wc -c <"$model") bytes)"
: >"$OUT/predict.runs"
for r in $(seq "$PAIRS"); do
	/usr/bin/time -f '%e %U %S' -o "$OUT/dyn-predict.time" "$DYN" predict train-t1 "$cards" >"$OUT/dyn.pred"
	/usr/bin/time -f '%e %U %S' -o "$OUT/torch-predict.time" "$PY" bench/nn_torch.py predict "$model" "$cards" >"$OUT/torch.pred"
	dw=$(tail -1 "$OUT/dyn-predict.time" | cut -d' ' -f1)
	tw=$(tail -1 "$OUT/torch-predict.time" | cut -d' ' -f1)
	echo "$dw $(cpu "$OUT/dyn-predict.time") $tw $(cpu "$OUT/torch-predict.time")" >>"$OUT/predict.runs"
	printf 'predict pair %d: dyn %.2f s (cpu %.2f), PyTorch %.2f s (cpu %.2f): dyn/PyTorch %.3f\n' \
		"$r" "$dw" "$(cpu "$OUT/dyn-predict.time")" "$tw" "$(cpu "$OUT/torch-predict.time")" "$(echo "$dw / $tw" | bc -l)"
done
dw=$(cut -d' ' -f1 "$OUT/predict.runs" | med)
dc=$(cut -d' ' -f2 "$OUT/predict.runs" | med)
tw=$(cut -d' ' -f3 "$OUT/predict.runs" | med)
tc=$(cut -d' ' -f4 "$OUT/predict.runs" | med)
printf 'predict 10000 cards, medians: dyn %.2f s (cpu %.2f), PyTorch %.2f s (cpu %.2f): ratio %.3f wall, %.3f cpu (target <= 0.2)\n' \
	"$dw" "$dc" "$tw" "$tc" "$(echo "$dw / $tw" | bc -l)" "$(echo "$dc / $tc" | bc -l)"
paste -d, "$OUT/dyn.pred" "$OUT/torch.pred" | awk -F, 'NR > 1 { n++; same += $2 == $5; d = $3 - $6
	if (d < 0) d = -d; if (d > m) m = d }
	END { printf "same label on %d of %d cards; largest probability difference %.2g\n", same, n, m }'

if [ "${NN_CONV:-1}" != 0 ]; then
	echo "convolution: sh bench/nn_conv.sh 5 2"
	sh bench/nn_conv.sh 5 2
fi
