#!/bin/sh
# Speed of lib/ocr: synthetic lines a second and order matching on a large table (bench/ocr.c
# says what is timed). Needs build/libdyn.a (make).
# usage: sh bench/ocr.sh [LINES [ROWS [QUERIES]]]
set -eu
OUT=${OUT:-bench/out/ocr}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o "$OUT/ocr" bench/ocr.c build/libdyn.a $libs
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/ocr" "$@"
