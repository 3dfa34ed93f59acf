#!/bin/sh
# dyn fit, predict and models on the bundled data: every input shape, every output format,
# evaluation modes, and the store's catalogue.
. "$(dirname "$0")/lib.sh"
BC=$TESTDATA/breast_cancer.csv
IRIS=$TESTDATA/iris.csv
SVC=$TESTDATA/service

expect_success 'fit logreg prints the id; models ls lists it' '
	dyn fit logreg --label diagnosis --id bc "$BC" >out &&
	test "$(cat out)" = bc &&
	dyn models ls --format csv >ls &&
	grep -q "^bc,logreg,20[0-9-]*T[0-9:]*Z,569,2,0\.9[0-9]*,holdout," ls
'
expect_success 'models show: params, features, classes, report, training, data, integrity' '
	dyn models show bc --format json >show &&
	grep -q "\"kind\":.*\"logreg\"" show && grep -q "\"C\":.*1" show &&
	grep -q "\"mean_radius\"" show && grep -q "\"benign\", \"malignant\"" show &&
	for k in accuracy roc_auc log_loss macro_avg weighted_avg per_class confusion_matrix started_at finished_at sha256 integrity; do
		grep -q "\"$k\"" show || { echo "no $k"; exit 1; }
	done &&
	grep -q "\"integrity\":.*\"ok\"" show && grep -q "\"status\":.*\"done\"" show
'
expect_success 'the store holds index.json and a safetensors model file' '
	test -f "$DYN_STORE/index.json" && ls "$DYN_STORE"/models/bc*.safetensors
'
expect_success 'predict streams one row per input row, label and probability' '
	dyn predict bc "$BC" >pred &&
	test "$(wc -l <pred)" -eq 570 &&
	head -1 pred | grep -qx "row,label,probability" &&
	awk -F, "NR>1 && (\$3 < 0.5 || \$3 > 1) {bad=1} END {exit bad}" pred
'
expect_success 'predict accuracy on the training rows is high' '
	dyn predict bc "$BC" --keep diagnosis >pred &&
	awk -F, "NR>1 {n++; if (\$2 == \$4) ok++} END {exit !(ok / n > 0.97)}" pred
'
expect_success 'predict --proba: one column per class, rows sum to 1' '
	dyn predict bc --proba "$BC" >pred &&
	head -1 pred | grep -qx "row,label,probability,p_benign,p_malignant" &&
	awk -F, "NR>1 {s = \$4 + \$5; if (s < 0.999999 || s > 1.000001) bad=1} END {exit bad}" pred
'
expect_success 'predict --key, --keep and --top' '
	awk -F, "BEGIN{OFS=\",\"} NR==1{print \"id\",\$0; next} {print \"p\" NR-1,\$0}" "$BC" >keyed.csv &&
	dyn predict bc --key id --keep diagnosis --top 2 keyed.csv >pred &&
	head -1 pred | grep -qx "id,label,probability,label_2,probability_2,diagnosis" &&
	sed -n 2p pred | grep -q "^p1,malignant,"
'
expect_success 'predict reads stdin and keeps the order' '
	dyn predict bc <"$BC" >a && dyn predict bc - <"$BC" >b && dyn predict bc "$BC" >c &&
	compare a c && compare b c
'
expect_success 'predict output formats: json, ndjson, table' '
	head -3 "$BC" | dyn predict bc --format json >j &&
	head -1 j | grep -qx "\[" && grep -q "{\"row\": 1, \"label\": \"malignant\", \"probability\": 0\.9" j &&
	head -3 "$BC" | dyn predict bc --format ndjson >nd && test "$(wc -l <nd)" -eq 2 &&
	head -3 "$BC" | dyn predict bc --format table >t && grep -q "^row  *label  *probability" t
'
expect_success 'predict with a gzip-compressed input' '
	gzip -c "$BC" >bc.csv.gz && dyn predict bc bc.csv.gz >a && dyn predict bc "$BC" >b && compare a b
'
expect_success 'the services request shape gets the services response shape' '
	dyn predict bc "$SVC/predict_request.json" >resp &&
	head -1 resp | grep -q "^{\"predictions\": \[" &&
	test "$(grep -c "\"label\"" resp)" -eq 12 && ! grep -q "\"row\"" resp
