#!/bin/sh
# Accuracy of the line recognizer (issue 12) against Tesseract 5 on the same held-out lines, in
# one run: bench/ocr_crnn.c trains the default CRNN (lib/ocr/crnn) on generated marking lines
# for MINUTES, reads TEST held-out lines (a run seed no training saw) and writes them as PNG;
# then Debian's tesseract (--psm 7, one text line, languages eng+rus when installed) reads the
# same PNGs and both are scored by character error rate and exact-line accuracy.
# usage: sh bench/ocr_crnn.sh [MINUTES [THREADS [TEST [EPOCHS]]]]   (defaults 15, 2, 500, 10)
# Needs build/libdyn.a (make); tesseract-ocr (and tesseract-ocr-rus) for the comparison.
set -eu
cd "$(dirname "$0")/.."
MIN=${1:-15}
THREADS=${2:-2}
TEST=${3:-500}
EPOCHS=${4:-10}
OUT=${OUT:-bench/out/ocr_crnn}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o "$OUT/ocr_crnn" bench/ocr_crnn.c build/libdyn.a $libs
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/ocr_crnn" train "$MIN" "$THREADS" "$TEST" "$OUT" "$EPOCHS"
if ! command -v tesseract >/dev/null; then
	echo "tesseract: not installed (Debian tesseract-ocr): no comparison"
	exit 0
fi
langs=eng
tesseract --list-langs 2>/dev/null | grep -qx rus && langs=eng+rus
echo "$(tesseract --version 2>&1 | head -1), languages $langs, --psm 7 (load $(cut -d' ' -f1 /proc/loadavg))"
: >"$OUT/tesseract.txt"
t0=$(date +%s)
for f in "$OUT"/test/*.png; do
	# one line of output per image: tesseract's lines joined by a space
	OMP_THREAD_LIMIT=1 tesseract "$f" - --psm 7 -l "$langs" 2>/dev/null | tr '\n\f' '  ' >>"$OUT/tesseract.txt"
	echo >>"$OUT/tesseract.txt"
done
t1=$(date +%s)
"$OUT/ocr_crnn" score "$OUT/truth.txt" "$OUT/tesseract.txt" | sed 's/^score/tesseract/'
echo "tesseract: $((t1 - t0)) s for $TEST lines (one process a line); load after $(cut -d' ' -f1-3 /proc/loadavg)"
