#!/bin/sh
# dyn mark: markers, import (points, pictures, archives, duplicates, --map), next/mark/skip
# with holds, ls/show/stats/export, fit --marked and --suggest; the man page and completions.
. "$(dirname "$0")/lib.sh"

db=$DYN_STORE/datasets/dynamograms.db
ncards() { sqlite3 "$db" "SELECT count(*) FROM cards"; }

# cards of three markers, labeled, and the same kind of cards unlabeled (another seed)
dyn --seed 1 mark generate --per-marker 4 --markers normal,fluid-pound,gas-lock --points lab.csv \
	--images pics --size 160 --image-format png
dyn --seed 2 mark generate --per-marker 3 --markers normal,sand --points u.csv
cut -d, -f1,3,4 u.csv >unl.csv

expect_success 'a new store lists the 20 default markers without creating anything' '
	mkdir -p "$DYN_STORE" && dyn mark markers --format csv >m.csv &&
	test "$(tail -n +2 m.csv | wc -l)" -eq 20 &&
	grep -q "^fluid-pound,0,\"incomplete fillage" m.csv &&
	! test -e "$DYN_STORE/datasets"
'
expect_success 'import of labeled points marks them; a second import adds nothing' '
	dyn mark import lab.csv --user alice >i1.csv &&
	test "$(head -n 1 i1.csv)" = "card,source,status,markers" &&
	test "$(grep -c ",added,normal\$" i1.csv)" -eq 4 &&
	test "$(ncards)" -eq 12 &&
	dyn mark import lab.csv --user bob >i2.csv &&
	test "$(grep -c ",duplicate," i2.csv)" -eq 12 && test "$(ncards)" -eq 12 &&
	test "$(sqlite3 "$db" "SELECT count(*) FROM marks WHERE user = '"'"'alice'"'"'")" -eq 12 &&
	test "$(sqlite3 "$db" "PRAGMA journal_mode")" = wal
'
expect_success 'pictures from a folder and a zip keep their marker and their file, once' '
	dyn mark import pics --user alice >p1.csv &&
	test "$(grep -c ",added,gas-lock\$" p1.csv)" -eq 4 &&
	test "$(ls "$DYN_STORE/datasets/cards" | wc -l)" -eq 12 &&
	f=$(ls pics/normal | head -n 1) && h=$(sha256sum pics/normal/$f | cut -c1-64) &&
	test -f "$DYN_STORE/datasets/cards/$h.png" &&
	(cd pics && zip -qr ../pics.zip .) && dyn mark import pics.zip >p2.csv &&
	test "$(grep -c ",duplicate," p2.csv)" -eq 12 && test "$(ncards)" -eq 24
'
expect_success 'unlabeled cards are imported unmarked' '
	dyn mark import unl.csv --user alice >u1.csv &&
	test "$(grep -c ",added,\$" u1.csv)" -eq 6 &&
	dyn mark ls --unmarked --format csv >ls.csv && test "$(tail -n +2 ls.csv | wc -l)" -eq 6
'
expect_success 'a picture named on its own is unlabeled, whatever its folder; pics/ names pics' '
	mkdir -p kept/normal && cp "$TESTDATA/cards/surface.jpg" kept/normal/ &&
	DYN_STORE=$PWD/s4 dyn mark import kept/normal/surface.jpg >k1.csv &&
	grep -q "^1,kept/normal/surface.jpg,added,\$" k1.csv &&
	DYN_STORE=$PWD/s5 dyn mark import kept/ >k2.csv &&
	grep -q "^1,kept//*normal/surface.jpg,added,normal\$" k2.csv &&
	dyn --seed 3 mark generate --per-marker 1 --markers sand --images gen/ >/dev/null 2>&1 &&
	test -d gen/sand && ! test -e gen/.tmp-*
