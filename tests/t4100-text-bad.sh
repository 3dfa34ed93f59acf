#!/bin/sh
# Bad input for text models: each case asserts the exit code and the one-line message, and that
# a failed fit leaves the store as it was.
. "$(dirname "$0")/lib.sh"
TK=$TESTDATA/text/tickets.csv

dyn fit text --id base --model svm "$TK" >/dev/null
dyn fit logreg --id tab --label diagnosis "$TESTDATA/breast_cancer.csv" >/dev/null
store_snapshot before
untouched() {
	store_snapshot now && compare "$SCRATCH/before" now
}

expect_success 'empty texts only: no terms' '
	{ echo "text,label"; i=0; while [ $i -lt 20 ]; do echo ",a"; echo "\"\",b"; i=$((i + 1)); done; } >empty.csv &&
	must_fail 1 dyn fit text empty.csv &&
	err_is "^dyn: text: no terms left: the texts are empty, have no words of two or more letters, or min_df \(2\) prunes every term$" &&
	untouched
'
expect_success 'some empty texts are fine; an empty row of a file gets an empty label, an empty --text is refused' '
	{ head -200 "$TK"; echo ",billing"; echo "\"   \",login"; } >some.csv &&
	dyn fit text --id some --model svm some.csv >/dev/null &&
	printf "text\n\"\"\n" >empty-row.csv && dyn predict some empty-row.csv >out 2>err &&
	test "$(wc -l <out)" -eq 2 && test "$(tail -n 1 out)" = "1,," &&
	err_is "^dyn: input 1 has no letter, digit or word the model knows: its label is left empty$" &&
	must_fail 2 dyn predict some --text "" && err_is "the text is empty" &&
	dyn models rm some && untouched
'
expect_success 'punctuation alone: --text is refused, rows of a file get no label, not a guess' '
	dyn fit text --id punct --model logreg "$TK" >/dev/null &&
	must_fail 1 dyn predict punct --text "!!! ... ???" &&
	err_is "^dyn: --text: no letter, digit or word the model knows: nothing to classify$" &&
	printf "id,text\na,!!!\nb,password reset fails\nc,\"?? -- !!\"\n" >p.csv &&
	dyn --format csv predict punct --key id --proba p.csv >out 2>err &&
	grep -q "^a,,,,*$" out && grep -q "^b,[a-z_]*,0\.[0-9]*," out && grep -q "^c,,,,*$" out &&
	err_is "^dyn: 2 inputs \(\"a\", \"c\"\) have no letter, digit or word the model knows: their labels are left empty$" &&
	dyn --format json predict punct --key id p.csv | grep -q "\"label\": null" &&
	dyn -q predict punct p.csv >/dev/null 2>err && test ! -s err &&
	dyn predict punct --text "42" >/dev/null &&
	dyn models rm punct && untouched
'
expect_success 'the text column missing (fit and predict)' '
	printf "body,label\nhello there,a\nbye now,b\n" >nocol.csv &&
	must_fail 1 dyn fit text nocol.csv && err_is "^dyn: nocol.csv: no text column \"text\"$" &&
	must_fail 1 dyn fit text --text-column message nocol.csv &&
	err_is "^dyn: nocol.csv: no text column \"message\"$" &&
	must_fail 1 dyn predict base nocol.csv && err_is "^dyn: nocol.csv: no text column \"text\"$" &&
	untouched
'
expect_success 'a label with one example: fitted; --cv refuses it by name' '
	{ cat "$TK"; echo "please send me a paper catalogue,catalogue"; } >one.csv &&
	dyn fit text --id one --model svm one.csv >/dev/null &&
	dyn models show one --format json | tr -d " \t" | grep -q "\"catalogue\"" &&
	dyn models rm one && untouched &&
	must_fail 1 dyn fit text --model svm --cv 3 one.csv &&
	err_is "^dyn: --cv 3: class \"catalogue\" has only 1 rows \(need 3\)$" && untouched
