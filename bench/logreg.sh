#!/bin/sh
# Benchmark of `dyn fit logreg` against scikit-learn and liblinear on the same data, in one run.
#
# Data: 200,000 training and 50,000 test rows of 50 dense correlated Gaussian features, labels
# drawn from a logistic model (bench/logreg_data.py, fixed seed). The features are standardized
# beforehand (training mean and population std), because liblinear does not standardize and
# dyn does (inside the model): on standardized data the three solve the same problem,
#     min 0.5 ||w||^2 + C sum_i log(1 + exp(-y_i (w.x_i + b)))      (C = 1)
# except that liblinear's -B 1 also penalizes the bias (0.5 b^2), negligible at this n.
# Each tool runs with its defaults (dyn: tol 1e-4 on the gradient of the objective / (C n),
# max_iter 100; scikit-learn 1.2 lbfgs: tol 1e-4, max_iter 100; liblinear -s 0: -e 0.01).
#
# Timed end to end, as a user runs them: dyn parses the CSV, fits and writes its store;
# scikit-learn starts Python, imports, pandas.read_csv, fits, pickles the model; liblinear-train
# reads the libsvm-format file, fits and writes its model file. Held-out log-loss from
# `dyn predict --proba`, `liblinear-predict -b 1` and predict_proba (not timed).
# Also the solver alone: dyn's fit on data in memory (bench/logreg_fit.c, linked with
# build/libdyn.a) and scikit-learn's fit() alone.
#
# usage: sh bench/logreg.sh     (from the repository root, after `make`)
# env:   DYN (default ./dyn), OUT (default bench/out/logreg), N_TRAIN, N_TEST, D
# Needs: python3-sklearn python3-pandas liblinear-tools (Debian), /usr/bin/time (package time).
set -eu

DYN=${DYN:-./dyn}
OUT=${OUT:-bench/out/logreg}
N_TRAIN=${N_TRAIN:-200000}
N_TEST=${N_TEST:-50000}
D=${D:-50}
C=1
PY=/usr/bin/python3

for tool in liblinear-train liblinear-predict /usr/bin/time "$PY"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "logreg.sh: $tool not found; install: apt-get install liblinear-tools time python3-sklearn python3-pandas" >&2
		exit 1
	fi
done
"$PY" -c 'import sklearn, pandas' 2>/dev/null || {
	echo "logreg.sh: scikit-learn/pandas missing: apt-get install python3-sklearn python3-pandas" >&2
	exit 1
}
[ -x "$DYN" ] || {
	echo "logreg.sh: $DYN not found; run make first" >&2
	exit 1
}

mkdir -p "$OUT"
stamp="$N_TRAIN $N_TEST $D"
if [ ! -f "$OUT/stamp" ] || [ "$(cat "$OUT/stamp")" != "$stamp" ]; then
	echo "generating $N_TRAIN + $N_TEST rows x $D features in $OUT ..." >&2
	"$PY" bench/logreg_data.py "$OUT" "$N_TRAIN" "$N_TEST" "$D"
	# The same text values in libsvm format: "label 1:v1 2:v2 ...".
	for set in train test; do
		awk -F, -v d="$D" 'NR > 1 {
			printf "%s", $(d + 1)
			for (i = 1; i <= d; i++) printf " %d:%s", i, $i
			printf "\n"
		}' "$OUT/$set.csv" >"$OUT/$set.svm"
	done
	echo "$stamp" >"$OUT/stamp"
fi

# timed NAME CMD...: runs CMD, records "wall user sys" seconds in $OUT/NAME.time.
timed() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$OUT/$name.time" "$@"
}
wall() { cut -d' ' -f1 "$OUT/$1.time"; }
cpu() { awk '{ printf "%.2f", $2 + $3 }' "$OUT/$1.time"; }

# dyn, end to end.
rm -rf "$OUT/store"
timed dyn "$DYN" --store "$OUT/store" --quiet fit logreg --id bench --label y --test-fraction 0 \
	--C "$C" "$OUT/train.csv" >/dev/null
"$DYN" --store "$OUT/store" predict bench --proba "$OUT/test.csv" >"$OUT/dyn.proba"

