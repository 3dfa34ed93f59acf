#!/bin/sh
# dyn fit ocr / dyn predict on photos: a recognizer trained on generated lines (tiny, a few
# steps: its figures are bench/ocr_crnn.sh's), its report on held-out generated lines, reading
# photos (file, text, confidence, lines), --match against an orders table, confirming a
# photo's text (--confirm) and training on the confirmed samples (--confirmed), going on from a
# model (--warm-start), and bad input.
. "$(dirname "$0")/lib.sh"

TINY="--epochs 2 --lines 32 --val-lines 8 --channels 4 --hidden 8 --batch-size 8"
PHOTO=$TESTDATA/cards/surface.jpg
STAMPED=$TESTDATA/ocr/stamped.jpg
ORDERS=$TESTDATA/ocr/orders.csv
# the generated photo's line: its text and box (cx cy w h angle)
TRUTH=$(cut -f1 "$TESTDATA/ocr/stamped.txt")
TBOX=$(cut -f2 "$TESTDATA/ocr/stamped.txt")

expect_success 'fit ocr on generated lines prints the id; the report is on held-out generated lines' '
	dyn --verbose fit ocr $TINY --id marks >out 2>err &&
	test "$(cat out)" = marks &&
	dyn models show marks --format json >show &&
	grep -q "\"status\":.*\"done\"" show &&
	test "$(grep -c "\"epoch\":" show)" -eq 2 &&
	tr -d " \t\n" <show | grep -q "\"paths\":\[\],\"rows\":0," &&
	for k in loss val_loss lr val_cer cer line_accuracy synthetic; do
		grep -q "$k" show || { echo "no $k"; exit 1; }
	done &&
	grep -q "character error rate [0-9.]* ([0-9.]* with look-alikes folded)" err &&
	tr -d " \t\n" <show | sed -n "s/.*\"metrics\":{\"cer\":\([^,]*\),\"line_accuracy\":\([^,]*\),\"cer_folded\":\([^,]*\),\"line_accuracy_folded\":\([^,]*\),.*/\1 \2 \3 \4/p" >m &&
	awk "NF == 4 && \$3 <= \$1 && \$4 >= \$2 && \$3 >= 0 && \$4 <= 1 { ok = 1 } END { exit !ok }" m &&
	dyn models ls --format csv | grep -q "^marks,ocr,.*,synthetic,,done$"
'
expect_success 'a time budget (--minutes) ends training before the epochs do' '
	dyn fit ocr $TINY --epochs 1000 --minutes 0.005 --id budget >/dev/null &&
	dyn models show budget --format json >show &&
	grep -q "\"status\":.*\"done\"" show &&
	n=$(grep -c "\"epoch\":" show) &&
	test "$n" -ge 1 && test "$n" -lt 1000
'
expect_success 'labeled line crops (image,text CSV) train with the generated lines' '
	printf "image,text\n%s,195-30-1285 2660\n" "$PHOTO" >crops.csv &&
	dyn fit ocr $TINY --id marks2 crops.csv >/dev/null &&
	dyn models show marks2 --format json | grep -q "\"rows\":.*1"
'
expect_success 'an alphabet without the labels characters is refused naming them' '
	printf "image,text\n%s,ABC\n" "$PHOTO" >abc.csv &&
	must_fail 1 dyn fit ocr $TINY --alphabet 0123456789 abc.csv && err_is "labeled line 1: .A. \(U\+0041\) is not in the alphabet" &&
	! dyn models ls --format csv | grep -q ",failed$"
'
expect_success 'predict on photos: file, text, confidence, lines (JSON with boxes)' '
	dyn predict marks "$PHOTO" "$TESTDATA/cards/pump.jpg" >p &&
	head -1 p | grep -qx "file,text,confidence,lines" &&
	test "$(wc -l <p)" -eq 3 &&
	grep -q "^$PHOTO," p &&
	dyn --format ndjson predict marks "$PHOTO" >j &&
	grep -q "^{\"file\":\".*surface.jpg\",\"text\":" j &&
	grep -q "\"lines\":\"\\[" j
'
expect_success 'predict --match adds the best orders (rank, article, serial, name, order, station, score)' '
	dyn predict marks "$PHOTO" --match "$ORDERS" --top 2 >m &&
	head -1 m | grep -qx "file,text,confidence,lines,rank,article,serial,name,order,station,score" &&
	test "$(wc -l <m)" -ge 2 &&
	dyn predict marks "$PHOTO" --match "$TESTDATA/ocr/orders.xlsx" >/dev/null
