#!/bin/sh
# Bad input to dyn stats and dyn forecast: one line on stderr naming file, line and column,
# exit 1 for data, 2 for usage, 3 for a queue that is not there.
. "$(dirname "$0")/lib.sh"

good() { printf "queueId,date,new_tickets\n1,2024-01-01,3\n1,2024-01-02,4\n1,2024-01-03,5\n"; }

expect_success 'forecasting a parent without --rollup says where its tickets are, writes nothing' '
	printf "id,name,level,parent_id\n1,Top,1,\n2,Child,2,1\n" >q.csv &&
	good | sed "s/^1,/2,/" >t.csv &&
	must_fail 1 dyn forecast --queues q.csv --queue 1 t.csv &&
	err_is "^dyn: queue \"1\" has no tickets of its own: they are in its descendants \(--rollup forecasts their sum\)$" &&
	test ! -s out &&
	dyn forecast --queues q.csv --queue 1 --rollup --horizon 2 t.csv >out && test "$(wc -l <out)" -eq 3
'
expect_success 'unparseable date' '
	{ good; printf "1,17/03,2\n"; } >tickets.csv &&
	must_fail 1 dyn stats tickets.csv &&
	err_is "^dyn: tickets.csv:5: column \"date\": expected YYYY-MM-DD, got \"17/03\"$" &&
	must_fail 1 dyn forecast tickets.csv &&
	err_is "^dyn: tickets.csv:5: column \"date\": expected YYYY-MM-DD, got \"17/03\"$"
'

expect_success 'impossible calendar date' '
	{ good; printf "1,2023-02-29,2\n"; } >tickets.csv &&
	must_fail 1 dyn stats tickets.csv &&
	err_is "^dyn: tickets.csv:5: column \"date\": expected YYYY-MM-DD, got \"2023-02-29\"$"
'

expect_success 'real values: fractions and negatives are load too; --check still flags them as counts' '
	{ good; printf "1,2024-01-04,2.5\n1,2024-01-05,-3\n"; } >tickets.csv &&
	dyn --format csv stats tickets.csv >out &&
	grep -q ",2024-01-01,2024-01-05,5,11.5,2.3,5,-3,3," out &&
	dyn --format csv forecast --method naive --horizon 2 --level 80 tickets.csv >out &&
	grep -q "^1,2024-01-06,-3,-6\.97[0-9]*,0\.97[0-9]*$" out &&
	must_fail 1 dyn stats --check --strict tickets.csv &&
	grep -q "^negative,1,.*got \"\"-3\"\"" out &&
	grep -q "^non_integer,1,.*got \"\"2.5\"\"" out
'

for v in 1e308 nan inf -1e16 many; do
	expect_success "a value that is not a finite number of sane size: $v" '
		{ good; printf "1,2024-01-04,%s\n" "'"$v"'"; } >tickets.csv &&
		must_fail 1 dyn stats tickets.csv &&
		err_is "^dyn: tickets.csv:5: column \"new_tickets\": expected a number \(at most 1e15 in magnitude\), got \"'"$v"'\"$" &&
		must_fail 1 dyn forecast tickets.csv &&
		err_is "^dyn: tickets.csv:5: column \"new_tickets\": expected a number"
	'
done

expect_success 'duplicate (queue, date) rows: an error, or summed with --duplicates sum' '
	{ good; printf "1,2024-01-02,1\n"; } >tickets.csv &&
	must_fail 1 dyn stats tickets.csv &&
	err_is "^dyn: tickets.csv:5: duplicate row for queue \"1\" on 2024-01-02 \(use --duplicates sum to add them up\)$" &&
	dyn --format csv stats --duplicates sum tickets.csv | cut -d, -f12 | tail -n 1 >out &&
	echo 13 >exp && compare exp out &&
	must_fail 2 dyn stats --duplicates keep tickets.csv &&
	err_is "^dyn: option --duplicates: expected error or sum, got \"keep\"$"
'

expect_success 'unknown queue id: exit 3' '
	good >tickets.csv &&
	must_fail 3 dyn stats --queue 99 tickets.csv && err_is "^dyn: queue \"99\": not found$" &&
	must_fail 3 dyn forecast --queue 1,99 tickets.csv && err_is "^dyn: queue \"99\": not found$"
'

expect_success 'a ticket row for a queue missing from the queues file' '
	printf "id,name,level,parent_id\n1,A,1,\n" >queues.csv &&
	{ good; printf "7,2024-01-01,1\n"; } >tickets.csv &&
	must_fail 1 dyn stats --queues queues.csv tickets.csv &&
	err_is "^dyn: tickets.csv:5: column \"queueId\": queue \"7\" is not in queues.csv$"
'

expect_success 'a parent cycle in the queue tree' '
	printf "id,name,level,parent_id\n1,Root,1,\n2,A,2,3\n3,B,3,2\n" >queues.csv &&
	good >tickets.csv &&
	must_fail 1 dyn stats --queues queues.csv tickets.csv &&
	err_is "^dyn: queues.csv:3: column \"parent_id\": queue \"2\" is in a parent cycle \(2 -> 3 -> 2\)$"
'

expect_success 'a queue whose parent is missing' '
	printf "id,name,level,parent_id\n1,Root,1,\n2,A,2,1\n3,B,3,8\n" >queues.csv &&
	good >tickets.csv &&
	must_fail 1 dyn forecast --queue 1 --queues queues.csv tickets.csv &&
	err_is "^dyn: queues.csv:4: column \"parent_id\": parent \"8\" of queue \"3\" is not in the file$"
'

