#!/bin/sh
# Writes testdata/ocr/stamped.jpg, the small photo of tests/t7100-ocr.sh: one marking line
# stamped on a textured metal plate, drawn by dyn's own generator (ocr_synth_photo, seed 8, gray,
# 1200x900, upright), the close-up around its line cut out (tools/ocr_photo.c) and saved as a
# JPEG of quality 80, with its text and box in testdata/ocr/stamped.txt. The same seed gives
# the same photo on every machine.
# Needs build/libdyn.a (make) and libstb-dev. usage: sh tools/make-ocr-photo.sh
set -eu
cd "$(dirname "$0")/.."
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags stb) -o "$out/ocr_photo" \
	tools/ocr_photo.c build/libdyn.a $libs
"$out/ocr_photo" ${SEED:-8} 1200 900 80 testdata/ocr/stamped.jpg testdata/ocr/stamped.txt