'
expect_success 'bad input: not a picture, a corrupt JPEG, a broken orders table, options of other kinds' '
	echo "hello" >x.jpg &&
	must_fail 1 dyn predict marks x.jpg && err_is "x.jpg" &&
	head -c 600 "$PHOTO" >cut.jpg &&
	must_fail 1 dyn predict marks cut.jpg && err_is "cut.jpg" &&
	printf "a,b\n1,2\n" >bad.csv &&
	must_fail 1 dyn predict marks "$PHOTO" --match bad.csv && err_is "bad.csv" &&
	must_fail 1 dyn predict marks "$PHOTO" --match "$TESTDATA/ocr/badxml.xlsx" &&
	must_fail 2 dyn predict marks "$PHOTO" --proba && err_is "reads text, not classes" &&
	must_fail 2 dyn predict marks "$PHOTO" --top 3 && err_is "orders of --match" &&
	dyn fit logreg --test-fraction 0 --label species --id iris "$TESTDATA/iris.csv" >/dev/null &&
	must_fail 2 dyn predict iris "$TESTDATA/iris.csv" --match "$ORDERS" &&
	err_is "reads no text to match" &&
	must_fail 2 dyn fit ocr $TINY --test-fraction 0.2 && err_is "no held-out report"
'
expect_success 'a generated photo of a stamped line, read end to end: the line found where it is drawn' '
	dyn --format ndjson predict marks "$STAMPED" >s &&
	test "$(wc -l <s)" -eq 1 &&
	grep -q "^{\"file\":\".*stamped.jpg\",\"text\":\"[^\"]*\",\"confidence\":" s &&
	sed -n "s/.*\\\\\"box\\\\\":\[\([^]]*\)\].*/\1/p" s | head -1 | tr , " " >box &&
	test -s box &&
	# the first line found is the drawn one: centre within half its height, length within a
	# fifth, read left to right (or upside down, which the other reading takes)
	echo "$(cat box) $TBOX" | awk "{ d = \$1 - \$6; e = \$2 - \$7; a = \$5 % 180;
		exit !(d * d + e * e < \$9 * \$9 / 4 && \$3 > 0.8 * \$8 && \$3 < 1.2 * \$8 &&
			(a < 5 || a > 175)) }"