expect_success 'a duplicate queue id in the queues file' '
	printf "id,name,level,parent_id\n1,Root,1,\n1,Again,1,\n" >queues.csv &&
	good >tickets.csv &&
	must_fail 1 dyn stats --queues queues.csv tickets.csv &&
	err_is "^dyn: queues.csv:3: column \"id\": duplicate queue id \"1\"$"
'

expect_success 'an empty range after --from/--to' '
	good >tickets.csv &&
	must_fail 1 dyn stats --from 2025-01-01 tickets.csv &&
	err_is "^dyn: no ticket rows between 2025-01-01 and the end \(the data covers 2024-01-01..2024-01-03\)$" &&
	must_fail 1 dyn forecast --from 2025-01-01 --to 2025-02-01 tickets.csv &&
	err_is "^dyn: queue \"1\": no ticket rows in the range \(the data covers 2024-01-01..2024-01-03\)$" &&
	must_fail 2 dyn stats --from 2024-02-01 --to 2024-01-01 tickets.csv &&
	err_is "^dyn: option --from: 2024-02-01 is after --to 2024-01-01$" &&
	must_fail 2 dyn stats --from 01/02/2024 tickets.csv &&
	err_is "^dyn: option --from: expected YYYY-MM-DD, got \"01/02/2024\"$"
'

expect_success 'horizon 0, negative or absurd' '
	good >tickets.csv &&
	must_fail 2 dyn forecast --horizon 0 tickets.csv &&
	err_is "^dyn: option --horizon: expected an integer from 1 to 10000, got 0$" &&
	must_fail 2 dyn forecast --horizon 1000000000 tickets.csv &&
	err_is "^dyn: option --horizon: expected an integer from 1 to 10000, got 1000000000$" &&
	must_fail 2 dyn forecast --horizon -5 tickets.csv &&
	err_is "^dyn: option --horizon: expected an integer from 1 to 10000, got -5$" &&
	must_fail 2 dyn forecast --horizon ten tickets.csv &&
	err_is "^dyn: option --horizon: expected an integer, got \"ten\"$"
'

expect_success 'bad --level, --method, --granularity, --shard, --plot' '
	good >tickets.csv &&
	must_fail 2 dyn forecast --level 80,100 tickets.csv &&
	err_is "^dyn: option --level: expected percentages between 0 and 100 \(e.g. 80,95\), got \"80,100\"$" &&
	must_fail 2 dyn forecast --method prophet tickets.csv &&
	err_is "^dyn: option --method: expected auto, ets, theta, snaive, naive or mean, got \"prophet\"$" &&
	must_fail 2 dyn forecast --granularity year tickets.csv &&
	err_is "^dyn: option --granularity: expected day, week or month, got \"year\"$" &&
	must_fail 2 dyn forecast --all --shard 5/4 tickets.csv &&
	err_is "^dyn: option --shard: expected I/N with 1 <= I <= N \(e.g. 2/4\), got \"5/4\"$" &&
	must_fail 2 dyn forecast --plot out.pdf tickets.csv &&
	err_is "^dyn: option --plot: expected a file name ending in .png or .svg, got \"out.pdf\"$"
'

expect_success 'several queues without --queue or --all' '
	{ good; printf "2,2024-01-01,1\n"; } >tickets.csv &&
	must_fail 2 dyn forecast tickets.csv &&
	err_is "^dyn: the data has 2 queues: name them with --queue ID or use --all$"
'

expect_success 'a series of one point forecasts flat, without NaN' '
	printf "queueId,date,new_tickets\n1,2024-01-01,4\n" >tickets.csv &&
	dyn --format csv forecast --horizon 3 tickets.csv >out &&
	test $(wc -l <out) -eq 4 && ! grep -qi nan out &&
	sed -n 2p out | grep -q "^1,2024-01-02,4,"
'

expect_success 'an all-zero series forecasts zeros, without NaN' '
	{ echo queueId,date,new_tickets; for d in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20; do echo "1,2024-01-$d,0"; done; } >tickets.csv &&
	dyn --format csv forecast --horizon 5 tickets.csv >out &&
	test $(wc -l <out) -eq 6 && ! grep -qi nan out &&
	awk -F, "NR > 1 && (\$3 != 0 || \$4 < 0 || \$5 < 0) { exit 1 }" out
'

expect_success '--backtest needs more history than the horizon' '
	good >tickets.csv &&
	must_fail 1 dyn forecast --backtest --horizon 5 tickets.csv &&
	err_is "^dyn: queue \"1\": 3 periods of history, --backtest needs more than the horizon \(5\) plus one$"
'

expect_success 'non-UTF-8 bytes in a queue id, and in a date' '
	printf "queueId,date,new_tickets\n1,2024-01-01,1\nq\377,2024-01-01,1\n" >tickets.csv &&
	must_fail 1 dyn stats tickets.csv &&
	err_is "^dyn: tickets.csv:3: column \"queueId\": invalid UTF-8$" &&
	printf "queueId,date,new_tickets\n1,2024-01-01,1\n1,2024\37701-02,1\n" >tickets.csv &&
	must_fail 1 dyn stats tickets.csv &&
	err_is "^dyn: tickets.csv:3: column \"date\": expected YYYY-MM-DD, got \"2024\\\\xff01-02\"$"
'

expect_success 'missing columns name what is there' '
	printf "queue,date,count\n1,2024-01-01,1\n" >tickets.csv &&
	must_fail 1 dyn stats tickets.csv &&
	err_is "^dyn: tickets.csv: no column \"queueId\" \(columns: queue,date,count\)$"
'

expect_success 'a file that does not exist' '
	must_fail 1 dyn stats nope.csv; grep -q "nope.csv" err && test $(wc -l <err) -eq 1
'
