#!/bin/sh
# Benchmark of dyn's svc against libsvm (svm-train / svm-predict from Debian's libsvm-tools) on
# the same deterministic data, in one run: a 20,000 x 30 two-class training set with a noisy
# nonlinear boundary and a 20,000-row test set (bench/svc_data.py, numpy with fixed seeds).
# Times: wall clock and CPU (user+sys) from /usr/bin/time. Prints ratios dyn / libsvm.
# usage: sh bench/svc.sh [N] [D]     (from the repository root, after `make`)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20000}
d=${2:-30}
PY=/usr/bin/python3
for tool in svm-train svm-predict /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "svc.sh: $tool not found (apt-get install libsvm-tools time)" >&2
		exit 1
	}
done
"$PY" -c 'import numpy' 2>/dev/null || {
	echo "svc.sh: numpy not found (apt-get install python3-numpy)" >&2
	exit 1
}
work=${TMPDIR:-/tmp}/dyn-bench-svc
mkdir -p "$work"
cd "$work"

C=1
# gamma: a power of two near 1/d (1/32 for d = 30), because svm-train keeps gamma in a float:
# with it both programs solve exactly the same problem.
G=${G:-$(awk -v d="$d" 'BEGIN { g = 1; while (g > 1.5 / d) g /= 2; printf "%.17g", g }')}
TOL=0.001
MB=200
THREADS=$(nproc 2>/dev/null || echo 1)

echo "== data: $n x $d train, $n test (in $work)"
"$PY" "$root/bench/svc_data.py" "$n" "$d" 1 train
"$PY" "$root/bench/svc_data.py" "$n" "$d" 2 test train.npz

cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/lib" $(pkg-config --cflags libcjson openblas) \
	-o svc_driver "$root/bench/svc_driver.c" "$root/build/libdyn.a" \
	$(pkg-config --libs libcjson openblas) -lm -pthread

# timed NAME CMD...: runs CMD, keeps stdout in NAME.out and "wall cpu" in NAME.time.
timed() {
	name=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$name.t" "$@" >"$name.out"
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$name.t" >"$name.time"
	echo "   $name: wall $(cut -d' ' -f1 "$name.time") s, cpu $(cut -d' ' -f2 "$name.time") s"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
wall() { cut -d' ' -f1 "$1.time"; }
cpu() { cut -d' ' -f2 "$1.time"; }

echo "== solver alone: svm-train (no -b) vs dyn's SMO, one thread"
timed libsvm_train svm-train -s 0 -t 2 -c $C -g "$G" -e $TOL -m $MB -h 1 train.svm train.model
OPENBLAS_NUM_THREADS=1 timed dyn_smo ./svc_driver smo train.svm $C "$G" $TOL $MB
echo "   libsvm: $(grep -E '^(nSV|Total nSV|obj)' libsvm_train.out | tr '\n' ' ')"
echo "   dyn:    $(tr '\n' ' ' <dyn_smo.out)"

echo "== with probabilities: svm-train -b 1 vs dyn svc (Platt, 5-fold CV, $THREADS threads)"
timed libsvm_train_b svm-train -s 0 -t 2 -c $C -g "$G" -e $TOL -m $MB -h 1 -b 1 train.svm train_b.model
timed libsvm_predict_b svm-predict -b 1 test.svm train_b.model test.pred
timed dyn_fit ./svc_driver fit train.svm test.svm $C "$G" $TOL $MB "$THREADS"
OPENBLAS_NUM_THREADS=1 timed dyn_fit1 ./svc_driver fit train.svm test.svm $C "$G" $TOL $MB 1
echo "   libsvm -b 1: $(grep Accuracy libsvm_predict_b.out)"
echo "   dyn ($THREADS threads): $(tr '\n' ' ' <dyn_fit.out)"
echo "   dyn (1 thread): $(tr '\n' ' ' <dyn_fit1.out)"
dfit=$(sed -n 's/^fit_seconds=//p' dyn_fit.out)
dfit1=$(sed -n 's/^fit_seconds=//p' dyn_fit1.out)
dpred=$(sed -n 's/^predict_seconds=//p' dyn_fit.out)

dyn_cli=no
if [ -x "$root/dyn" ] && "$root/dyn" --store "$work/store" fit svc --id b --replace --label y \
	--test-fraction 0 --C $C --gamma "$G" --tol $TOL --cache-mb $MB --threads "$THREADS" \
	train.csv >/dev/null 2>cli.err; then
	dyn_cli=yes
	timed dyn_cli_fit "$root/dyn" --store "$work/store" fit svc --id b --replace --label y \
		--test-fraction 0 --C $C --gamma "$G" --tol $TOL --cache-mb $MB --threads "$THREADS" train.csv
	timed dyn_cli_predict "$root/dyn" --store "$work/store" predict b test.csv
else
	echo "   (dyn fit svc not usable yet: $(head -1 cli.err); CLI timings skipped)"
fi

echo "== ratios dyn / libsvm (lower is better)"
echo "   solver alone, cpu:                 $(ratio "$(cpu dyn_smo)" "$(cpu libsvm_train)")"
echo "   solver alone, wall:                $(ratio "$(wall dyn_smo)" "$(wall libsvm_train)")"
echo "   fit with probabilities, 1 thread:  $(ratio "$dfit1" "$(wall libsvm_train_b)") (in-process fit time vs svm-train -b 1 wall)"
echo "   fit with probabilities, $THREADS threads: $(ratio "$dfit" "$(wall libsvm_train_b)")"
echo "   predict $n rows with probabilities: $(ratio "$dpred" "$(wall libsvm_predict_b)") (in-process vs svm-predict -b 1 wall)"
if [ $dyn_cli = yes ]; then
	echo "   dyn fit svc (CLI, wall):           $(ratio "$(wall dyn_cli_fit)" "$(wall libsvm_train_b)")"
	echo "   dyn predict (CLI, wall):           $(ratio "$(wall dyn_cli_predict)" "$(wall libsvm_predict_b)")"
fi
