#!/bin/sh
# Bad input: each case is one line on stderr naming where and what, the documented exit code,
# and a store left exactly as it was.
. "$(dirname "$0")/lib.sh"
BC=$TESTDATA/breast_cancer.csv

dyn fit logreg --id base --label diagnosis "$BC" >/dev/null
store_snapshot before

# untouched: the store is byte-identical to the snapshot taken above.
untouched() {
	store_snapshot now && compare "$SCRATCH/before" now
}

expect_success 'empty file' '
	: >empty.csv &&
	must_fail 1 dyn fit logreg empty.csv && err_is "^dyn: empty.csv: empty input$" && untouched
'
expect_success 'header only' '
	head -1 "$BC" >header.csv &&
	must_fail 1 dyn fit logreg --label diagnosis header.csv && err_is "^dyn: header.csv: no data rows$" && untouched
'
expect_success 'ragged rows name the line' '
	printf "a,b,label\n1,2,x\n3,4\n5,6,y\n" >ragged.csv &&
	must_fail 1 dyn fit logreg ragged.csv && err_is "^dyn: ragged.csv:3: expected 3 fields, got 2$" && untouched
'
expect_success 'a non-numeric feature names line and column' '
	printf "a,b,label\n1,2,x\n3,abc,y\n" >nonnum.csv &&
	must_fail 1 dyn fit logreg nonnum.csv &&
	err_is "^dyn: nonnum.csv:3: column \"b\": expected a number, got \"abc\"$" && untouched
'
expect_success 'NaN and Inf are refused' '
	printf "a,b,label\n1,nan,x\n3,4,y\n" >nan.csv &&
	must_fail 1 dyn fit logreg nan.csv && err_is "^dyn: nan.csv:2: column \"b\": expected a finite number, got \"nan\"$" &&
	printf "a,b,label\n1,2,x\n3,-Inf,y\n" >inf.csv &&
	must_fail 1 dyn fit logreg inf.csv && err_is "^dyn: inf.csv:3: column \"b\": expected a finite number, got \"-Inf\"$" &&
	untouched
'
expect_success 'a missing value' '
	printf "a,b,label\n1,,x\n3,4,y\n" >miss.csv &&
	must_fail 1 dyn fit logreg miss.csv && err_is "^dyn: miss.csv:2: column \"b\": missing value$" && untouched
'
expect_success 'a missing label column' '
	must_fail 1 dyn fit logreg --label outcome "$BC" &&
	err_is "^dyn: .*breast_cancer.csv: no label column \"outcome\"$" &&
	printf "a,b\n1,2\n" >nolabel.csv &&
	must_fail 2 dyn fit logreg nolabel.csv && err_is "name the label column with --label" && untouched
'
expect_success 'one class only' '
	printf "a,b,label\n1,2,x\n3,4,x\n" >one.csv &&
	must_fail 1 dyn fit logreg one.csv &&
	err_is "^dyn: one.csv: only one class \(\"x\"\) in the label column: a classifier needs two or more$" && untouched
'
expect_success 'unknown hyperparameter' '
	must_fail 2 dyn fit svc --params "{\"gama\": 1}" "$BC" &&
	err_is "^dyn: unknown hyperparameter \"gama\" for svc \(known: C, kernel, gamma, " && untouched
'
expect_success 'out-of-range hyperparameters, checked before the data is read' '
	must_fail 2 dyn fit logreg --C -1 does-not-exist.csv &&
	err_is "^dyn: hyperparameter \"C\" of logreg: expected a number > 0, got \"-1\"$" &&
	must_fail 2 dyn fit svc --kernel cubic does-not-exist.csv &&
	err_is "^dyn: hyperparameter \"kernel\" of svc: expected one of linear, rbf, poly, sigmoid, got \"cubic\"$" &&
	must_fail 2 dyn fit logreg --max-iter 0 x.csv && err_is "\"max_iter\"" &&
	must_fail 2 dyn fit logreg --params "{\"solver\": \"saga\"}" x.csv && err_is "\"solver\"" &&
	must_fail 2 dyn fit logreg --test-fraction 1.5 x.csv && err_is "--test-fraction" &&
	must_fail 2 dyn fit logreg --cv 1 x.csv && err_is "--cv" &&
	must_fail 2 dyn fit svc --grid "C=1,-1" x.csv && err_is "--grid" &&
	untouched
