#!/bin/sh
# dyn mark generate: synthetic cards as points and pictures; counts, determinism, --force,
# usage errors; the man page and the completions agree with -h.
. "$(dirname "$0")/lib.sh"

expect_success 'points and pictures of two cards per marker' '
	dyn mark generate --per-marker 2 --points p.csv --images im --size 64x48 &&
	test "$(head -n 1 p.csv)" = "card,marker,position,load" &&
	test "$(tail -n +2 p.csv | cut -d, -f1 | sort -u | wc -l)" -eq 40 &&
	test "$(tail -n +2 p.csv | cut -d, -f2 | sort -u | wc -l)" -eq 20 &&
	test "$(ls im | wc -l)" -eq 20 &&
	test "$(find im -type f | wc -l)" -eq 40 &&
	ls im/normal | grep -Eqx "g0000[01]\.(png|jpg)" &&
	ls im/paraffin-friction | grep -Eqx "g0003[89]\.(png|jpg)" &&
	! ls -a | grep -q tmp
'
expect_success 'every card has 100 to 400 points, numbers in every field' '
	tail -n +2 p.csv | awk -F, "NF != 4 || \$3 !~ /^-?[0-9.e+-]+\$/ || \$4 !~ /^-?[0-9.e+-]+\$/ { bad = 1 }
		{ n[\$1]++ } END { for (c in n) if (n[c] < 100 || n[c] > 400) bad = 1; exit bad }"
'
expect_success 'the card ids of the points are the names of the pictures' '
	tail -n +2 p.csv | cut -d, -f2,1 | sort -u | tr , / >ids &&
	(cd im && find . -type f | sed "s|^\./||; s|\.[a-z]*\$||" | awk -F/ "{ print \$2 \"/\" \$1 }") | sort >pics &&
	sort ids >ids.sorted && compare ids.sorted pics
'
expect_success 'pictures are PNG or JPEG files of the asked size' '
	f=$(find im -name "*.png" | head -n 1) && g=$(find im -name "*.jpg" | head -n 1) &&
	test -n "$f" && test -n "$g" &&
	od -An -tx1 -N8 "$f" | grep -q "89 50 4e 47 0d 0a 1a 0a" &&
	od -An -tx1 -N2 "$g" | grep -q "ff d8" &&
	od -An -tu1 -j16 -N8 "$f" | awk "{ exit !(\$3 * 256 + \$4 == 64 && \$7 * 256 + \$8 == 48) }"
'
expect_success 'same seed, same bytes, whatever the thread count' '
	dyn --seed 3 --threads 1 mark generate --per-marker 2 --markers sand,normal --points a.csv --images ia &&
	dyn --seed 3 --threads 2 mark generate --per-marker 2 --markers sand,normal --points b.csv --images ib &&
	cmp a.csv b.csv && diff -r ia ib &&
	dyn --seed 4 mark generate --per-marker 2 --markers sand,normal --points c.csv &&
	! cmp -s a.csv c.csv
'
expect_success 'a card depends on its marker and number, not on the other markers' '
	dyn --seed 3 mark generate --per-marker 2 --markers normal --points n.csv &&
	grep ",normal," a.csv | cut -d, -f2- >x && grep ",normal," n.csv | cut -d, -f2- >y && compare x y
'
expect_success '--markers keeps its order and numbers the cards in it' '
	tail -n +2 a.csv | cut -d, -f1,2 | uniq >order &&
	printf "g00000,sand\ng00001,sand\ng00002,normal\ng00003,normal\n" >want && compare want order
'
expect_success 'pump cards differ from surface cards' '
	dyn mark generate --per-marker 1 --markers normal --pump --points pump.csv &&
	dyn mark generate --per-marker 1 --markers normal --points surf.csv &&
	! cmp -s pump.csv surf.csv &&
	test "$(cut -d, -f1 pump.csv | sort -u | wc -l)" -eq 2
'
expect_success 'existing outputs are refused without --force and left alone' '
	cp p.csv p.keep && must_fail 1 dyn mark generate --per-marker 1 --points p.csv &&
	err_is "^dyn: \"p.csv\" exists \(--force replaces it\)$" && cmp p.csv p.keep &&
	must_fail 1 dyn mark generate --per-marker 1 --images im &&
	err_is "^dyn: \"im\" exists \(--force replaces it\)$" && test "$(find im -type f | wc -l)" -eq 40
'
expect_success '--force replaces them' '
	dyn mark generate --per-marker 1 --points p.csv --images im --force &&
	test "$(tail -n +2 p.csv | cut -d, -f1 | sort -u | wc -l)" -eq 20 &&
	test "$(find im -type f | wc -l)" -eq 20 && ! ls -a | grep -Eq "tmp|old"
'
expect_success '--force does not replace a file by a picture directory' '
	: >plain && must_fail 1 dyn mark generate --per-marker 1 --images plain --force &&
	err_is "^dyn: \"plain\" exists and is not a directory$"
'
expect_success 'bad options are usage errors with a message' '
	must_fail 2 dyn mark generate --per-marker 1 && err_is "nothing to write" &&
	must_fail 2 dyn mark generate --per-marker 0 --points q.csv &&
	err_is "^dyn: option --per-marker: expected an integer from 1 to 1000000, got 0$" &&
	must_fail 2 dyn mark generate --per-marker x --points q.csv && err_is "per-marker" &&
	must_fail 2 dyn mark generate --markers normal,bogus --points q.csv &&
	err_is "^dyn: option --markers: unknown marker \"bogus\" \(see dyn-mark\(1\)\)$" &&
	must_fail 2 dyn mark generate --markers sand,sand --points q.csv &&
	err_is "^dyn: option --markers: \"sand\" given twice$" &&
	must_fail 2 dyn mark generate --size 8x8 --images q && err_is "^dyn: option --size:" &&
	must_fail 2 dyn mark generate --image-format gif --images q &&
	err_is "^dyn: option --image-format: expected png, jpeg or any, got \"gif\"$" &&
	must_fail 2 dyn mark generate --points q.csv extra && err_is "unexpected argument" &&
	must_fail 2 dyn mark frobnicate && err_is "is not a mark command" &&
	must_fail 2 dyn mark && ! test -e q.csv && ! test -e q
'
expect_success 'dyn mark -h lists the verbs and the 20 markers' '
	dyn mark -h >out && grep -q "^    generate " out &&
	test "$(grep -cE "^    [a-z-]+ +[a-z]" out)" -eq 29 && grep -q "^    next " out &&
	dyn mark generate -h >out && grep -q "^usage: dyn mark generate" out
'
expect_success 'options of dyn mark generate are in dyn-mark(1) and completed' '
	documented dyn-mark mark generate && completed mark generate
'
expect_success 'every marker is described in dyn-mark(1)' '
	dyn mark -h | sed -n "/^Markers:/,\$p" | tail -n +2 | awk "{ print \$1 }" >names &&
	test "$(wc -l <names)" -eq 20 &&
	while read -r m; do grep -q "^\.B $m\$" "$TESTS/../man/dyn-mark.1" || { echo "$m"; exit 1; }; done <names
'
expect_success 'completion: the verb, marker names, image formats' '
	dyn complete mark "" >c && grep -qx generate c &&
	dyn complete mark generate --markers "" >c && grep -qx pump-off c && test "$(wc -l <c)" -eq 20 &&
	dyn complete mark generate --image-format "" >c && grep -qx jpeg c &&
	dyn complete "" >c && grep -qx mark c
'
expect_success 'the man page is well-formed roff' '
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$TESTS/../man/dyn-mark.1" >/dev/null 2>warn </dev/null &&
	test ! -s warn
'
