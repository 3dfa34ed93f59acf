#!/bin/sh
# Speed of the pose UNet of issue 11 in lib/nn against the same network in PyTorch on CPU, in
# one run: bench/pose_unet.c (the network lib/nn/backbone.c describes: unet, 1x128x160 input,
# 16-256 filters, batch norm, output stride 2, 4 maps) and bench/pose_torch.py (its mirror).
#  1. training: a step is forward, MSE on the maps, backward and an Adam update, batch 4;
#  2. inference: one forward in eval mode, batch 8;
# each at T = 1 and 2 threads (nn_net_desc.threads; torch.set_num_threads), a run's figure the
# median of STEPS steps after 2 warm-up steps, and its CPU time a step (all threads: the median
# step's getrusage user + system); dyn and PyTorch runs alternate (PAIRS pairs); medians of the
# runs and the ratios are printed;
#  3. inference with decoding: the openfield video decoded by lib/vision/video.h to gray 160x128
#     (one decoding thread) and run through the network in batches of 8, at T = 1 and 2,
#     VPAIRS runs each, over its first FRAMES frames (0: the whole video, 2,330 frames, which
#     takes minutes a run on a shared machine).
# The bench program loads OpenBLAS as dyn does (on first use), so that dyn picks its kernels
# (lib/base/blas.c) unless OPENBLAS_CORETYPE says otherwise; the first line names the core.
# Per layer: `bench/out/pose/pose_unet profile T STEPS` and `pose_torch.py profile T STEPS`.
# usage: sh bench/pose_unet.sh   env: PAIRS (3), STEPS (10), VPAIRS (1), FRAMES (800), VIDEO. Needs
# build/libdyn.a (make) and python3-torch.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
OUT=${OUT:-bench/out/pose}
PAIRS=${PAIRS:-3}
STEPS=${STEPS:-10}
FRAMES=${FRAMES:-800}
VPAIRS=${VPAIRS:-1}
VIDEO=${VIDEO:-../shared/data/pose/openfield/videos/m3v1mp4.mp4}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags openblas) \
	-o "$OUT/pose_unet" bench/pose_unet.c build/libdyn.a $libs
# as bench/nn_torch.sh: PyTorch's OpenMP threads wait passively (its best setting when shared)
export OMP_WAIT_POLICY=PASSIVE
med() { sort -g | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "torch $("$PY" -c 'import torch; print(torch.__version__)'), OpenBLAS core $("$OUT/pose_unet" core) (OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}), $(nproc) cores, $STEPS steps a run, $PAIRS pairs, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in train infer; do
	B=4
	[ "$mode" = infer ] && B=8
	for T in 1 2; do
		: >"$OUT/dyn-$mode-t$T"
		: >"$OUT/torch-$mode-t$T"
		for r in $(seq "$PAIRS"); do
			l0=$(cut -d' ' -f1 /proc/loadavg)
			"$OUT/pose_unet" "$mode" "$T" "$STEPS" "$B" >>"$OUT/dyn-$mode-t$T"
			"$PY" bench/pose_torch.py "$mode" "$T" "$STEPS" "$B" >>"$OUT/torch-$mode-t$T"
			set -- $(tail -1 "$OUT/dyn-$mode-t$T") $(tail -1 "$OUT/torch-$mode-t$T")
			[ "$3" = "$7" ] || { echo "pose_unet.sh: parameter counts differ: dyn $3, PyTorch $7" >&2; exit 1; }
			printf '%s T=%d pair %d (load %s): dyn %.3f s a step (%.1f frames/s, cpu %.3f s), PyTorch %.3f s (%.1f frames/s, cpu %.3f s); %d parameters each\n' \
				"$mode" "$T" "$r" "$l0" "$1" "$(echo "$B / $1" | bc -l)" "$4" "$5" "$(echo "$B / $5" | bc -l)" "$8" "$3"
		done
		d=$(cut -d' ' -f1 "$OUT/dyn-$mode-t$T" | med)
		dc=$(cut -d' ' -f4 "$OUT/dyn-$mode-t$T" | med)
		t=$(cut -d' ' -f1 "$OUT/torch-$mode-t$T" | med)
		tc=$(cut -d' ' -f4 "$OUT/torch-$mode-t$T" | med)
		printf '%s T=%d medians: dyn %.1f frames/s, PyTorch %.1f frames/s: dyn/PyTorch throughput %.2f; cpu a step dyn %.3f s, PyTorch %.3f s: ratio %.2f\n' \
			"$mode" "$T" "$(echo "$B / $d" | bc -l)" "$(echo "$B / $t" | bc -l)" "$(echo "$t / $d" | bc -l)" \
			"$dc" "$tc" "$(echo "$tc / $dc" | bc -l)"
	done
done
if [ -r "$VIDEO" ]; then
	for T in 1 2; do
		: >"$OUT/video-t$T"
		for r in $(seq "$VPAIRS"); do
			l0=$(cut -d' ' -f1 /proc/loadavg)
			"$OUT/pose_unet" video "$T" "$VIDEO" "$FRAMES" 1 8 >>"$OUT/video-t$T"
			set -- $(tail -1 "$OUT/video-t$T")
			printf 'video T=%d run %d (load %s): %d frames in %.2f s (%.1f frames/s; cpu %.2f s, %.1f frames/cpu-s; %.2f s in vid_next)\n' \
				"$T" "$r" "$l0" "$1" "$2" "$(echo "$1 / $2" | bc -l)" "$3" "$(echo "$1 / $3" | bc -l)" "$4"
		done
		n=$(head -1 "$OUT/video-t$T" | cut -d' ' -f1)
		w=$(cut -d' ' -f2 "$OUT/video-t$T" | med)
		c=$(cut -d' ' -f3 "$OUT/video-t$T" | med)
		printf 'video T=%d medians: %d frames, %.1f frames/s wall (target >= 60), %.1f frames a CPU second\n' \
			"$T" "$n" "$(echo "$n / $w" | bc -l)" "$(echo "$n / $c" | bc -l)"
	done
else
	echo "pose_unet.sh: $VIDEO not found: no video figures"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
