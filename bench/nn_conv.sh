#!/bin/sh
# Speed of lib/nn's convolution (forward + backward) against OpenBLAS sgemm on the same
# products, in one run: bench/nn_conv.c says what is timed. Needs build/libdyn.a (make).
# usage: sh bench/nn_conv.sh [R] [T]     (R alternated runs, default 5; T threads, default 2)
set -eu
OUT=${OUT:-bench/out/nn_conv}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags openblas) \
	-o "$OUT/nn_conv" bench/nn_conv.c build/libdyn.a $libs $(pkg-config --libs openblas)
echo "openblas: $(pkg-config --modversion openblas), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/nn_conv" "${1:-5}" "${2:-2}"
