#!/bin/sh
# How well the line recognizer's confidences separate right readings from wrong ones (issue 12):
# bench/ocr_conf.c trains a CRNN on generated lines for MINUTES and prints each measure's ROC AUC
# on TEST held-out lines, and the accuracy of the readings above 0.5 and 0.9.
# usage: sh bench/ocr_conf.sh [MINUTES [THREADS [TEST [CHANNELS HIDDEN [EFFECTS [LSTM_LAYERS]]]]]]
#        (defaults 6, 1, 400); MINUTES may be a stored model's .safetensors file, read instead of
#        training one (then CHANNELS, HIDDEN, 1, LSTM_LAYERS give its size when not the default)
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/ocr_conf}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o "$OUT/ocr_conf" bench/ocr_conf.c build/libdyn.a $libs
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/ocr_conf" "${1:-6}" "${2:-1}" "${3:-400}" ${4:+"$4"} ${5:+"$5"} ${6:+"$6"} ${7:+"$7"}
