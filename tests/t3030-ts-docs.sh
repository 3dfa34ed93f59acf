#!/bin/sh
# dyn stats and dyn forecast: every option of -h is in the man page and offered by completion.
. "$(dirname "$0")/lib.sh"
MAN=$TESTS/../man

expect_success 'options of dyn stats are in dyn-stats(1) and completed' '
	documented dyn-stats stats && completed stats
'
expect_success 'options of dyn forecast are in dyn-forecast(1) and completed' '
	documented dyn-forecast forecast && completed forecast
'
expect_success 'the man pages are well-formed roff' '
	for f in "$MAN/dyn-stats.1" "$MAN/dyn-forecast.1"; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" >/dev/null 2>warn </dev/null || exit 1
		test ! -s warn || { cat warn; exit 1; }
	done
'
expect_success 'dyn --help lists stats and forecast' '
	dyn --help >out && grep -q "^    stats " out && grep -q "^    forecast " out
'
expect_success '-h exits 0 and prints nothing on stderr' '
	dyn stats -h >out 2>err && test ! -s err && dyn forecast -h >out 2>err && test ! -s err
'
