#!/bin/sh
# The fuzz targets' regression run: every target (built with a replay driver under the suite's
# sanitizers) replays its seeds (tests/fuzz/seeds.sh) and its stored corpus
# (tests/fuzz/corpus/NAME/: crashers found by `make fuzz`, kept once fixed). A crash, leak or
# sanitizer report fails the target.
. "$(dirname "$0")/lib.sh"

bindir=${UNITDIR:-$TESTS/../build/tests}/../fuzz
for src in "$TESTS"/fuzz/f_*.c; do
	name=$(basename "$src" .c)
	expect_success "fuzz target $name replays its seeds and stored corpus" "
		test -x '$bindir/$name' &&
		DYN='$DYN' sh '$TESTS/fuzz/seeds.sh' $name seeds-$name &&
		test \"\$(ls seeds-$name | wc -l)\" -ge 1 &&
		set -- seeds-$name &&
		if [ -d '$TESTS/fuzz/corpus/$name' ]; then set -- \"\$@\" '$TESTS/fuzz/corpus/$name'; fi &&
		'$bindir/$name' \"\$@\" >replay.out 2>&1 || { cat replay.out; exit 1; }
		! grep -q '^not ok' replay.out
	"
done
