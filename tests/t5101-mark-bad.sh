#!/bin/sh
# dyn mark on bad input: each is a one-line error with the documented exit code, and the
# marking database is left as it was (or never created).
. "$(dirname "$0")/lib.sh"

db=$DYN_STORE/datasets/dynamograms.db
dyn --seed 1 mark generate --per-marker 2 --markers normal,sand --points lab.csv
dyn mark import lab.csv --user alice >/dev/null

expect_success 'an unknown card: exit 3, nothing changed' '
	store_snapshot before &&
	must_fail 3 dyn mark 99 normal --user ann && err_is "^dyn: no card 99$" &&
	must_fail 3 dyn mark show 99 && err_is "^dyn: no card 99$" &&
	must_fail 3 dyn mark skip 99 && err_is "^dyn: no card 99$" &&
	store_snapshot after && compare before after
'
expect_success 'an unknown marker: exit 3, the card keeps its marks' '
	must_fail 3 dyn mark 1 normal,nosuch --user ann &&
	err_is "^dyn: unknown marker \"nosuch\" \(see dyn mark markers\)$" &&
	dyn mark show 1 --format json | grep -q "\"markers\":[[:space:]]*\"normal\"" &&
	must_fail 3 dyn mark ls --marker nosuch && err_is "unknown marker \"nosuch\""
'
expect_success 'bad card ids, marker and user names: usage errors' '
	must_fail 2 dyn mark 0 normal && err_is "expected a card id" &&
	must_fail 2 dyn mark 1x normal && err_is "expected a card id .*got \"1x\"" &&
	must_fail 2 dyn mark 1 "bad name" && err_is "invalid marker name \"bad name\"" &&
	must_fail 2 dyn mark markers --add "$(printf "a\tb")" && err_is "invalid marker name" &&
	must_fail 2 dyn mark markers --add "-x" && err_is "." &&
	must_fail 2 dyn mark 1 normal --user "a b" && err_is "invalid user name \"a b\"" &&
	must_fail 2 dyn mark 1 normal,normal && err_is "marker \"normal\" given twice" &&
	must_fail 2 dyn mark next --ttl 0 && err_is "option --ttl" &&
	must_fail 2 dyn mark next --ttl 5x && err_is "option --ttl" &&
	must_fail 2 dyn mark export --format table && err_is "csv or json"
'
expect_success 'a marker that exists cannot be added again or renamed onto' '
	must_fail 1 dyn mark markers --add normal && err_is "marker \"normal\" exists" &&
	must_fail 1 dyn mark markers --rename sand normal && err_is "marker \"normal\" exists" &&
	must_fail 3 dyn mark markers --rename nosuch x && err_is "unknown marker"
'
expect_success 'an empty archive is an error and adds nothing' '
	printf "PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000" >empty.zip &&
	n=$(sqlite3 "$db" "SELECT count(*) FROM cards") &&
	must_fail 1 dyn mark import empty.zip && err_is "empty.zip: an archive without members$" &&
	test "$(sqlite3 "$db" "SELECT count(*) FROM cards")" -eq "$n"
'
expect_success 'an archive member with ../ or an absolute name is refused' '
	mkdir -p a/b && head -n 1 lab.csv >a/x.csv && grep "^g00000," lab.csv >>a/x.csv &&
	(cd a/b && tar -P -cf ../../evil.tar ../x.csv) && tar tf evil.tar | grep -q "^\.\./x.csv" &&
	must_fail 1 dyn mark import evil.tar && grep -q "\.\./x.csv" err &&
	test "$(grep -c . err)" -eq 1
'
expect_success 'text in a number column: the file and line are named, the rest goes in' '
	printf "card,position,load\nk1,0,1\nk1,1,2\nk1,oops,3\n" >bad.csv &&
	must_fail 1 dyn mark import bad.csv && err_is "bad.csv:4.*\"oops\""
'
expect_success 'a file that is not SQLite is an error and is left untouched' '
	mkdir -p s2/datasets && printf "not a database at all, just text\n" >s2/datasets/dynamograms.db &&
	cp s2/datasets/dynamograms.db copy &&
	DYN_STORE=$PWD/s2 must_fail 1 dyn mark import lab.csv &&
	err_is "dynamograms.db\": not a valid marking database .*left untouched" &&
	DYN_STORE=$PWD/s2 must_fail 1 dyn mark ls && err_is "not a valid marking database" &&
	cmp copy s2/datasets/dynamograms.db && ! test -e s2/datasets/dynamograms.db-wal
