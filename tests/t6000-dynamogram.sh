#!/bin/sh
# dyn fit dynamogram and predict on cards: points files in every shape, the epoch table, the
# training status, pretrained and warm starts. Tiny networks and few epochs: the accuracy
# figures are in tests/unit/t_dynamogram.c and bench/.
. "$(dirname "$0")/lib.sh"

# cards.csv: 16 cards of three deterministic shapes, ~60 points each, in the long format.
# square: a near parallelogram of loads 10..30; band: a thin band 27..30; lens: an ellipse.
awk 'BEGIN {
	print "card,marker,position,load"
	for (c = 0; c < 48; c++) {
		kind = c % 3; n = 56 + (c * 7) % 11; ph = (c * 0.37) % 1
		for (i = 0; i < n; i++) {
			t = 2 * 3.14159265 * (i / n + ph); p = (1 - cos(t)) / 2 * (2 + (c % 5) * 0.3)
			up = sin(t) >= 0
			if (kind == 0) l = up ? 30 : 10
			else if (kind == 1) l = up ? 30 : 27
			else l = 20 + 8 * sin(t)
			if (kind != 2) l += (up ? -1 : 1) * 20 * exp(-12 * (up ? t : t - 3.14159265))
			l += 0.3 * sin(i * 12.9898 + c * 78.233)
			printf "c%02d,%s,%.4f,%.4f\n", c, kind == 0 ? "square" : kind == 1 ? "band" : "lens", p, l
		}
	}
}' >cards.csv
# One card (c04) as a file of its own, in each points shape.
awk -F, 'NR > 1 && $1 == "c04" { print $3 "," $4 }' cards.csv >body
{ echo position,load; cat body; } >c04.csv
awk -F, 'BEGIN { printf "{\"points\": [" } { printf "%s[%s,%s]", (NR > 1 ? "," : ""), $1, $2 } END { print "]}" }' body >c04.json
awk -F, 'BEGIN { printf "{\"raw_data\": [" } { printf "%s{\"x\": %s, \"y\": %s}", (NR > 1 ? "," : ""), $1, $2 } END { print "]}" }' body >c04-raw.json
TINY="--epochs 4 --width 4 --points 32 --batch-size 8 --warmup 0"

expect_success 'fit dynamogram on a long-format CSV prints the id and stores a done model' '
	dyn fit dynamogram $TINY --id pump cards.csv >out 2>err &&
	test "$(cat out)" = pump &&
	dyn models ls --format csv >ls &&
	grep -q "^pump,dynamogram,.*,48,3,[0-9.]*,holdout,,done$" ls
'
expect_success 'models show: the epoch table (epoch, loss, val_loss, lr, accuracy) and status' '
	dyn models show pump --format json >show &&
	grep -q "\"status\":.*\"done\"" show &&
	for k in epoch loss val_loss lr accuracy val_accuracy started_at finished_at; do
		grep -q "\"$k\"" show || { echo "no $k"; exit 1; }
	done &&
	test "$(grep -c "\"epoch\":" show)" -eq 4 &&
	dyn models show pump --format table >t &&
	grep -q "^epoch  *loss  *val_loss  *lr" t && test "$(sed -n "/^epochs:/,\$p" t | wc -l)" -eq 7
'
expect_success 'predict prints card, label, probability; --top and --proba add columns' '
	dyn predict pump cards.csv >p &&
	head -1 p | grep -qx "card,label,probability" &&
	test "$(wc -l <p)" -eq 49 &&
	grep -q "^cards.csv:c07,\(square\|band\|lens\),0\.[0-9]*$" p &&
	dyn predict pump --top 2 --proba cards.csv >p2 &&
	head -1 p2 | grep -qx "card,label,probability,label_2,probability_2,p_band,p_lens,p_square"
'
expect_success 'one card a file, JSON shapes and standard input give the same answers' '
	dyn predict pump c04.csv c04.json c04-raw.json >p &&
	dyn predict pump - <c04.csv >ps &&
	dyn predict pump cards.csv | grep "^cards.csv:c04," | cut -d, -f2- >want &&
	for f in c04.csv c04.json c04-raw.json; do grep "^$f," p | cut -d, -f2- | compare want - || exit 1; done &&
	tail -1 ps | cut -d, -f2- | compare want -
'
expect_success 'a zip of card files is read member by member' '
	command -v zip >/dev/null || { echo "zip not installed: skipped"; exit 0; }
	zip -q cards.zip c04.csv c04.json &&
	dyn predict pump cards.zip >pz &&
	grep -q "^cards.zip:c04.csv," pz && grep -q "^cards.zip:c04.json," pz
'
expect_success 'the same seed gives the same model, whatever the threads' '
	dyn --threads 1 --seed 7 fit dynamogram $TINY --id s1 cards.csv >/dev/null &&
	dyn --threads 2 --seed 7 fit dynamogram $TINY --id s2 cards.csv >/dev/null &&
	dyn --threads 3 --seed 7 fit dynamogram $TINY --id s3 cards.csv >/dev/null &&
	dyn predict s1 cards.csv >a && dyn predict s2 cards.csv >b && dyn predict s3 cards.csv >c &&
	compare a b && compare a c &&
	dyn models show s1 --format json | grep "\"sha256\"" | head -1 >h1 &&
	dyn models show s2 --format json | grep "\"sha256\"" | head -1 >h2 &&
	compare h1 h2
