#!/bin/sh
# Bad cards for dyn fit dynamogram and predict: a one-line error naming the input, the
# documented exit code, and nothing written to the store.
. "$(dirname "$0")/lib.sh"

# Two classes of small loops, enough to train a tiny model on.
awk 'BEGIN {
	print "card,marker,position,load"
	for (c = 0; c < 12; c++)
		for (i = 0; i < 40; i++) {
			t = 6.2831853 * i / 40
			printf "c%d,%s,%.4f,%.4f\n", c, c % 2 ? "fat" : "thin", (1 - cos(t)) / 2, (c % 2 ? 20 : 28) + (c % 2 ? 8 : 2) * sin(t)
		}
}' >good.csv
dyn fit dynamogram --epochs 1 --width 4 --points 16 --test-fraction 0 --id m good.csv >/dev/null

# Pictures and archives built with Python's standard library (zlib, zipfile, gzip).
python3 - <<'PY'
import gzip, struct, zipfile, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def png(w, h, pixel):
    rows = b"".join(b"\0" + pixel * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
open("blank.png", "wb").write(png(64, 64, b"\xff\xff\xff"))
open("black.png", "wb").write(png(64, 64, b"\0\0\0"))
open("one.png", "wb").write(png(1, 1, b"\x80\x80\x80"))
# a 40000x40000 header over a few bytes of data: refused before anything is allocated
open("huge.png", "wb").write(b"\x89PNG\r\n\x1a\n" +
    chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)) +
    chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
open("corrupt.png", "wb").write(png(64, 64, b"\xff\xff\xff")[:60] + b"garbage" * 5)
open("corrupt.jpg", "wb").write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13" * 50)
card = "position,load\n" + "".join("%d,%d\n" % (i % 5, i % 7) for i in range(12))
with zipfile.ZipFile("dotdot.zip", "w") as z:
    z.writestr("../escape.csv", card)
with zipfile.ZipFile("absolute.zip", "w") as z:
    z.writestr("/etc/card.csv", card)
# 400 MB of one line from 400 kB
with gzip.open("bomb.csv.gz", "wb", 9) as f:
    f.write(b"position,load\n0,")
    for _ in range(400):
        f.write(b"0" * (1 << 20))
PY
printf 'position,load\n0,1\n1,2\n0,1\n' >short.csv
{ echo position,load; for i in 0 1 2 3 4 5 6 7 8 9; do echo "$i,$((i % 3))"; done; echo "3,nan"; } >nan.csv
{ echo position,load; for i in 0 1 2 3 4 5 6 7 8 9; do echo "$i,$((i % 3))"; done; echo "3,inf"; } >inf.csv
{ echo position,load; for i in 0 1 2 3 4 5 6 7 8 9; do echo "$((i % 5)),7"; done; } >flat.csv
awk 'BEGIN { print "position,load"; for (i = 0; i < 30; i++) printf "%.3f,%.3f\n", i / 29, 10 + 5 * sin(3.14159 * i / 29) }' >open.csv
{ echo position,load; for i in 0 1 2 3 4 5 6 7 8 9 10 11; do echo "$((i % 3)),$((i % 3))"; done; } >repeat.csv
printf 'position,load\n0,1\n' >big.csv && truncate -s 1G big.csv

# bad FILE CODE PATTERN: predict and fit both refuse FILE with CODE and a one-line PATTERN, and
# the store is left as it was.
bad() {
	store_snapshot before &&
	must_fail "$2" dyn predict m "$1" && err_is "$3" &&
	must_fail "$2" dyn fit dynamogram --epochs 1 --width 4 --points 16 good.csv "$1" &&
	err_is "$3" &&
	store_snapshot after && compare before after
}

expect_success 'a card of fewer than 8 points' '
	bad short.csv 1 "^dyn: short.csv: card has 3 points \(at least 8 are needed\)$"
'
expect_success 'NaN and infinite values, with the line and column' '
	bad nan.csv 1 "^dyn: nan.csv:12: column \"load\": expected a finite number, got \"nan\"$" &&
	bad inf.csv 1 "^dyn: inf.csv:12: column \"load\": expected a finite number, got \"inf\"$"
