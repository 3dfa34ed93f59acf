#!/bin/sh
# dyn fit/predict logreg end to end (CSV in, store, predict --proba out) against scikit-learn's
# probabilities. Reference (scikit-learn 1.2.1, from the repository root):
#   /usr/bin/python3 -c 'import pandas as pd
#   from sklearn.linear_model import LogisticRegression
#   from sklearn.pipeline import make_pipeline
#   from sklearn.preprocessing import StandardScaler
#   for f, lab, rows in (("breast_cancer", "diagnosis", [0, 7, 19, 50, 100]),
#                        ("iris", "species", [0, 50, 70, 77, 133])):
#       df = pd.read_csv("testdata/%s.csv" % f); X, y = df.drop(columns=lab), df[lab]
#       p = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="newton-cg",
#                         tol=1e-10, max_iter=10000)).fit(X, y)
#       for r, pr, l in zip(rows, p.predict_proba(X.iloc[rows]), p.predict(X.iloc[rows])):
#           print(r + 1, l, " ".join("%.10f" % v for v in pr))'
. "$(dirname "$0")/lib.sh"

# close_rows FILE: compares "row label p..." lines of ./want with the same rows of dyn's CSV
# output FILE; probabilities within 1e-6.
close_rows() {
	awk -F, 'NR == FNR { split($0, f, " "); want[f[1]] = $0; next }
		FNR > 1 && ($1 in want) {
			n = split(want[$1], w, " ")
			if ($2 != w[2]) { print "row " $1 ": label " $2 ", want " w[2]; bad = 1 }
			for (i = 3; i <= n; i++) {
				d = $(i + 1) - w[i]
				if (d > 1e-6 || d < -1e-6) { print "row " $1 ": " $0 ", want " want[$1]; bad = 1 }
			}
			seen++
		}
		END { if (seen != 5) { print "matched " seen " rows"; bad = 1 }; exit bad }' want "$1"
}

expect_success 'binary logreg probabilities equal scikit-learn'"'"'s through the CLI' '
	cat >want <<-EOT &&
	1 malignant 0.0000000012 0.9999999988
	8 malignant 0.0209377041 0.9790622959
	20 benign 0.9261280384 0.0738719616
	51 benign 0.9991372533 0.0008627467
	101 malignant 0.0376047010 0.9623952990
	EOT
	dyn fit logreg --id bc --label diagnosis --test-fraction 0 --tol 1e-10 --max-iter 10000 \
		"$TESTDATA/breast_cancer.csv" >/dev/null &&
	dyn --format csv predict bc --proba "$TESTDATA/breast_cancer.csv" >got &&
	head -n 1 got | grep -qx "row,label,probability,p_benign,p_malignant" &&
	close_rows got
'

expect_success 'multinomial logreg probabilities equal scikit-learn'"'"'s through the CLI' '
	cat >want <<-EOT &&
	1 setosa 0.9846955587 0.0153043793 0.0000000620
	51 versicolor 0.0047296313 0.8648970887 0.1303732801
	71 virginica 0.0120121435 0.4403262240 0.5476616325
	78 virginica 0.0011792730 0.4578700369 0.5409506901
	134 versicolor 0.0019804190 0.5840101886 0.4140093924
	EOT
	dyn fit logreg --id ir --label species --test-fraction 0 --tol 1e-10 --max-iter 10000 \
		"$TESTDATA/iris.csv" >/dev/null &&
	dyn --format csv predict ir --proba "$TESTDATA/iris.csv" >got &&
	close_rows got
'

expect_success 'a fit that stops at max_iter is stored, with the warning in models show' '
	dyn fit logreg --id short --label diagnosis --test-fraction 0 --max-iter 2 \
		"$TESTDATA/breast_cancer.csv" >/dev/null &&
	dyn --format json models show short >show &&
	grep -q "did not converge in max_iter=2" show
'

expect_success 'an unknown solver is a usage error naming the allowed ones' '
	must_fail 2 dyn fit logreg --id s --label diagnosis --params "{\"solver\": \"saga\"}" \
		"$TESTDATA/breast_cancer.csv" &&
	err_is "^dyn: hyperparameter \"solver\" of logreg: expected one of auto, lbfgs, got \"saga\"$"
'
