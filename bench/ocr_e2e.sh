#!/bin/sh
# Reading a phone photo end to end (issue 12's budget: one 4032x3024 photo, matching included,
# under 0.5 s on 2 cores): `dyn predict MODEL PHOTO --match ORDERS` as a user runs it, process
# start, model load, JPEG decode with its Exif turn, text finding, recognition and the orders
# search included, one photo a process, wall and CPU medians. The photos and the orders table
# come from bench/ocr_photos.c. The model is MODEL (an id in DYN_STORE) or, without it, one
# trained here for a few seconds: the time of a read depends on the network's size, not on its
# training, but the readings (and so the matches printed) only mean something for a trained
# model.
# Then scores the readings against the photos' markings; and, when Debian's tesseract is
# installed (TESSERACT=0 skips it), Tesseract 5 reads the same photos in the same run, with
# automatic page segmentation and orientation (--psm 1; sparse text, --psm 11, took 260 s a
# photo), languages rus+eng, two processes of one thread at a time. Tesseract is scored
# generously: for each photo, the best of all its lines against the marking, where dyn is scored
# on the one text it answers.
# usage: [MODEL=ID] [DYN_STORE=DIR] [TESSERACT=0] sh bench/ocr_e2e.sh [PHOTOS [ROWS]]
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
TESS=0
if [ "${TESSERACT:-1}" != 0 ] && command -v tesseract >/dev/null; then
	TESS=1
	langs=eng
	tesseract --list-langs 2>/dev/null | grep -qx rus && langs=rus+eng
	mkdir -p "$OUT/tesseract"
	np=$(ls "$OUT"/photos/p*.jpg | wc -l)
	t0=$(date +%s.%N)
	printf '%s\n' "$OUT"/photos/p*.jpg | xargs -P 2 -I{} sh -c '
		b=$(basename "$1" .jpg)
		OMP_THREAD_LIMIT=1 tesseract "$1" - --psm 1 -l "$2" 2>/dev/null >"$3/$b.txt"' \
		_ {} "$langs" "$OUT/tesseract"
	t1=$(date +%s.%N)
	echo "$(tesseract --version 2>&1 | head -1), $langs, --psm 1: $(echo "($t1 - $t0) / $np" | bc -l | cut -c1-5) s a photo (two at a time)"
fi
# How right the readings are: the photo's text against its marking (its first straight line in
# truth.csv, the one its order row holds: ocr_photos.c), as character error rate and exact
# readings, also with Latin and Cyrillic look-alikes folded; and whether the first order row is
# the photo's own (photo pNNN's order is ORD-000NNN).
/usr/bin/python3 - "$OUT" "$TESS" <<'PY'
import csv, os, sys
out, tess = sys.argv[1], sys.argv[2] == "1"
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
def score(lines_of):
    """CER and exact readings (raw and folded) over the photos, each photo scored on the best
    of the lines lines_of(photo) gives."""
    n = exact = fexact = errs = ferrs = chars = 0
    for f, t in sorted(truth.items()):
        lines = lines_of(f) or [""]
        e = min(lev(l, t) for l in lines)
        fe = min(lev(fold(l), fold(t)) for l in lines)
        n += 1
        exact += e == 0
        fexact += fe == 0
        errs += e
        ferrs += fe
        chars += len(t)
    return ("CER %.1f%% (%.1f%% look-alikes folded), exact %d (%d) of %d"
            % (100.0 * errs / max(chars, 1), 100.0 * ferrs / max(chars, 1), exact, fexact, n))
def dyn_rows(f):
    p = os.path.join(out, f[:-4] + ".csv")
    return list(csv.DictReader(open(p))) if os.path.exists(p) else []
def tesseract_lines(f):
    p = os.path.join(out, "tesseract", f[:-4] + ".txt")
    if not os.path.exists(p):
        return []
    return [l.strip() for l in open(p, encoding="utf-8", errors="replace") if l.strip()]
found = 0
for f in truth:
    rows = dyn_rows(f)
    found += bool(rows) and rows[0].get("order", "") == "ORD-%06d" % int(f[1:4])
print("readings: %s; first order row the photo's own: %d of %d"
      % (score(lambda f: [(dyn_rows(f) or [{}])[0].get("text") or ""]), found, len(truth)))
if tess:
    print("tesseract, its best line a photo: " + score(tesseract_lines))
PY