'
expect_success 'a constant load' '
	bad flat.csv 1 "^dyn: flat.csv: .*load.*(constant|does not vary|same)"
'
expect_success 'an open curve and a self-repeating one' '
	bad open.csv 1 "^dyn: open.csv: the curve is open" &&
	bad repeat.csv 1 "^dyn: repeat.csv: .*(distinct|repeat)"
'
expect_success 'a blank and an all-black picture' '
	bad blank.png 1 "^dyn: blank.png: blank picture" &&
	bad black.png 1 "^dyn: black.png: the picture is dark all over"
'
expect_success 'a 1x1 picture, and a 40000x40000 header refused before allocating' '
	bad one.png 1 "^dyn: one.png: 1x1 picture \(at least 16x16 pixels are needed\)$" &&
	bad huge.png 1 "^dyn: huge.png: 40000x40000 picture, over the limit"
'
expect_success 'a corrupt PNG and a corrupt JPEG' '
	bad corrupt.png 1 "^dyn: corrupt.png: corrupt or unsupported picture" &&
	bad corrupt.jpg 1 "^dyn: corrupt.jpg: corrupt or unsupported picture"
'
expect_success 'archive members named ../ or absolute are refused' '
	bad dotdot.zip 1 "^dyn: dotdot.zip: member \"../escape.csv\": \"..\" in its name \(refused\)$" &&
	bad absolute.zip 1 "^dyn: absolute.zip: member \"/etc/card.csv\": absolute name \(refused\)$" &&
	test ! -e ../escape.csv
'
expect_success 'a decompression bomb is stopped, bounded' '
	bad bomb.csv.gz 1 "^dyn: bomb.csv.gz: decompresses to more than"
'
expect_success 'a card file of 1 GB is refused without being read' '
	bad big.csv 1 "^dyn: \"?big.csv\"?: 1073741824 bytes, more than the limit"
'
expect_success 'a card without a marker cannot train' '
	{ echo position,load; awk -F, "NR > 1 && \$1 == \"c1\" { print \$3 \",\" \$4 }" good.csv; } >nomarker.csv &&
	store_snapshot before &&
	must_fail 1 dyn fit dynamogram --epochs 1 nomarker.csv good.csv &&
	err_is "^dyn: nomarker.csv: card has no marker" &&
	store_snapshot after && compare before after
'
expect_success 'an unknown marker for a model'"'"'s warm start' '
	sed "s/,fat,/,weird,/" good.csv >weird.csv &&
	store_snapshot before &&
	must_fail 2 dyn fit dynamogram --warm-start m --epochs 1 weird.csv &&
	err_is "^dyn: --warm-start: model \"m\": has no class \"weird\" \(it knows 2 others\)$" &&
	store_snapshot after && compare before after
'
expect_success 'one class is a usage of its own: not enough to train a new model' '
	grep -v ",fat," good.csv >one-class.csv &&
	must_fail 1 dyn fit dynamogram --epochs 1 one-class.csv &&
	err_is "^dyn: only one marker \(\"thin\"\) among the cards: a classifier needs two or more$"
'
expect_success 'hyperparameters out of range are usage errors before any reading' '
	must_fail 2 dyn fit dynamogram --epochs 0 good.csv && err_is "epochs" &&
	must_fail 2 dyn fit dynamogram --arch cube good.csv && err_is "arch" &&
	must_fail 2 dyn fit dynamogram --points 3 good.csv && err_is "points"
'
expect_success '--pretrained needs a model of the same kind' '
	dyn fit logreg --test-fraction 0 --id lr "$TESTDATA/iris.csv" --label species >/dev/null &&
	must_fail 2 dyn fit dynamogram --pretrained lr good.csv &&
	err_is "^dyn: --pretrained: model \"lr\" is a logreg model, not dynamogram$" &&
	must_fail 2 dyn fit logreg --pretrained lr "$TESTDATA/iris.csv" --label species &&
	err_is "^dyn: --pretrained: logreg models do not start from weights$" &&
	must_fail 3 dyn fit dynamogram --pretrained nope good.csv
'
expect_success 'predict refuses --key and --keep for cards' '
	must_fail 2 dyn predict m --keep x good.csv && err_is "cards have no columns"
'