'
expect_success 'next holds one card for a user; two users get different cards' '
	a1=$(dyn mark next --user ann --format json | sed -n "s/.*\"card\":[[:space:]]*\([0-9]*\).*/\1/p") &&
	a2=$(dyn mark next --user ann --format json | sed -n "s/.*\"card\":[[:space:]]*\([0-9]*\).*/\1/p") &&
	b1=$(dyn mark next --user ben --format json | sed -n "s/.*\"card\":[[:space:]]*\([0-9]*\).*/\1/p") &&
	test -n "$a1" && test "$a1" = "$a2" && test -n "$b1" && test "$a1" != "$b1" &&
	dyn mark show "$a1" --format json >s.json && grep -q "\"held_by\":[[:space:]]*\"ann\"" s.json &&
	echo "$a1 $b1" >held
'
expect_success 'a mark ends the hold; the card is not handed out again' '
	read a1 b1 <held &&
	dyn mark "$a1" sand --user ann &&
	a3=$(dyn mark next --user ann --format json | sed -n "s/.*\"card\":[[:space:]]*\([0-9]*\).*/\1/p") &&
	test -n "$a3" && test "$a3" != "$a1" && test "$a3" != "$b1" &&
	dyn mark skip "$a3" --user ann &&
	a4=$(dyn mark next --user ann --format json | sed -n "s/.*\"card\":[[:space:]]*\([0-9]*\).*/\1/p") &&
	test "$a4" != "$a3" && test "$a4" != "$a1" &&
	dyn mark show "$a1" --format json | grep -q "\"markers\":[[:space:]]*\"sand\""
'
expect_success 'a hold expires after --ttl' '
	c=$(dyn mark next --user cid --ttl 1s --format json | sed -n "s/.*\"card\":[[:space:]]*\([0-9]*\).*/\1/p") &&
	sqlite3 "$db" "UPDATE holds SET until = 0 WHERE user = '"'"'cid'"'"'" &&
	dyn mark show "$c" --format json >s.json && ! grep -q held_by s.json
'
expect_success 'marking again replaces the user'"'"'s markers; other users'"'"' stay' '
	dyn mark 1 gas-lock,sand --user ann && dyn mark 1 normal --user ann &&
	dyn mark show 1 --format json >s.json &&
	grep -q "\"markers\":[[:space:]]*\"normal\"" s.json &&
	test "$(grep -c "\"user\":" s.json)" -eq 2 &&
	dyn mark 2 sand --user ann && dyn mark 3 normal --user ann
'
expect_success 'stats count cards, markers, users and agreement' '
	dyn mark stats --format json >st.json &&
	grep -q "^[[:space:]]*\"cards\":[[:space:]]*$(ncards)," st.json &&
	grep -q "\"sand\":[[:space:]]*[1-9]" st.json &&
	grep -q "\"ann\":" st.json &&
	tr -d " \n\t" <st.json | grep -q "\"agreement\":{\"cards\":3,\"agreed\":2,\"ratio\":0.66"
'
expect_success 'ls filters by marker and user; show gives the points in JSON' '
	dyn mark ls --marker sand --format csv | tail -n +2 | cut -d, -f1 | sort -n >sand &&
	grep -qx 2 sand &&
	dyn mark ls --user ann --format csv | tail -n +2 | cut -d, -f1 | grep -qx 1 &&
	dyn mark show 1 --format json | grep -q "\"points\":[[:space:]]*\[\[" &&
	dyn mark show 1 --render c1.png --format json >/dev/null &&
	od -An -tx1 -N4 c1.png | grep -q "89 50 4e 47"