'
expect_success 'fit from the services JSON shape {"X", "y"} (label y, numeric classes)' '
	dyn fit logreg --id svcjson "$SVC/fit_request.json" >/dev/null &&
	dyn models show svcjson --format json >show && grep -q "\"classes\":.*\\[\"0\", \"1\"\\]" show &&
	grep -q "\"x29\"" show &&
	dyn predict svcjson "$SVC/predict_request.json" >resp &&
	grep -q "{\"label\": [01], \"probability\": " resp
'
expect_success 'fit from NDJSON, from a JSON array of objects, and from stdin' '
	dyn fit logreg --id nd "$SVC/fit_request.ndjson" >/dev/null &&
	dyn fit logreg --id objs "$SVC/fit_request_objects.json" >/dev/null &&
	dyn fit logreg --id stdin --label diagnosis <"$BC" >/dev/null &&
	dyn models show stdin --format json | grep -q "\"stdin\""
'
expect_success 'the same data and seed give the same model' '
	dyn fit logreg --id again --label diagnosis "$BC" >/dev/null &&
	dyn predict bc "$BC" >a && dyn predict again "$BC" >b && compare a b
'
expect_success 'an existing id is refused; --replace replaces it' '
	must_fail 2 dyn fit logreg --id bc --label diagnosis "$BC" &&
	err_is "^dyn: model \"bc\" already exists \(use --replace\)$" &&
	dyn fit logreg --id bc --replace --C 0.01 --label diagnosis "$BC" >/dev/null &&
	dyn models show bc --format json | grep -q "\"C\":.*0\.01"
'
expect_success 'hyperparameters from --params JSON and from a file; options override' '
	dyn fit logreg --id p1 --label diagnosis --params "{\"C\": 10, \"solver\": \"lbfgs\"}" "$BC" >/dev/null &&
	dyn models show p1 --format json | grep -q "\"C\":.*10" &&
	echo "{\"C\": 3, \"max_iter\": 500}" >params.json &&
	dyn fit logreg --id p2 --label diagnosis --params params.json --C 2 "$BC" >/dev/null &&
	dyn models show p2 --format json >show && grep -q "\"C\":.*2," show && grep -q "\"max_iter\":.*500" show
'
expect_success '--cv K reports cross-validation' '
	dyn fit logreg --id cv --label diagnosis --cv 5 "$BC" >/dev/null &&
	dyn models show cv --format json >show &&
	grep -q "\"method\":.*\"cv\"" show && grep -q "\"folds\":.*5" show && grep -q "\"n\":.*569" show
'
expect_success '--grid searches and keeps the best parameters' '
	dyn fit svc --id g --label diagnosis --grid "C=0.01,1,10" --cv 3 "$BC" >/dev/null &&
	dyn models show g --format json >show &&
	test "$(grep -c "\"log_loss\"" show)" -ge 4 && grep -q "\"grid\"" show &&
	grep -m1 "\"C\":" show | grep -qv "0\.01"
'
expect_success '--test-fraction 0 reports on the training rows and says so' '
	dyn fit logreg --id tf0 --label diagnosis --test-fraction 0 "$BC" >/dev/null &&
	dyn models show tf0 --format json | grep -q "\"method\":.*\"training\""
'
expect_success 'multiclass: logreg and svc on iris' '
	lab=$(head -1 "$IRIS" | awk -F, "{print \$NF}") &&
	dyn fit logreg --id irl --label "$lab" "$IRIS" >/dev/null &&
	dyn fit svc --id irs --label "$lab" "$IRIS" >/dev/null &&
	dyn predict irl --proba "$IRIS" >a && test "$(head -1 a | tr , "\n" | grep -c "^p_")" -eq 3 &&
	dyn predict irs --keep "$lab" "$IRIS" >b &&
	awk -F, "NR>1 {n++; if (\$2 == \$4) ok++} END {exit !(ok / n > 0.95)}" b
'
expect_success 'svc kernels: linear, poly and sigmoid fit and predict' '
	for k in linear poly sigmoid; do
		dyn fit svc --id "k-$k" --kernel $k --label diagnosis "$BC" >/dev/null || exit 1
		dyn predict "k-$k" "$BC" >/dev/null || exit 1
	done