'
expect_success 'malformed --params' '
	must_fail 2 dyn fit logreg --params "{C: 1" x.csv && err_is "^dyn: --params: expected a JSON object" && untouched
'
expect_success 'a model id with / or .. is refused' '
	must_fail 2 dyn fit logreg --id a/b --label diagnosis "$BC" && err_is "^dyn: invalid model id \"a/b\"" &&
	must_fail 2 dyn fit logreg --id .. --label diagnosis "$BC" && err_is "^dyn: invalid model id \"\.\.\"" &&
	must_fail 2 dyn predict ../base "$BC" && err_is "^dyn: invalid model id" &&
	must_fail 2 dyn models show ../../etc/passwd && err_is "^dyn: invalid model id" &&
	untouched
'
expect_success 'an unknown kind and an unknown model' '
	must_fail 2 dyn fit forest "$BC" && err_is "^dyn: unknown model kind \"forest\"" &&
	must_fail 3 dyn predict nope "$BC" && err_is "^dyn: model \"nope\" not found$" &&
	must_fail 3 dyn models show nope && err_is "^dyn: model \"nope\" not found$" &&
	untouched
'
expect_success 'predicting with missing feature columns' '
	cut -d, -f2- "$BC" >missing.csv &&
	must_fail 1 dyn predict base missing.csv && err_is "^dyn: missing.csv: missing feature column \"mean_radius\" \(1 of the model.s 30\)$" &&
	cut -d, -f8- "$BC" >missing7.csv &&
	must_fail 1 dyn predict base missing7.csv &&
	err_is "^dyn: missing7.csv: missing feature columns \"mean_radius\", (\"[a-z_]+\", ){4}\.\.\. \(7 of the model.s 30\)$" &&
	echo "{\"X\": [[1, 2, 3]]}" >short.json &&
	must_fail 1 dyn predict base short.json && err_is "^dyn: short.json: rows have 3 values, the model takes 30 features$"
'
expect_success 'a bad row mid-stream: the rows before it are out, then the error' '
	{ head -3 "$BC"; echo "1,2,3"; } >mid.csv &&
	must_fail 1 dyn predict base mid.csv && err_is "^dyn: mid.csv:4: expected 31 fields, got 3$"
'
expect_success 'a missing input file and a directory' '
	must_fail 1 dyn fit logreg nowhere.csv && err_is "nowhere.csv.*No such file or directory" &&
	mkdir adir && must_fail 1 dyn fit logreg adir && err_is "adir.*[Ii]s a directory" &&
	must_fail 1 dyn predict base adir && err_is "adir.*[Ii]s a directory" && untouched
'
expect_success 'stdin closed' '
	must_fail 1 dyn fit logreg --label diagnosis <&- && err_is "^dyn: stdin: " &&
	must_fail 1 dyn predict base <&- && err_is "^dyn: stdin: " && untouched
'
expect_success 'stdin empty' '
	must_fail 1 dyn fit logreg --label diagnosis </dev/null && err_is "^dyn: stdin: empty input$" && untouched
'
expect_success 'malformed JSON' '
	printf "{\"X\": [[1, 2], [3,\n" >bad.json &&
	must_fail 1 dyn fit logreg bad.json && err_is "^dyn: bad.json" && untouched