'
expect_success 'export writes what fit and import read; labels by majority' '
	dyn mark export >ex.csv &&
	test "$(head -n 1 ex.csv)" = "card,marker,position,load" &&
	test "$(tail -n +2 ex.csv | cut -d, -f1 | sort -u | wc -l)" -eq "$(sqlite3 "$db" "SELECT count(*) FROM cards WHERE nmarks > 0")" &&
	grep -q "^2,sand," ex.csv && grep -q "^1,normal," ex.csv &&
	dyn mark export --format json >ex.json &&
	DYN_STORE=$PWD/s2 dyn mark import ex.json --add-markers >/dev/null &&
	DYN_STORE=$PWD/s2 dyn mark export | tail -n +2 | cut -d, -f2- | sort >b.txt &&
	tail -n +2 ex.csv | cut -d, -f2- | sort >a.txt && compare a.txt b.txt
'
expect_success 'fit --marked trains on the marked cards; --suggest shows 3 markers' '
	sqlite3 "$db" "UPDATE marks SET marked_at = '"'"'2000-01-01T00:00:00Z'"'"'" &&
	dyn --seed 1 fit dynamogram --marked --epochs 2 --width 8 --id mk1 >/dev/null &&
	dyn models show mk1 --format json >m.json &&
	grep -q "datasets/dynamograms.db" m.json &&
	dyn mark next --user dee --suggest mk1 --format json >n.json &&
	test "$(grep -c "\"probability\":" n.json)" -eq 3
'
expect_success 'fit --marked --warm-start goes on with the cards marked since' '
	sqlite3 "$db" "UPDATE marks SET marked_at = '"'"'2000-01-01T00:00:00Z'"'"'" &&
	n=$(dyn mark ls --unmarked --format csv | sed -n 2p | cut -d, -f1) &&
	dyn mark "$n" normal --user dee &&
	dyn fit dynamogram --marked --warm-start mk1 --epochs 1 --test-fraction 0 --id mk2 >/dev/null &&
	dyn models show mk2 --format json | grep -q "\"rows\":[[:space:]]*1,"
'
expect_success '--map renames imported markers; unknown ones are refused or added' '
	printf "card,marker,position,load\n" >r.csv &&
	tail -n +2 u.csv | sed "s/,normal,/,REGULAR_WORK,/; s/,sand,/,SAND_X,/" >>r.csv &&
	printf "from,to\nREGULAR_WORK,normal\n" >map.csv &&
	DYN_STORE=$PWD/s3 must_fail 3 dyn mark import r.csv --map map.csv &&
	err_is "unknown marker \"SAND_X\" \(map it" &&
	DYN_STORE=$PWD/s3 dyn mark import r.csv --map map.csv --add-markers >/dev/null &&
	DYN_STORE=$PWD/s3 dyn mark markers --format csv | grep -q "^SAND_X,3," &&
	DYN_STORE=$PWD/s3 dyn mark markers --format csv | grep -q "^normal,3,"
'
expect_success 'markers --add, --rename, --rm (refused while carried unless --force)' '
	dyn mark markers --add wax --description "paraffin deposits" &&
	dyn mark markers --format csv | grep -q "^wax,0,paraffin deposits" &&
	dyn mark markers --rename wax paraffin-wax && dyn mark 4 paraffin-wax --user ann &&
	must_fail 1 dyn mark markers --rm paraffin-wax && err_is "on 1 card .*--force" &&
	dyn mark markers --rm paraffin-wax --force &&
	! dyn mark markers --format csv | grep -q wax &&
	dyn mark show 4 --format json | grep -q "\"markers\":[[:space:]]*\"[a-z]"
'
expect_success 'the database passes integrity_check' '
	test "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok
'
expect_success 'dyn mark -h lists the verbs; the man page documents every option' '
	dyn mark -h >h && grep -q "^    next" h && grep -q "CARD MARKER" h &&
	for v in markers import next skip ls show export; do
		documented dyn-mark mark $v || exit 1
	done
'
expect_success 'completion offers the verbs, marker names and card ids' '
	dyn complete mark "" >c && grep -qx next c && grep -qx export c &&
	dyn complete mark 1 "" >c && grep -qx normal c &&
	dyn complete mark show "" >c && grep -qx 1 c
'

echo "1..$test_count"
