#!/bin/sh
# Every numeric option of every command, generated from the option tables (the hidden
# --list-ranges): a value just below its range and just above is a usage error (exit 2) naming
# the option, and nothing is written.
. "$(dirname "$0")/lib.sh"

cmds=$(
	for k in $(dyn fit --list-options); do echo "fit $k"; done
	for v in $(dyn mark --list-options); do echo "mark $v"; done
	for v in $(dyn models --list-options); do echo "models $v"; done
	echo predict
	echo forecast
	echo stats
)
echo "$cmds" | while read -r c; do
	# shellcheck disable=SC2086
	dyn $c --list-ranges | while read -r name type lo hi; do
		echo "$c|$name|$type|$lo|$hi"
	done
done >ranges

expect_success 'the option tables list ranges for the numeric options' '
	grep -q "^fit svc|--cv|integer|2|1000\$" ranges &&
	grep -q "^forecast|--horizon|integer|1|" ranges &&
	grep -q "^fit dynamogram|--epochs|integer|1|" ranges &&
	grep -q "^predict|--top|integer|1|" ranges &&
	grep -q "^mark generate|--per-marker|integer|1|" ranges &&
	test "$(wc -l <ranges)" -ge 40
'

# one value outside a bound: integers step by 1, numbers by 1 (or by half the bound's size)
outside() {
	awk -v t="$1" -v b="$2" -v d="$3" 'BEGIN {
		if (b == "inf" || b == "-inf" || b + 0 >= 1e9 || b + 0 <= -1e9) exit 1
		if (t == "integer") printf "%d\n", b + d
		else printf "%.17g\n", b + d * (b == 0 ? 1 : (b < 0 ? -b : b) / 2 + 1e-9)
	}'
}

while IFS='|' read -r c name type lo hi; do
	for side in below above; do
		if [ $side = below ]; then v=$(outside "$type" "$lo" -1) || continue; else v=$(outside "$type" "$hi" 1) || continue; fi
		# hyperparameters are named as in --params: --max-iter is "max_iter"
		p=$(echo "${name#--}" | tr - _)
		expect_success "dyn $c $name $v ($side its range) is a usage error" "
			store_snapshot before &&
			must_fail 2 dyn $c $name=$v &&
			err_is '(option $name: |hyperparameter \"$p\" )' &&
			store_snapshot after && compare before after
		"
	done
done <ranges

echo "1..$test_count"