'
expect_success '--warm-start continues from a stored model' '
	dyn fit logreg --id warm --label diagnosis --warm-start bc "$BC" >/dev/null &&
	dyn models show warm --format json | grep -q "\"converged\":.*true"
'
expect_success 'models rm removes the entry and its file; -f ignores missing ids' '
	f=$(ls "$DYN_STORE"/models/tf0*) &&
	dyn models rm tf0 && test ! -e "$f" && ! dyn models ls | grep -q "^tf0," &&
	must_fail 3 dyn models rm tf0 && err_is "^dyn: model \"tf0\" not found$" &&
	dyn models rm -f tf0 nope
'
expect_success 'rm is all or nothing' '
	must_fail 3 dyn models rm cv nope && dyn models ls | grep -q "^cv,"
'
expect_success 'predict answers each row of a pipe as it comes (no waiting for a batch)' '
	mkfifo in outp &&
	timeout 60 sh -c "
		\"$DYN\" predict bc <in >outp &
		exec 3>in 4<outp
		head -2 \"$BC\" >&3
		read -r h <&4 && read -r r1 <&4 || exit 1
		sed -n 3p \"$BC\" >&3
		read -r r2 <&4 || exit 1
		exec 3>&-
		wait
		test \"\$h\" = row,label,probability && test \"\${r2%%,*}\" = 2
	"
'
expect_success 'service request shapes and names are taken, or refused naming the dyn equivalent' '
	dyn fit logreg --id svcshape --params "{\"model\": \"logistic\", \"config\": {\"C\": 10}}" "$SVC/fit_request.json" >/dev/null &&
	dyn models show svcshape --format json | grep -q "\"C\":[[:space:]]*10" &&
	must_fail 2 dyn fit logreg --params "{\"model\": \"SVM\"}" "$SVC/fit_request.json" &&
	err_is "\"model\": \"SVM\" is dyn fit svc, not logreg" &&
	printf "{\"X\": [[1, 2], [3, 4]], \"y\": [0, 1], \"config\": {\"C\": 10}}" >cfg.json &&
	must_fail 1 dyn fit logreg cfg.json && err_is "cfg.json: \"config\" is not read from data" &&
	printf "text,label\nreset my password,login\nthe invoice is wrong,billing\nlogin fails,login\nrefund the invoice,billing\n" >t.csv &&
	dyn fit text --model SVM --id tsvm --test-fraction 0 t.csv >/dev/null &&
	dyn models show tsvm --format json | grep -q "\"model\":[[:space:]]*\"svm\"" &&
	dyn --format csv forecast --queue 6 --horizon 2 --granularity weekly "$TESTDATA/tickets/tickets.csv" >w.csv &&
	dyn --format csv forecast --queue 6 --horizon 2 --granularity week "$TESTDATA/tickets/tickets.csv" >w2.csv &&
	compare w.csv w2.csv
'
expect_success 'a model of the services x0..xN shape reads a CSV with a header --by-position' '
	dyn fit logreg --id xs --test-fraction 0 "$SVC/fit_request.json" >/dev/null &&
	must_fail 1 dyn predict xs "$TESTDATA/patients.csv" &&
	err_is "missing feature columns \"x0\", \"x1\", \"x2\", \"x3\", \"x4\", \.\.\. \(30 of the model.s 30\)" &&
	dyn --format csv predict xs --by-position --key patient_id "$TESTDATA/patients.csv" >bp.csv &&
	test "$(wc -l <bp.csv)" -eq 21 && head -n 2 bp.csv | tail -n 1 | grep -q "^P001,1,0\.9" &&
	# the same rows in the services shape give the same answers
	{ printf "{\"X\": ["; cut -d, -f2- "$TESTDATA/patients.csv" | sed -n "2,4s/.*/[&]/p" |
		paste -sd, - | tr -d "\n"; printf "]}\n"; } >x.json &&
	dyn --format csv predict xs x.json | tail -n +2 | cut -d, -f2- >a &&
	head -n 4 bp.csv | tail -n +2 | cut -d, -f2- >b && compare a b &&
	must_fail 1 dyn predict xs --by-position "$TESTDATA/patients.csv" &&
	err_is "patients.csv: --by-position: 31 feature columns, the model takes 30$" &&
	must_fail 2 dyn predict tsvm --by-position t.csv && err_is "--by-position: the model reads texts, not rows"
'