'
expect_success 'a truncated model file is reported, not used' '
	dyn fit logreg --id trunc --label diagnosis "$BC" >/dev/null &&
	f=$(ls "$DYN_STORE"/models/trunc*) && head -c 100 "$f" >t && cat t >"$f" &&
	must_fail 1 dyn predict trunc "$BC" && err_is "^dyn: model \"trunc\": .*does not match its index entry" &&
	dyn models show trunc --format json | grep -q "\"integrity\":.*does not match"
'
expect_success 'an altered model file is reported, not used' '
	dyn fit logreg --id alt --label diagnosis "$BC" >/dev/null &&
	f=$(ls "$DYN_STORE"/models/alt*) &&
	printf "\377" | dd of="$f" bs=1 seek=300 conv=notrunc 2>/dev/null &&
	must_fail 1 dyn predict alt "$BC" && err_is "^dyn: model \"alt\": .*sha256" &&
	rm "$f" && must_fail 1 dyn predict alt "$BC" && err_is "^dyn: model \"alt\": "
'
expect_success 'a corrupt index.json is reported and never overwritten' '
	cp "$DYN_STORE/index.json" saved.json &&
	head -c 50 saved.json >"$DYN_STORE/index.json" && cp "$DYN_STORE/index.json" corrupt.json &&
	must_fail 1 dyn models ls && err_is "index.json.*corrupt" &&
	must_fail 1 dyn fit logreg --id x --label diagnosis "$BC" && err_is "index.json.*corrupt" &&
	must_fail 1 dyn models rm base && err_is "index.json.*corrupt" &&
	compare corrupt.json "$DYN_STORE/index.json" &&
	cp saved.json "$DYN_STORE/index.json"
'
expect_success 'a store path that is a file' '
	: >notadir &&
	must_fail 1 dyn --store notadir models ls && err_is "notadir"
'
expect_success 'a closed stdout is a write error, not a crash' '
	dyn predict base "$BC" >&- 2>err; test $? -eq 1 && err_is "^dyn: standard output: "
'
expect_success 'a full disk is a write error' '
	test -w /dev/full || exit 0
	dyn predict base "$BC" >/dev/full 2>err; test $? -eq 1 &&
	err_is "^dyn: standard output: No space left on device$"
'
expect_success 'a reader that goes away (predict | head) ends quietly' '
	dyn predict base "$BC" "$BC" "$BC" 2>err | head -2 >/dev/null && test ! -s err
'
expect_success 'an error before the first batch is written prints nothing on stdout' '
	{ head -3 "$BC"; echo "1,2,3"; } >early.csv &&
	must_fail 1 dyn predict base early.csv && test ! -s out
