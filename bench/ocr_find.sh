#!/bin/sh
# Text finding in photos (bench/ocr_find.c says what is timed and counted). Needs
# build/libdyn.a (make).
# usage: sh bench/ocr_find.sh [TIMED [RECALL [SIDE]]]
set -eu
OUT=${OUT:-bench/out/ocr_find}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags stb) -o "$OUT/ocr_find" bench/ocr_find.c \
	build/libdyn.a $libs -lm
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/ocr_find" "$@"