'
expect_success 'predict --confirm keeps the line of the photo as a labeled crop in the store' '
	dyn -v predict marks "$STAMPED" --confirm "$TRUTH" >c 2>cerr &&
	head -1 c | grep -qx "file,text,confidence,lines" && test "$(wc -l <c)" -eq 2 &&
	grep -q "kept line 1 of \".*stamped.jpg\" (read \"[^\"]*\") as confirmed sample [0-9a-f]\{12\}, \"$TRUTH\" (1 in the store)" cerr &&
	test -f "$DYN_STORE/datasets/ocr/confirmed.db" &&
	ls "$DYN_STORE"/datasets/ocr/*.png >pngs && test "$(wc -l <pngs)" -eq 1 &&
	png=$(cat pngs) && name=$(basename "$png" .png) &&
	test "$(sha256sum <"$png" | cut -c1-64)" = "$name" &&
	# a gray PNG cut upright: wider than high, at least the network height (32), at most 96
	w=$(od -An -tu1 -j16 -N4 "$png" | awk "{ print \$1 * 16777216 + \$2 * 65536 + \$3 * 256 + \$4 }") &&
	h=$(od -An -tu1 -j20 -N4 "$png" | awk "{ print \$1 * 16777216 + \$2 * 65536 + \$3 * 256 + \$4 }") &&
	test "$h" -ge 32 && test "$h" -le 96 && test "$w" -gt "$((3 * h))" &&
	test "$(od -An -tu1 -j25 -N1 "$png" | tr -d " ")" -eq 0 &&
	dyn -v predict marks "$STAMPED" --confirm "$TRUTH" >/dev/null 2>cerr &&
	grep -q "confirmed again line 1 .*(1 in the store)" cerr &&
	ls "$DYN_STORE"/datasets/ocr/*.png | wc -l | grep -qx 1
'
expect_success 'fit --confirmed trains on the confirmed samples (alone, or after labeled crops)' '
	dyn fit ocr $TINY --lines 0 --val-lines 0 --confirmed --id conf1 >/dev/null &&
	dyn models show conf1 --format json >show &&
	grep -q "datasets/ocr/confirmed.db" show && grep -q "\"rows\":.*1," show &&
	printf "image,text\n%s,195-30-1285 2660\n" "$PHOTO" >crops.csv &&
	dyn fit ocr $TINY --confirmed --id conf2 crops.csv >/dev/null &&
	dyn models show conf2 --format json >show2 &&
	grep -q "\"rows\":.*2," show2 && grep -q "crops.csv" show2 &&
	test "$(grep "\"sha256\"" show | tail -1)" != "$(grep "\"sha256\"" show2 | tail -1)"
'
expect_success 'confirmers at once: every sample kept, one transaction each' '
	# networks taller than the line cut (45 pixels) keep it at their own height: other crops
	dyn fit ocr $TINY --height 48 --max-width 192 --id marks48 >/dev/null &&
	dyn fit ocr $TINY --height 56 --max-width 224 --id marks56 >/dev/null || exit 1
	dyn predict marks48 "$STAMPED" --confirm "$TRUTH" >o1 2>e1 &
	dyn predict marks56 "$STAMPED" --confirm "$TRUTH" >o2 2>e2 &
	dyn predict marks "$STAMPED" --confirm "NQ-35-25-7 0658" >o3 2>e3 &
	wait
	cat e1 e2 e3 && test ! -s e1 && test ! -s e2 && test ! -s e3 &&
	ls "$DYN_STORE"/datasets/ocr/*.png | wc -l | grep -qx 3 &&
	dyn -v fit ocr $TINY --lines 0 --val-lines 0 --confirmed --id conf3 2>ferr >/dev/null &&
	grep -q "on 3 labeled lines" ferr
'
expect_success 'fit --warm-start goes on from an ocr model: its first epoch starts where it ended' '
	dyn fit ocr $TINY --epochs 4 --id base >/dev/null &&
	dyn fit ocr $TINY --epochs 1 --id fresh >/dev/null &&
	dyn fit ocr --epochs 1 --warm-start base --confirmed --id warm >/dev/null &&
	dyn models show warm --format json >w && dyn models show fresh --format json >f &&
	grep -q "\"hidden\":.*8" w && grep -q "datasets/ocr/confirmed.db" w &&
	vw=$(grep "\"val_loss\"" w | head -1 | tr -dc "0-9.") &&
	vf=$(grep "\"val_loss\"" f | head -1 | tr -dc "0-9.") &&
	awk "BEGIN { exit !($vw < $vf) }"
'
expect_success 'bad input: --confirm text the model cannot read, several photos, other kinds, a missing model' '
	store_snapshot before &&
	must_fail 2 dyn predict marks "$STAMPED" --confirm "nq-35" &&
	err_is "^dyn: --confirm: .n. \(U\+006E\) is not in the alphabet of model \"marks\"$" &&
	must_fail 2 dyn predict marks "$STAMPED" --confirm " " && err_is "^dyn: --confirm: an empty text$" &&
	must_fail 2 dyn predict marks "$STAMPED" --confirm "NQ  35" && err_is "two in a row" &&
	must_fail 2 dyn predict marks "$STAMPED" --confirm "123456789012345678901234567890123" &&
	err_is "more than 32 characters" &&
	must_fail 2 dyn predict marks "$STAMPED" "$STAMPED" --confirm "NQ" &&
	err_is "^dyn: --confirm: one photo at a time \(the text is that photo.s\), not several$" &&
	must_fail 2 dyn predict marks --confirm "NQ" <"$STAMPED" && err_is "not standard input" &&
	must_fail 2 dyn predict iris "$TESTDATA/iris.csv" --confirm "NQ" &&
	err_is "^dyn: --confirm: model \"iris\" keeps no confirmed samples$" &&
	store_snapshot after && compare before after &&
	must_fail 2 dyn fit ocr --warm-start iris && err_is "^dyn: --warm-start: model \"iris\" is a logreg model, not ocr$" &&
	must_fail 3 dyn fit ocr --warm-start nosuch && err_is "^dyn: --warm-start: model \"nosuch\" not found$" &&
	must_fail 2 dyn fit ocr --warm-start marks --hidden 16 --id w2 &&
	err_is "^dyn: --warm-start: the model.s network has no tensor \"rnn0.weight_ih_l0\" of this shape" &&
	must_fail 2 dyn fit ocr --warm-start marks --alphabet 0123 --id w2 &&
	err_is "^dyn: --warm-start: the model reads the default alphabet, not \"0123\"" &&
	! dyn models ls --format csv | grep -q "^w2," &&
	must_fail 2 dyn fit logreg --confirmed "$TESTDATA/iris.csv" &&
	err_is "^dyn: --confirmed: logreg models keep no confirmed samples$" &&
	must_fail 1 dyn --store "$SCRATCH/empty" fit ocr $TINY --confirmed &&
	err_is "^dyn: --confirmed: no confirmed samples in the store"
'
echo "# $test_count tests"