'
expect_success 'control characters a user gave are escaped in messages, UTF-8 is kept' '
	printf "a,b,y\n1,2,0\n3,4,1\n" >ok.csv &&
	must_fail 1 dyn fit logreg --features "$(printf "a,x\033]0;pwned\007")" ok.csv &&
	err_is "no feature column \"x.x1b\]0;pwned.x07\"" && ! grep -q "$(printf "\033")" err &&
	must_fail 1 dyn fit logreg "$(printf "two\nlines.csv")" &&
	err_is "two.nlines.csv" &&
	must_fail 1 dyn fit logreg "$(printf "\302\233[2Jc1.csv")" && err_is "u009b\[2Jc1.csv" &&
	must_fail 1 dyn fit logreg "данные.csv" && err_is "данные.csv"
'
expect_success 'the decompression limits are settable: DYN_MAX_DECOMPRESSED, DYN_MAX_RATIO' '
	{ echo "a,b,y"; i=0; while [ $i -lt 400 ]; do echo "1,2,0"; echo "3,4,1"; i=$((i + 1)); done; } >lim.csv &&
	gzip -c lim.csv >lim.csv.gz && dyn fit logreg --id lim lim.csv.gz >/dev/null &&
	DYN_MAX_DECOMPRESSED=2K must_fail 1 dyn fit logreg --id lim2 lim.csv.gz &&
	err_is "lim.csv.gz: more than 2048 bytes decompressed \(the limit\)" &&
	DYN_MAX_DECOMPRESSED=2x must_fail 2 dyn models ls && err_is "DYN_MAX_DECOMPRESSED: expected" &&
	DYN_MAX_RATIO=0.5 must_fail 2 dyn models ls && err_is "DYN_MAX_RATIO: expected" &&
	DYN_MAX_DECOMPRESSED=1M DYN_MAX_RATIO=500 dyn fit logreg --id lim3 lim.csv.gz >/dev/null
'
expect_success 'messages that said the wrong thing: delimiter, NUL bytes, two JSON documents, a bad command' '
	must_fail 2 dyn fit logreg --delimiter "$(printf "\r")" "$TESTDATA/iris.csv" &&
	err_is "option --delimiter: a newline, carriage return or double quote cannot separate fields" &&
	must_fail 2 dyn predict x --delimiter "\"" "$TESTDATA/iris.csv" && err_is "cannot separate fields" &&
	head -c 1000 /dev/zero | gzip -c >nul.gz && must_fail 1 dyn fit logreg nul.gz &&
	err_is "nul.gz: an archive without members \(NUL bytes read as an empty tar archive\)" &&
	printf "a,b\n1,\0002\n" >nul.csv && must_fail 1 dyn fit logreg nul.csv &&
	err_is "nul.csv: binary data \(a NUL byte at byte 7\), not CSV or JSON text" &&
	printf "{\"X\": [[1, 2]], \"y\": [0]}\n{\"X\": [[3, 4]], \"y\": [1]}\n" >two.json &&
	must_fail 1 dyn fit logreg two.json && err_is "two.json: several \{\"X\": \[...\]\} documents" &&
	must_fail 2 dyn frobnicate && err_is "^dyn: .frobnicate. is not a dyn command \(see .dyn -h.\)$"
'
expect_success 'a command that fails writes nothing on stdout: predict --text, forecast --plot' '
	printf "text,label\nreset my password,login\nthe invoice is wrong,billing\nlogin fails,login\nrefund the invoice,billing\n" >tx.csv &&
	dyn fit text --id tx --test-fraction 0 tx.csv >/dev/null &&
	must_fail 1 dyn predict tx --text "$(printf "\377")" && test ! -s out &&
	must_fail 1 dyn forecast --queue 6 --horizon 3 --plot /nonexistent/q.png "$TESTDATA/tickets/tickets.csv" &&
	test ! -s out && err_is "option --plot: \"/nonexistent/q.png\": cannot be written"
'
expect_success 'invalid UTF-8 in a label is an error naming file, line and column; text models can repair it' '
	printf "a,y\n1,x\377\n2,z\n3,x\377\n4,z\n" >lab8.csv &&
	store_snapshot before &&
	must_fail 1 dyn fit logreg lab8.csv && err_is "^dyn: lab8.csv:2: column \"y\": invalid UTF-8 in a label at byte 2$" &&
	printf "text,label\nreset it,log\377in\nthe invoice,billing\nlog in,log\377in\ninvoice,billing\n" >tl8.csv &&
	must_fail 1 dyn fit text tl8.csv && err_is "tl8.csv:2: column \"label\": invalid UTF-8 in a label" &&
	store_snapshot after && compare before after &&
	dyn fit text --id rep --invalid-utf8 replace --test-fraction 0 tl8.csv >/dev/null &&
	dyn models show rep --format json | grep -q "log\\\\ufffdin\|log.in"
'
expect_success '--keep of a column named like a result column is refused before any output' '
	dyn fit logreg --id irk --label species "$TESTDATA/iris.csv" >/dev/null &&
	sed "1s/species\$/label/" "$TESTDATA/iris.csv" >irl.csv &&
	must_fail 2 dyn predict irk irl.csv --keep label && test ! -s out &&
	err_is "option --keep: column \"label\" has the name of a result column" &&
	must_fail 2 dyn predict irk irl.csv --keep sepal_width,sepal_width && err_is "given twice"
'
