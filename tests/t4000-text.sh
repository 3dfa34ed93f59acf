#!/bin/sh
# Text models: fit with both classifiers and the services' params, the report, predict one text
# and a whole CSV (the trained column, --text-column), cross-validation, stemming.
. "$(dirname "$0")/lib.sh"
TK=$TESTDATA/text/tickets.csv

# show_json ID: the model's entry as JSON without blanks, for greps.
show_json() { dyn models show "$1" --format json | tr -d " \t"; }

expect_success 'fit text (logreg) prints the id and stores a report' '
	dyn fit text --id lr --model logreg "$TK" >out &&
	test "$(cat out)" = lr &&
	show_json lr >show &&
	grep -q "\"model\":\"logreg\"" show &&
	grep -q "\"log_loss\"" show &&
	grep -q "\"converged\":true" show &&
	grep -q "\"warm_start\":true" show &&
	grep -q "\"kind\":\"text\"" show &&
	grep -q "\"features\":\[\"text\"\]" show &&
	grep -q "\"roc_auc\"" show && grep -q "\"confusion_matrix\"" show &&
	grep -q "\"macro_avg\"" show && grep -q "\"weighted_avg\"" show &&
	acc=$(sed -n "s/.*\"accuracy\":\([0-9.]*\).*/\1/p" show | head -1) &&
	awk -v a="$acc" "BEGIN { exit !(a >= 0.9) }"
'
expect_success 'the default model is the svm' '
	dyn fit text --id def --test-fraction 0 "$TK" >/dev/null &&
	show_json def | grep -q "\"model\":\"svm\""
'
expect_success 'the held-out fit stops at ten times the automatic tolerance, the stored one at it' '
	show_json lr >show &&
	grep -q "\"tol\":0.0001," show && grep -q "\"holdout_tol\":0.001," show &&
	dyn fit text --id hsvm "$TK" >/dev/null && show_json hsvm >show &&
	grep -q "\"tol\":0.1," show && grep -q "\"holdout_tol\":1," show &&
	dyn fit text --id nore --no-refit "$TK" >/dev/null && show_json nore >show &&
	grep -q "\"tol\":0.1," show && ! grep -q holdout_tol show &&
	dyn fit text --id given --tol 0.05 "$TK" >/dev/null && show_json given >show &&
	grep -q "\"tol\":0.05," show && grep -q "\"holdout_tol\":0.05," show
'
expect_success 'fit text --model svm with the services params shape' '
	dyn fit text --id svm --model svm --params "{\"C\": 10, \"solver\": \"lbfgs\"}" "$TK" >/dev/null &&
	show_json svm | grep -q "\"model\":\"svm\""
'
expect_success 'predict --text: Russian and English tickets' '
	dyn predict lr --text "Не могу войти в личный кабинет, пароль не подходит" >out &&
	printf "label,probability\n" >want && head -1 out | compare want - &&
	sed -n 2p out | grep -q "^login," &&
	dyn predict svm --text "my parcel never arrived, tracking shows nothing" >out &&
	sed -n 2p out | grep -q "^delivery,"
'
expect_success 'predict --proba adds a column per class' '
	dyn predict svm --proba --text "refund my money please" >out &&
	head -1 out | grep -q "^label,probability,p_account_deletion,p_billing," &&
	sed -n 2p out | grep -q "^refund,"
'
expect_success 'predict a CSV: one row per record (embedded newlines included), trained column' '
	dyn predict lr "$TK" >out &&
	test "$(wc -l <out)" -eq 3001 &&
	head -1 out | grep -q "^row,label,probability$" &&
	correct=$(awk -F, "NR > 1" out | cut -d, -f2 >pred && /usr/bin/python3 -c "import csv,sys; [print(r[1]) for r in list(csv.reader(open(sys.argv[1])))[1:]]" "$TK" >gold 2>/dev/null && paste -d" " pred gold | awk "\$1 == \$2" | wc -l) &&
	test "$correct" -gt 2700
'
expect_success 'predict reads another column with --text-column' '
	printf "id,body\n1,\"password reset email never arrives\"\n2,\"курьер сегодня не приехал\"\n" >other.csv &&
	dyn predict lr --text-column body --key id other.csv >out &&
	printf "id,label\n1,login\n2,delivery\n" >want &&
	cut -d, -f1,2 out | compare want -
'
expect_success 'fit text --cv 3 and --class-weight balanced' '
	dyn fit text --id cv --model svm --class-weight balanced --cv 3 "$TK" >/dev/null &&
	show_json cv | grep -q "\"class_weight\":\"balanced\""
'
expect_success 'stemming, word-only and char-only features' '
	dyn fit text --id st --stem auto --ngram-char none --model svm "$TK" >/dev/null &&
	dyn predict st --text "подключения не работают" >/dev/null &&
	dyn fit text --id ch --ngram-word none --ngram-char 3-4 --sublinear-tf true --min-df 2 --max-features 5000 --model svm "$TK" >/dev/null &&
	show_json ch | grep -q "\"word_terms\":0,"
'
expect_success 'models rm removes a text model' '
	dyn models rm ch && must_fail 3 dyn models show ch
'
expect_success 'DYN_TRACE_PERF=1 times the phases of a fit on stderr, nothing on stdout' '
	DYN_TRACE_PERF=1 dyn fit text --id traced "$TK" >out 2>err &&
	test "$(cat out)" = traced &&
	for p in "fit: read data" "text: tf-idf" "text: solve" "fit: report" "fit: serialize model" "fit: store"; do
		grep -q "^dyn: trace: $p  *[0-9.]* s$" err || exit 1
	done &&
	DYN_TRACE_PERF=0 dyn fit text --id quiet "$TK" >out 2>err && ! grep -q trace err
'
expect_success 'the held-out fit and the refit count the documents once, a single fit once' '
	DYN_TRACE_PERF=1 dyn fit text --id once "$TK" >out 2>err &&
	test "$(grep -c "^dyn: trace: text: tf-idf: count " err)" = 1 &&
	test "$(grep -c "^dyn: trace: text: solve " err)" = 2 &&
	DYN_TRACE_PERF=1 dyn fit text --id once-nr --no-refit "$TK" >out 2>err &&
	test "$(grep -c "^dyn: trace: text: tf-idf: count " err)" = 1 &&
	test "$(grep -c "^dyn: trace: text: solve " err)" = 1
'
expect_success 'DYN_TRACE_PERF=cpu adds the CPU time of each phase' '
	DYN_TRACE_PERF=cpu dyn fit text --id traced-cpu "$TK" >out 2>err &&
	test "$(cat out)" = traced-cpu &&
	grep -q "^dyn: trace: text: solve  *[0-9.]* s  *[0-9.]* s cpu$" err &&
	! grep -q "^dyn: trace: .* s$" err
'