'
expect_success 'invalid UTF-8: the error names file, line and byte; replace substitutes U+FFFD' '
	{ head -40 "$TK"; printf "\"two\nlines then a bad byte \\377 here\",billing\n"; sed -n 41,80p "$TK"; } >bad.csv &&
	line=$(($(head -40 "$TK" | wc -l) + 1)) &&
	must_fail 1 dyn fit text bad.csv &&
	err_is "^dyn: bad.csv:$line: column \"text\": invalid UTF-8 at byte 27 \(--invalid-utf8 replace substitutes U\+FFFD\)$" &&
	untouched &&
	dyn fit text --id rep --invalid-utf8 replace --model svm bad.csv >/dev/null &&
	dyn models rm rep && untouched
'
expect_success 'invalid UTF-8 given to predict' '
	must_fail 1 dyn predict base --text "$(printf "bad \\377 byte")" &&
	err_is "invalid UTF-8 at byte 5"
'
expect_success 'a 10 MB single text: fit and predict' '
	awk "BEGIN { printf \"text,label\\n\\\"\"; for (i = 0; i < 650000; i++) printf \"refund %d money \", i % 997; printf \"\\\",refund\\n\" }" >big.csv &&
	test "$(wc -c <big.csv)" -gt 10000000 &&
	sed 1d "$TK" >>big.csv &&
	dyn fit text --id big --model svm --ngram-char 3-4 big.csv >/dev/null &&
	dyn predict big big.csv >out && test "$(wc -l <out)" -eq 3002 &&
	sed -n 2p out | grep -q "^1,refund," &&
	dyn models rm big && untouched
'
expect_success 'CSV with embedded newlines, quotes and commas' '
	cat >quoted.csv <<-\EOF2 &&
	text,label
	"he said ""refund"", then
	said it again, twice",refund
	"line one
	line two ""quoted""
	line three",login
	"plain text, with comma",billing
	EOF2
	{ cat "$TK"; sed 1d quoted.csv; } >train.csv &&
	dyn fit text --id q --model svm train.csv >/dev/null &&
	dyn predict q --key text quoted.csv >out &&
	test "$(sed 1d out | wc -l)" -ge 3 &&
	dyn predict q quoted.csv >out2 && printf "row,label,probability\n" >want &&
	head -1 out2 | compare want - && test "$(awk -F, "NR > 1 { print \$1 }" out2 | tr "\n" " ")" = "1 2 3 " &&
	dyn models rm q && untouched
'
expect_success 'a tabular model given to --text' '
	must_fail 2 dyn predict tab --text "hello" &&
	err_is "^dyn: --text: model \"tab\" is a logreg model; --text needs a text model$"
'
expect_success '--warm-start is refused by text models, and nothing is stored' '
	dyn fit text --id w0 --model svm "$TK" >/dev/null &&
	cp "$DYN_STORE/index.json" index.before &&
	must_fail 2 dyn fit text --id w1 --model svm --warm-start w0 "$TK" &&
	err_is "^dyn: text: warm start is not supported \(the vocabulary is learnt from the data; refit on all the data instead\)$" &&
	cmp index.before "$DYN_STORE/index.json" &&
	dyn models rm w0 >/dev/null
'
expect_success 'bad text hyperparameters are usage errors naming the parameter' '
	must_fail 2 dyn fit text --ngram-word 1,2 "$TK" &&
	err_is "^dyn: hyperparameter \"ngram_word\" of text: expected one of none, 1-1, 1-2, " &&
	must_fail 2 dyn fit text --params "{\"stem\": \"french\"}" "$TK" &&
	err_is "^dyn: hyperparameter \"stem\" of text: expected one of none, auto, english, russian, got \"french\"$" &&
	must_fail 2 dyn fit text --min-df 0 "$TK" && err_is "^dyn: hyperparameter \"min_df\" of text: expected" &&
	must_fail 2 dyn fit text --ngram-word none --ngram-char none "$TK" &&
	err_is "^dyn: text: ngram_word and ngram_char are both none: no features$" &&
	untouched
'
expect_success '--solver is shown and documented' '
	dyn fit text -h | grep -q -- "--solver auto|lbfgs" && documented dyn-fit fit text
'