# scikit-learn, end to end (Python start, imports, read_csv, fit, pickle).
cat >"$OUT/sk_fit.py" <<EOF
import time
t0 = time.time()
import pickle
import pandas as pd
from sklearn.linear_model import LogisticRegression
t1 = time.time()
df = pd.read_csv("$OUT/train.csv")
X, y = df.drop(columns="y").to_numpy(), df["y"].to_numpy()
t2 = time.time()
m = LogisticRegression(C=$C).fit(X, y)
t3 = time.time()
pickle.dump(m, open("$OUT/sk.pickle", "wb"))
open("$OUT/sk_parts", "w").write("%.3f %.3f %.3f %d\n" % (t1 - t0, t2 - t1, t3 - t2, m.n_iter_[0]))
EOF
timed sklearn "$PY" "$OUT/sk_fit.py"
"$PY" - <<EOF
import pickle
import numpy as np
import pandas as pd
m = pickle.load(open("$OUT/sk.pickle", "rb"))
df = pd.read_csv("$OUT/test.csv")
np.savetxt("$OUT/sk.proba", m.predict_proba(df.drop(columns="y").to_numpy())[:, 1])
EOF

# liblinear, end to end.
timed liblinear liblinear-train -q -s 0 -c "$C" -B 1 "$OUT/train.svm" "$OUT/ll.model"
liblinear-predict -b 1 "$OUT/test.svm" "$OUT/ll.model" "$OUT/ll.out" >/dev/null

# dyn's solver alone, on the same values held in memory.
solver=""
if [ -f build/libdyn.a ]; then
	cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags libcjson openblas) \
		-o "$OUT/logreg_fit" bench/logreg_fit.c build/libdyn.a \
		$(pkg-config --libs libcjson openblas) -lm -pthread
	solver=$("$OUT/logreg_fit" "$OUT/train.bin" "$C" 0)
fi

"$PY" - "$OUT" "$solver" <<'EOF'
import sys
import numpy as np
import pandas as pd

out, solver = sys.argv[1], sys.argv[2]
y = pd.read_csv(out + "/test.csv", usecols=["y"])["y"].to_numpy()


def logloss(p1):
    p1 = np.clip(p1, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p1) + (1 - y) * np.log(1 - p1)))


dyn = pd.read_csv(out + "/dyn.proba")
with open(out + "/ll.out") as f:
    labels = f.readline().split()[1:]
    ll = np.loadtxt(f)
ll_p1 = ll[:, 1 + labels.index("1")]
loss = {"dyn": logloss(dyn["p_1"].to_numpy()), "sklearn": logloss(np.loadtxt(out + "/sk.proba")),
        "liblinear": logloss(ll_p1)}
t = {k: [float(v) for v in open("%s/%s.time" % (out, k)).read().split()]
     for k in ("dyn", "sklearn", "liblinear")}
imp, read, fit, it = open(out + "/sk_parts").read().split()

ntr, nte, d = open(out + "/stamp").read().split()
print("logreg benchmark: %s train rows, %s test rows, %s features, C=1" % (ntr, nte, d))
print("%-10s %9s %9s %12s" % ("tool", "wall s", "cpu s", "log-loss"))
for k in ("dyn", "sklearn", "liblinear"):
    print("%-10s %9.2f %9.2f %12.6f" % (k, t[k][0], t[k][1] + t[k][2], loss[k]))
print("scikit-learn parts: import %s s, read_csv %s s, fit %s s (%s iterations)" %
      (imp, read, fit, it))
if solver:
    print("dyn solver alone (fit on data in memory): %s s, %s" % tuple(solver.split(" ", 1)))
ok = True
for peer, target in (("sklearn", 0.5), ("liblinear", 1.0)):
    rw = t["dyn"][0] / t[peer][0]
    rc = (t["dyn"][1] + t["dyn"][2]) / (t[peer][1] + t[peer][2])
    dl = (loss["dyn"] - loss[peer]) / loss[peer]
    met = rw <= target and dl <= 0.01
    ok = ok and met
    print("dyn/%-9s time ratio %.3f wall, %.3f cpu (target <= %.1f); log-loss %+.4f%% -> %s" %
          (peer, rw, rc, target, 100 * dl, "met" if met else "NOT met"))
EOF
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
