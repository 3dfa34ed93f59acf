#!/bin/sh
# Text models on real text: 3,000 WordNet 3.0 glosses labelled with their lexicographer file
# (testdata/text/wordnet-3k.csv, 43 of WordNet's 45 classes, very imbalanced). Held-out accuracy
# against scikit-learn on the same split and features.
. "$(dirname "$0")/lib.sh"
WN=$TESTDATA/text/wordnet-3k.csv

# Reference, from `/usr/bin/python3 tests/ref/text_tfidf.py wordnet` (scikit-learn 1.2.1; train
# on the first 2400 glosses, test on the last 600; TF-IDF word 1-2 + char_wb 2-5, min_df 1):
#   LinearSVC(): accuracy 0.5116666666666667
#   LinearSVC(class_weight='balanced'): accuracy 0.5316666666666666
#   LogisticRegression(max_iter=1000): accuracy 0.4583333333333333
SK_SVM=0.5116666666666667
SK_SVM_BALANCED=0.5316666666666666
SK_LR=0.4583333333333333
FEATURES="--ngram-word 1-2 --ngram-char 2-5 --min-df 1"

head -2401 "$WN" >train.csv
{ head -1 "$WN"; tail -n +2402 "$WN"; } >test.csv

# accuracy PREDICTIONS: the share of test.csv's labels the predictions (row,label,...) match
accuracy() {
	cut -d, -f2 "$1" | tail -n +2 >pred &&
		awk -F, 'NR > 1 { print $NF }' test.csv >gold &&
		test "$(wc -l <pred)" -eq 600 && test "$(wc -l <gold)" -eq 600 &&
		paste -d" " pred gold | awk '$1 == $2 { n++ } END { printf "%.6f\n", n / NR }'
}
# within A B: |A - B| <= 0.01 (one point)
within() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d <= 0.01 && d >= -0.01) }'; }

expect_success 'the excerpt and its split are what the reference used' '
	test "$(wc -l <train.csv)" -eq 2401 && test "$(wc -l <test.csv)" -eq 601 &&
	head -1 train.csv | grep -qx "text,label"
'
expect_success 'svm: held-out accuracy within 1 point of LinearSVC()' '
	dyn fit text --id svm --model svm $FEATURES --test-fraction 0 train.csv >/dev/null &&
	dyn predict svm test.csv >p.csv &&
	acc=$(accuracy p.csv) && echo "dyn $acc, sklearn $SK_SVM" && within "$acc" "$SK_SVM"
'
expect_success 'svm --class-weight balanced: within 1 point of LinearSVC(class_weight=balanced)' '
	dyn fit text --id bal --model svm --class-weight balanced $FEATURES --test-fraction 0 \
		train.csv >/dev/null &&
	dyn predict bal test.csv >p.csv &&
	acc=$(accuracy p.csv) && echo "dyn $acc, sklearn $SK_SVM_BALANCED" &&
	within "$acc" "$SK_SVM_BALANCED"
'
expect_success 'logreg: held-out accuracy within 1 point of LogisticRegression()' '
	dyn fit text --id lr --model logreg $FEATURES --test-fraction 0 train.csv >/dev/null &&
	dyn predict lr test.csv >p.csv &&
	acc=$(accuracy p.csv) && echo "dyn $acc, sklearn $SK_LR" && within "$acc" "$SK_LR"
'
expect_success 'the report names all 43 classes of the training rows' '
	dyn models show svm --format json | tr -d " \t\n" >show &&
	for c in noun.artifact verb.motion adj.all adv.all noun.Tops; do
		grep -q "\"$c\":{\"precision\"" show || exit 1
	done
'