'
expect_success 'a damaged database is an error and is left untouched' '
	mkdir -p s3 && DYN_STORE=$PWD/s3 dyn mark import lab.csv >/dev/null &&
	sqlite3 s3/datasets/dynamograms.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	size=$(wc -c <s3/datasets/dynamograms.db) &&
	dd if=/dev/urandom of=s3/datasets/dynamograms.db bs=1 seek=4096 count=8192 conv=notrunc 2>/dev/null &&
	cp s3/datasets/dynamograms.db copy3 &&
	DYN_STORE=$PWD/s3 dyn mark ls >out 2>err; rc=$? &&
	test $rc -eq 1 && err_is "dynamograms.db\":" &&
	DYN_STORE=$PWD/s3 dyn mark 1 normal >out 2>err; test $? -eq 1 &&
	cmp copy3 s3/datasets/dynamograms.db
'
expect_success 'a database of a newer dyn is refused' '
	mkdir -p s4 && DYN_STORE=$PWD/s4 dyn mark markers --add x >/dev/null &&
	sqlite3 s4/datasets/dynamograms.db "UPDATE meta SET value = 99 WHERE key = '"'"'schema'"'"'" &&
	DYN_STORE=$PWD/s4 must_fail 1 dyn mark ls && err_is "schema 99, made by a newer dyn"
'
# Permissions bind no one as root: this one runs for other users only.
if [ "$(id -u)" -ne 0 ]; then
	expect_success 'a read-only store: marking is an error naming the database, reading works' '
		mkdir -p s5 && DYN_STORE=$PWD/s5 dyn mark import lab.csv >/dev/null &&
		sqlite3 s5/datasets/dynamograms.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
		chmod -R a-w s5 &&
		{ DYN_STORE=$PWD/s5 dyn mark 1 sand >out 2>err; rc=$?; chmod -R u+w s5; test $rc -eq 1; } &&
		err_is "dynamograms.db\": "
	'
fi
expect_success 'reading a store that does not exist: exit 3 naming it, nothing created' '
	for v in ls stats export markers; do
		DYN_STORE=$PWD/none must_fail 3 dyn mark $v && err_is "no store at \"$PWD/none\"" || exit 1
	done &&
	! test -e none
'
expect_success 'read-only commands on a store without a database create nothing' '
	mkdir empty && DYN_STORE=$PWD/empty dyn mark ls >out && DYN_STORE=$PWD/empty dyn mark stats >/dev/null &&
	DYN_STORE=$PWD/empty dyn mark export >/dev/null && test -z "$(ls -A empty)"
'
expect_success 'no unmarked card left: exit 3' '
	must_fail 3 dyn mark next --user ann && err_is "^dyn: no unmarked card left for ann$"
'
expect_success 'fit --marked: no data paths, only card kinds, an empty set is an error' '
	must_fail 2 dyn fit dynamogram --marked lab.csv && err_is "--marked: the cards come from" &&
	must_fail 2 dyn fit logreg --marked && err_is "--marked: logreg models do not read cards" &&
	DYN_STORE=$PWD/none must_fail 1 dyn fit dynamogram --marked &&
	err_is "no marked cards in the marking dataset"
'

expect_success 'a database of schema 1 is upgraded by a command that writes, named until then' '
	mkdir -p s8 && DYN_STORE=$PWD/s8 dyn mark import lab.csv >/dev/null &&
	sqlite3 s8/datasets/dynamograms.db "DROP INDEX marks_seq; ALTER TABLE marks DROP COLUMN seq; UPDATE meta SET value = 1 WHERE key = '"'"'schema'"'"'" &&
	DYN_STORE=$PWD/s8 must_fail 1 dyn mark ls && err_is "schema 1: a dyn mark command that writes" &&
	DYN_STORE=$PWD/s8 dyn mark markers --add up && DYN_STORE=$PWD/s8 dyn mark export >ex.csv &&
	test "$(sqlite3 s8/datasets/dynamograms.db "SELECT value FROM meta WHERE key = '"'"'schema'"'"'")" = 2 &&
	test "$(tail -n +2 ex.csv | cut -d, -f1 | sort -u | wc -l)" -eq 4
'

echo "1..$test_count"
