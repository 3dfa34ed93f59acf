#!/bin/sh
# Training speed of a CRNN for text lines (issue 12) in lib/nn against the same network in
# PyTorch on CPU, in one run: bench/nn_ctc.c and bench/nn_ctc.py (1x32x128 images, batch 32,
# three 3x3 convolutions with batch norm, two 2x2 max pools, the (96, 8, 32) map as a sequence
# of 32 steps, a bidirectional LSTM of 128, a per-step classifier of 80 classes, CTC, AdamW).
# A run's figures are the median wall time of STEPS steps after 2 warm-up steps and the CPU
# time a step (all threads); dyn and PyTorch runs alternate (PAIRS pairs) at T = 1 and 2
# threads; medians of the runs and the ratios are printed (on a shared machine the CPU time is
# the steadier figure).
# ARCH=ocr times the default network of lib/ocr/crnn instead (1x32x384 images, a projection to
# 128 before the LSTM, 74 classes at 96 steps: the recognizer of bench/ocr_crnn.sh).
# usage: sh bench/nn_ctc.sh      env: PAIRS (3), STEPS (15), BATCH (32), ARCH (crnn or ocr). Needs build/libdyn.a
# (make) and python3-torch.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
OUT=${OUT:-bench/out/nn_ctc}
PAIRS=${PAIRS:-3}
STEPS=${STEPS:-15}
BATCH=${BATCH:-32}
ARCH=${ARCH:-crnn}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags openblas) \
	-o "$OUT/nn_ctc" bench/nn_ctc.c build/libdyn.a $libs $(pkg-config --libs openblas)
# as bench/nn_torch.sh: PyTorch's OpenMP threads wait passively (its best setting when shared)
export OMP_WAIT_POLICY=PASSIVE
med() { sort -g | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "network $ARCH, torch $("$PY" -c 'import torch; print(torch.__version__)'), $(nproc) cores, batch $BATCH, $STEPS steps a run, $PAIRS pairs"
for T in 1 2; do
	: >"$OUT/dyn-t$T"
	: >"$OUT/torch-t$T"
	for r in $(seq "$PAIRS"); do
		l0=$(cut -d' ' -f1 /proc/loadavg)
		"$OUT/nn_ctc" "$T" "$STEPS" "$BATCH" "$ARCH" >>"$OUT/dyn-t$T"
		"$PY" bench/nn_ctc.py "$T" "$STEPS" "$BATCH" "$ARCH" >>"$OUT/torch-t$T"
		set -- $(tail -1 "$OUT/dyn-t$T") $(tail -1 "$OUT/torch-t$T")
		printf 'T=%d pair %d (load %s): dyn %.3f s a step (%.0f images/s, cpu %.3f s), PyTorch %.3f s (%.0f images/s, cpu %.3f s)\n' \
			"$T" "$r" "$l0" "$1" "$(echo "$BATCH / $1" | bc -l)" "$2" "$3" "$(echo "$BATCH / $3" | bc -l)" "$4"
	done
	d=$(cut -d' ' -f1 "$OUT/dyn-t$T" | med)
	dc=$(cut -d' ' -f2 "$OUT/dyn-t$T" | med)
	t=$(cut -d' ' -f1 "$OUT/torch-t$T" | med)
	tc=$(cut -d' ' -f2 "$OUT/torch-t$T" | med)
	printf 'T=%d medians: dyn %.0f images/s, PyTorch %.0f images/s: dyn/PyTorch throughput %.2f; cpu a step dyn %.3f s, PyTorch %.3f s: ratio %.2f\n' \
		"$T" "$(echo "$BATCH / $d" | bc -l)" "$(echo "$BATCH / $t" | bc -l)" "$(echo "$t / $d" | bc -l)" \
		"$dc" "$tc" "$(echo "$tc / $dc" | bc -l)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
