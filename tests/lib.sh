# Helpers for the shell tests (sourced by tests/tNNNN-*.sh). Each test runs in its own
# scratch directory with its own store; "ok - ..." / "not ok - ..." lines are counted by run.sh.
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
TESTDATA=$TESTS/../testdata
SHARED=$TESTS/../../shared
: "${DYN:=$TESTS/../dyn}"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/dyn-t.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT INT TERM
cd "$SCRATCH" || exit 1
export DYN_STORE="$SCRATCH/store"
export NO_COLOR=1
unset DYN_THREADS
test_count=0

dyn() { "$DYN" "$@"; }

# expect_success DESC COMMANDS: COMMANDS (a shell snippet) must exit 0.
expect_success() {
	test_count=$((test_count + 1))
	if (eval "$2") >"$SCRATCH/.out" 2>&1; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		sed 's/^/#   /' "$SCRATCH/.out" | tail -n 20
	fi
}

# must_fail CODE CMD...: CMD must exit with CODE; its stderr is left in ./err, stdout in ./out.
must_fail() {
	want=$1
	shift
	"$@" >out 2>err
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "expected exit $want, got $got from: $*"
		cat err
		return 1
	fi
	return 0
}

# err_is PATTERN: ./err is exactly one line, matching the extended regex PATTERN.
err_is() {
	if [ "$(wc -l <err)" -ne 1 ]; then
		echo "expected one line on stderr, got:"
		cat err
		return 1
	fi
	grep -Eq -- "$1" err || {
		echo "stderr does not match /$1/:"
		cat err
		return 1
	}
}

# compare EXPECTED ACTUAL
compare() { diff -u "$1" "$2"; }

# store_snapshot FILE: a listing of the store's files and their hashes, to show it is untouched.
store_snapshot() {
	if [ -d "$DYN_STORE" ]; then
		(cd "$DYN_STORE" && find . -type f ! -name .lock | sort | xargs -r sha256sum) >"$1"
	else
		: >"$1"
	fi
}

# documented PAGE CMD...: the long options of "dyn CMD... -h" all appear in man/PAGE.1.
documented() {
	page=$1
	shift
	dyn "$@" -h | grep -oE -- "--[a-z0-9-]+" | sort -u >opts
	test -s opts || return 1
	sed 's/\\-/-/g' "$TESTS/../man/$page.1" >plain
	while read -r o; do
		grep -qE -- "$o([^a-z0-9-]|$)" plain || { echo "$o missing from $page.1"; return 1; }
	done <opts
}
# completed CMD...: the long options of "dyn CMD... -h" (each option line's own, not those its
# description mentions) are all offered by "dyn complete".
completed() {
	dyn "$@" -h | sed -nE 's/^ +(-[a-zA-Z0-9], )?(--[a-z0-9-]+).*/\2/p' | sort -u >opts
	test -s opts || { echo "no option lines in dyn $* -h"; return 1; }
	dyn complete "$@" -- >compl
	while read -r o; do
		grep -qx -- "$o" compl || { echo "$o not completed"; return 1; }
	done <opts
}
