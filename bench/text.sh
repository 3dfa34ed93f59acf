#!/bin/sh
# Benchmark of dyn's text model against fastText (`fasttext supervised`, Debian's fasttext,
# default settings) and scikit-learn (TfidfVectorizer word 1-2 + char_wb 2-4, LinearSVC and
# LogisticRegression), in one run, on the same train/test split: dyn's default (svm) and
# `--model logreg`, each as a user types it (held-out report, then the refit on all rows);
# test accuracy and log-loss; then predict throughput of dyn against scikit-learn's transform +
# predict. Data (80/20 split): "wordnet", the default, a real corpus of 117,659 labelled
# documents from Debian's wordnet-base (bench/wordnet_corpus.py says what it is); "debian",
# about 63,000 Debian package descriptions in 58 sections, from apt's package index
# (bench/debian_corpus.py; needs `apt-get update` once); or "synthetic", ROWS documents of the
# generated ticket corpus (testdata/text/gen_tickets.py). Times: wall clock and CPU (user+sys).
# Prints ratios. REPEAT=N sets the alternations of the timed fits (default 3), LOGREG=0 skips
# the logistic regressions, SKLEARN_LR=0 scikit-learn's alone (its longest fit).
# usage: sh bench/text.sh [wordnet | debian | synthetic [ROWS]]   (from the repository root,
#        after `make`)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-wordnet}
rows=${2:-60000}
PY=/usr/bin/python3
for tool in fasttext /usr/bin/time "$PY"; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "text.sh: $tool not found (apt-get install fasttext time python3)" >&2
		exit 1
	}
done
"$PY" -c 'import sklearn' 2>/dev/null || {
	echo "text.sh: scikit-learn not found (apt-get install python3-sklearn)" >&2
	exit 1
}
[ "$corpus" != wordnet ] || [ -f /usr/share/wordnet/data.noun ] || {
	echo "text.sh: WordNet not found (apt-get install wordnet-base)" >&2
	exit 1
}
[ "$corpus" != debian ] || ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || {
	echo "text.sh: no Debian package index (apt-get update)" >&2
	exit 1
}
[ -x "$root/dyn" ] || { echo "text.sh: build dyn first (make)" >&2; exit 1; }
work=${TMPDIR:-/tmp}/dyn-bench-text
rm -rf "$work"
mkdir -p "$work"
exec "$PY" "$root/bench/text_bench.py" "$root" "$work" "$corpus" "$rows"
