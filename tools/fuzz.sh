#!/bin/sh
# make fuzz: builds every fuzz target (tests/fuzz/f_*.c) with clang's libFuzzer under ASan and
# UBSan and runs each for SECONDS (default 60) from its seeds (tests/fuzz/seeds.sh) and stored
# corpus; an input that crashes, leaks or runs over 1 s is kept in build-fuzz/crashes/NAME/.
# Prints one line a target: executions, coverage, crashes. Copy a fixed crasher into
# tests/fuzz/corpus/NAME/ so that the test suite replays it from then on.
# usage: sh tools/fuzz.sh [SECONDS [NAME...]]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
sh tools/deps.sh tools/fuzz-packages
B=build-fuzz
san='-fsanitize=address,undefined -fno-sanitize-recover=all'
# dyn itself (the usual build) makes the seeds of the targets that need models or a database
${MAKE:-make} -s dyn
${MAKE:-make} -s BUILD=$B CC=clang OPT='-O1 -g -fno-omit-frame-pointer' \
	SAN="$san -fsanitize=fuzzer-no-link" $B/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS) $(TEST_LIBS)\n' | make -s -f Makefile -f - print-libs)
cflags=$(printf 'print-cflags:\n\t@echo $(DYN_CFLAGS)\n' | make -s -f Makefile -f - print-cflags)
mkdir -p $B/bin $B/logs
[ $# -gt 0 ] || set -- $(cd tests/fuzz && ls f_*.c | sed 's/\.c$//')
echo "fuzzing $# targets for $secs s each, $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for name in "$@"; do
	clang -O1 -g $cflags $san -fsanitize=fuzzer -Itests/fuzz -o $B/bin/$name \
		tests/fuzz/$name.c tests/fuzz/fuzz.c $B/libdyn.a $libs
	corpus=$B/corpus/$name
	rm -rf "$B/crashes/$name"
	mkdir -p "$corpus" "$B/crashes/$name"
	DYN=$PWD/dyn sh tests/fuzz/seeds.sh "$name" "$corpus"
	[ -d tests/fuzz/corpus/$name ] && cp tests/fuzz/corpus/$name/* "$corpus/" 2>/dev/null || true
	log=$B/logs/$name.log
	set +e
	LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
		$B/bin/$name -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$B/crashes/$name/" "$corpus" >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	crashes=$(ls "$B/crashes/$name" | wc -l)
	printf '%-14s %12s executions  %6s edges covered  %d crash%s  (exit %d; log %s)\n' \
		"$name" "${execs:-?}" "${cov:-?}" "$crashes" "$([ "$crashes" -eq 1 ] && echo "" || echo es)" \
		"$rc" "$log"
	[ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] || status=1
done
exit $status
