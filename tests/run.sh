#!/bin/sh
# The one test runner: C unit tests (build/tests/t_*) and shell tests (tests/tNNNN-*.sh).
# Each prints "ok - ..." / "not ok - ..." lines; a program that exits non-zero without a
# "not ok" line (a crash, a sanitizer report) counts as one more failure.
# Usage: DYN=/path/to/dyn UNITDIR=build/tests sh tests/run.sh [TEST...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${DYN:=$here/../dyn}"
: "${UNITDIR:=$here/../build/tests}"
export DYN UNITDIR
# Sanitizer reports fail the test that triggers them; third-party leaks are suppressed by name.
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
out=$(mktemp -d "${TMPDIR:-/tmp}/dyn-tests.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

if [ $# -gt 0 ]; then
	abs=
	for t in "$@"; do
		case "$t" in /*) ;; *) t=$(pwd)/$t ;; esac
		abs="$abs $t"
	done
	set -- $abs
else
	set -- $(ls "$UNITDIR"/t_* 2>/dev/null | grep -v '\.d$') $(ls "$here"/t[0-9]*.sh)
fi

pass=0
fail=0
for t in "$@"; do
	name=$(basename "$t")
	log="$out/$name.log"
	t0=$(date +%s%N)
	case "$t" in
	*.sh) (cd "$here" && sh "$t") </dev/null >"$log" 2>&1 ;;
	*) (cd "$here" && "$t") </dev/null >"$log" 2>&1 ;;
	esac
	rc=$?
	# seconds a test took, so that the suite's time (CI's budget) can be read test by test
	secs=$(( ($(date +%s%N) - t0) / 100000000 ))
	secs="$((secs / 10)).$((secs % 10)) s"
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed, $secs)"
		sed 's/^/    /' "$log" | grep -v '^    ok - ' | tail -n 60
	else
		echo "PASS $name ($p, $secs)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
