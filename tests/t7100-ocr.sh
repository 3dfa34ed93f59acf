#!/bin/sh
# dyn fit ocr / dyn predict on photos: a recognizer trained on generated lines (tiny, a few
# steps: its figures are bench/ocr_crnn.sh's), its report on held-out generated lines, reading
# photos (file, text, confidence, lines), --match against an orders table, and bad input.
. "$(dirname "$0")/lib.sh"

TINY="--epochs 2 --lines 32 --val-lines 8 --channels 4 --hidden 8 --batch-size 8"
PHOTO=$TESTDATA/cards/surface.jpg
ORDERS=$TESTDATA/ocr/orders.csv

expect_success 'fit ocr on generated lines prints the id; the report is on held-out generated lines' '
	dyn fit ocr $TINY --id marks >out 2>err &&
	test "$(cat out)" = marks &&
	dyn models show marks --format json >show &&
	grep -q "\"status\":.*\"done\"" show &&
	test "$(grep -c "\"epoch\":" show)" -eq 2 &&
	for k in loss val_loss lr val_cer cer line_accuracy synthetic; do
		grep -q "$k" show || { echo "no $k"; exit 1; }
	done &&
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
echo "# $test_count tests"
