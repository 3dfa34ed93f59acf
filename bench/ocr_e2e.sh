#!/bin/sh
# Reading a phone photo end to end (issue 12's budget: one 4032x3024 photo, matching included,
# under 0.5 s on 2 cores): `dyn predict MODEL PHOTO --match ORDERS` as a user runs it, process
# start, model load, JPEG decode with its Exif turn, text finding, recognition and the orders
# search included, one photo a process, wall and CPU medians. The photos and the orders table
# come from bench/ocr_photos.c. The model is MODEL (an id in DYN_STORE) or, without it, one
# trained here for a few seconds: the time of a read depends on the network's size, not on its
# training, but the readings (and so the matches printed) only mean something for a trained
# model.
# Then scores the readings against the photos' markings.
# usage: [MODEL=ID] [DYN_STORE=DIR] sh bench/ocr_e2e.sh [PHOTOS [ROWS]]
set -eu
N=${1:-9}
ROWS=${2:-20000}
OUT=${OUT:-bench/out/ocr_e2e}
DYN=${DYN:-$PWD/dyn}
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
[ -x "$DYN" ] || make -s dyn
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags stb) -o "$OUT/ocr_photos" \
	bench/ocr_photos.c build/libdyn.a $libs -lm
"$OUT/ocr_photos" "$OUT/photos" "$N" "$ROWS"
export DYN_STORE=${DYN_STORE:-$OUT/store}
if [ -z "${MODEL:-}" ]; then
	MODEL=bench-ocr-e2e
	"$DYN" models rm "$MODEL" >/dev/null 2>&1 || true
	"$DYN" --quiet --seed 1 fit ocr --id "$MODEL" --epochs 1 --lines 64 >/dev/null
fi
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), model $MODEL, $ROWS order rows"
: >"$OUT/times"
for f in "$OUT"/photos/p*.jpg; do
	/usr/bin/time -f "%e %U %S" -o "$OUT/t" "$DYN" predict "$MODEL" "$f" \
		--match "$OUT/photos/orders.csv" --top 1 >"$OUT/$(basename "$f" .jpg).csv"
	read -r wall user sys <"$OUT/t"
	echo "$(basename "$f") wall $wall s, cpu $(echo "$user + $sys" | bc) s"
	echo "$wall $(echo "$user + $sys" | bc)" >>"$OUT/times"
done
sort -n -k1 "$OUT/times" | awk '{ w[NR] = $1 } END { printf "median wall %.3f s over %d photos (target < 0.5 s)\n", w[int((NR + 1) / 2)], NR }'
sort -n -k2 "$OUT/times" | awk '{ c[NR] = $2 } END { printf "median cpu  %.3f s\n", c[int((NR + 1) / 2)] }'
# How right the readings are: the photo's text against its marking (its first straight line in
# truth.csv, the one its order row holds: ocr_photos.c), as character error rate and exact
# readings, also with Latin and Cyrillic look-alikes folded; and whether the first order row is
# the photo's own (photo pNNN's order is ORD-000NNN).
/usr/bin/python3 - "$OUT" <<'PY'
import csv, os, sys
out = sys.argv[1]
def lev(a, b):
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[len(b)]
ALIKE = str.maketrans("АВЕЁКМНОРСТХУ", "ABEEKMHOPCTXY")
def fold(s):
    return s.upper().translate(ALIKE)
truth = {}
for r in csv.DictReader(open(os.path.join(out, "photos/truth.csv"))):
    if r["ring"] == "0" and r["file"] not in truth:
        truth[r["file"]] = r["text"]
n = exact = fexact = found = 0
errs = ferrs = chars = 0
for f, t in sorted(truth.items()):
    p = os.path.join(out, f[:-4] + ".csv")
    rows = list(csv.DictReader(open(p))) if os.path.exists(p) else []
    got = rows[0] if rows else {}
    text = got.get("text") or ""
    n += 1
    exact += text == t
    fexact += fold(text) == fold(t)
    errs += lev(text, t)
    ferrs += lev(fold(text), fold(t))
    chars += len(t)
    found += got.get("order", "") == "ORD-%06d" % int(f[1:4])
print("readings: CER %.1f%% (%.1f%% look-alikes folded), exact %d (%d) of %d; "
      "first order row the photo's own: %d of %d"
      % (100.0 * errs / max(chars, 1), 100.0 * ferrs / max(chars, 1), exact, fexact, n, found, n))
PY
