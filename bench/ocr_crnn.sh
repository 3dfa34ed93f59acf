#!/bin/sh
# Accuracy of the line recognizer (issue 12) against Tesseract 5 on the same held-out lines, in
# one run: bench/ocr_crnn.c trains the default CRNN (lib/ocr/crnn) on generated marking lines
# for MINUTES, reads TEST held-out lines (a run seed no training saw) and writes them as PNG;
# then Debian's tesseract (--psm 7, one text line, languages eng+rus when installed) reads the
# same PNGs and both are scored by character error rate and exact-line accuracy.
# usage: sh bench/ocr_crnn.sh [MINUTES [THREADS [TEST [EPOCH_LINES]]]]   (defaults 15, 2, 500, 2000)
# Needs build/libdyn.a (make); tesseract-ocr (and tesseract-ocr-rus) for the comparison.
set -eu
cd "$(dirname "$0")/.."
MIN=${1:-15}
THREADS=${2:-2}
TEST=${3:-500}
EPOCH_LINES=${4:-2000}
OUT=${OUT:-bench/out/ocr_crnn}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o "$OUT/ocr_crnn" bench/ocr_crnn.c build/libdyn.a $libs
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/ocr_crnn" train "$MIN" "$THREADS" "$TEST" "$OUT" "$EPOCH_LINES"
if ! command -v tesseract >/dev/null; then
	echo "tesseract: not installed (Debian tesseract-ocr): no comparison"
	exit 0
fi
langs=eng
tesseract --list-langs 2>/dev/null | grep -qx rus && langs=eng+rus
echo "$(tesseract --version 2>&1 | head -1), languages $langs, --psm 7 (load $(cut -d' ' -f1 /proc/loadavg))"
rm -rf "$OUT/tess"
mkdir -p "$OUT/tess"
t0=$(date +%s)
# two tesseract processes at a time, one thread each; one output line per image: its lines
# joined by a space
ls "$OUT"/test/*.png | xargs -P 2 -I{} sh -c \
	'OMP_THREAD_LIMIT=1 tesseract "$1" - --psm 7 -l "$2" 2>/dev/null | tr "\n\f" "  " >"$3/$(basename "$1" .png).txt"' \
	sh {} "$langs" "$OUT/tess"
t1=$(date +%s)
for f in "$OUT"/test/*.png; do
	cat "$OUT/tess/$(basename "$f" .png).txt"
	echo
done >"$OUT/tesseract.txt"
"$OUT/ocr_crnn" score "$OUT/truth.txt" "$OUT/tesseract.txt" | sed 's/^score/tesseract/'
echo "tesseract: $((t1 - t0)) s for $TEST lines (one process a line, two at a time); load after $(cut -d' ' -f1-3 /proc/loadavg)"