'
expect_success '--cv 3 reports cross-validation; the stored model is fit on all cards' '
	dyn fit dynamogram $TINY --cv 3 --id cv cards.csv >/dev/null &&
	dyn models show cv --format json >show &&
	grep -q "\"method\":.*\"cv\"" show && grep -q "\"folds\":.*3" show &&
	test "$(grep -c "\"epoch\":" show)" -eq 4
'
expect_success '--warm-start continues with new cards of some of its classes' '
	grep -v ",lens," cards.csv >two.csv &&
	dyn fit dynamogram $TINY --test-fraction 0 --warm-start pump --id warm two.csv >/dev/null &&
	dyn models show warm --format json | grep -q "\"lens\"" &&
	dyn predict warm cards.csv | grep -q ",lens,"
'
expect_success '--pretrained takes the matching weights of a model of other classes' '
	sed "s/,square,/,box,/" cards.csv >other.csv &&
	dyn fit dynamogram $TINY --pretrained pump --id pre other.csv >/dev/null &&
	dyn models show pre --format json | grep -q "\"box\""
'
expect_success 'the arch=raster network trains and predicts too' '
	dyn fit dynamogram --arch raster --raster 16 --epochs 2 --width 4 --batch-size 8 --id r cards.csv >/dev/null &&
	dyn predict r c04.csv | grep -q "^c04.csv,"
'
expect_success 'a training shows running from its first epoch, and a killed one reads failed' '
	# "$DYN", not the dyn function: $! must be dyn itself, not a subshell
	"$DYN" fit dynamogram --epochs 100000 --width 4 --points 32 --batch-size 8 --id slow cards.csv >/dev/null 2>&1 &
	pid=$!
	i=0
	until dyn models show slow --format json 2>/dev/null | grep -q "\"epoch\":"; do
		i=$((i + 1)); test $i -lt 600 || { kill -9 $pid; exit 1; }; sleep 0.1
	done
	dyn models ls --format csv | grep -q "^slow,.*,running$" &&
	must_fail 1 dyn predict slow c04.csv && err_is "^dyn: model \"slow\" is still training$" &&
	kill -9 $pid && wait $pid
	dyn models ls --format csv | grep -q "^slow,.*,failed$" &&
	dyn models show slow --format json | grep -q "ended before it finished" &&
	must_fail 1 dyn predict slow c04.csv && err_is "^dyn: model \"slow\" failed to train" &&
	dyn fit logreg --test-fraction 0 "$TESTDATA/iris.csv" --label species >/dev/null &&
	dyn models rm slow && ! grep -q "\"slow\"" "$DYN_STORE/index.json"
'
expect_success 'the id of a failed training is taken again by the next try, without --replace' '
	awk -F, "\$1 == \"card\" || \$1 == \"c00\" || \$1 == \"c01\"" cards.csv >few.csv &&
	must_fail 1 dyn fit dynamogram $TINY --test-fraction 0.2 --id retry few.csv &&
	dyn models ls --format csv | grep -q "^retry,.*,failed$" &&
	dyn fit dynamogram $TINY --test-fraction 0 --id retry few.csv >/dev/null &&
	dyn models ls --format csv | grep -q "^retry,.*,done$" &&
	must_fail 2 dyn fit dynamogram $TINY --test-fraction 0 --id retry few.csv
'
expect_success 'an existing id is refused before any training' '
	must_fail 2 dyn fit dynamogram $TINY --id pump cards.csv &&
	err_is "^dyn: model \"pump\" already exists \(use --replace\)$"
'
expect_success '--replace keeps the old model usable until the new one is done' '
	dyn fit dynamogram $TINY --id pump --replace --seed 3 cards.csv >/dev/null &&
	dyn predict pump c04.csv >/dev/null
'
expect_success 'pictures: a folder per marker on disk or in a zip trains and predicts' '
	dyn mark generate --per-marker 3 --markers normal,parted-rods --images pics >/dev/null 2>&1 &&
	dyn fit dynamogram --arch raster --raster 16 --epochs 1 --width 4 --test-fraction 0 --id pics pics >/dev/null &&
	dyn models show pics --format json | grep -q "\"normal\", \"parted-rods\"" &&
	(cd pics && zip -qr ../pics.zip .) &&
	dyn fit dynamogram --arch raster --raster 16 --epochs 1 --width 4 --test-fraction 0 --id pz pics.zip >/dev/null &&
	dyn predict pz pics.zip >pp && test "$(wc -l <pp)" -eq 7 &&
	grep -q "^pics.zip:parted-rods/g0000[345]\.\(png\|jpg\),\(normal\|parted-rods\),0\.[0-9]*$" pp
'
