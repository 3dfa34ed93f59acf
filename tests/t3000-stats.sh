#!/bin/sh
# dyn stats: every view on small hand-made data (exact expected output) and on the bundled sample.
. "$(dirname "$0")/lib.sh"
T=$TESTDATA/tickets

cat >q.csv <<'X'
id,name,level,parent_id
1,Root,1,
2,Left,2,1
3,Right,2,1
4,Leaf A,3,2
5,Leaf B,3,2
X
# Queue 4: Mon 2024-01-01 .. Sun 2024-01-07 with a gap on Wednesday; queue 5 only on Jan 1 and 8;
# queue 3 in February.
cat >t.csv <<'X'
queueId,date,new_tickets
4,2024-01-01,10
4,2024-01-02,4
4,2024-01-04,6
4,2024-01-05,2
4,2024-01-06T08:30:00,1
4,2024-01-07,1
5,2024-01-01,3
5,2024-01-08,5
3,2024-02-01,7
X

expect_success 'summary of one queue: structure, load and time blocks' '
	dyn --format csv stats --queues q.csv --queue 4 t.csv >out &&
	cat >exp <<-X &&
	queue_id,name,level,parent_id,children,descendants,leaves,depth,first_date,last_date,days,total,mean,peak,min,median,std,p90,p95,busiest_day,quietest_day,busiest_weekday,quietest_weekday,weekday_mean,weekend_mean
	4,Leaf A,3,2,0,0,1,0,2024-01-01,2024-01-07,7,24,3.4285714285714284,10,0,2,3.2888184094918107,7.600000000000001,8.799999999999997,2024-01-01,2024-01-03,Monday,Wednesday,4.4,1
	X
	compare exp out
'
# Reference: python3 -c "import numpy as np; x=np.array([10,4,0,6,2,1,1.]); print(np.std(x), np.quantile(x,.9), np.quantile(x,.95))"
#   -> 3.2888184094918107 7.600000000000001 8.799999999999997

expect_success 'rollup: a parent sums its subtree; its structure counts descendants and leaves' '
	dyn --format csv stats --queues q.csv --rollup --queue 2,1 t.csv | cut -d, -f1,5-8,11-12 >out &&
	printf "queue_id,children,descendants,leaves,depth,days,total\n2,2,2,2,1,8,32\n1,2,4,3,2,32,39\n" >exp &&
	compare exp out
'

expect_success 'without rollup a parent without rows has empty load fields' '
	dyn --format csv stats --queues q.csv --queue 2 t.csv | cut -d, -f1,11-13 >out &&
	printf "queue_id,days,total,mean\n2,0,,\n" >exp && compare exp out
'

expect_success '--missing skip leaves the gap out of the statistics' '
	dyn --format csv stats --missing skip --queue 4 t.csv | cut -d, -f11,12,13 >out &&
	printf "days,total,mean\n6,24,4\n" >exp && compare exp out
'

expect_success '--from/--to clip the days' '
	dyn --format csv stats --queue 4 --from 2024-01-02 --to 2024-01-04 t.csv | cut -d, -f9-12 >out &&
	printf "first_date,last_date,days,total\n2024-01-02,2024-01-04,3,10\n" >exp && compare exp out
'

expect_success '--by series at day, week (ISO, Monday start) and month' '
	dyn --format csv stats --by series --queue 4 t.csv >out &&
	printf "queue_id,date,value\n4,2024-01-01,10\n4,2024-01-02,4\n4,2024-01-03,0\n4,2024-01-04,6\n4,2024-01-05,2\n4,2024-01-06,1\n4,2024-01-07,1\n" >exp &&
	compare exp out &&
	dyn --format csv stats --by series --granularity week --queues q.csv --rollup --queue 1 t.csv >out &&
	printf "queue_id,date,days,value\n1,2024-01-01,7,27\n1,2024-01-08,7,5\n1,2024-01-15,7,0\n1,2024-01-22,7,0\n1,2024-01-29,4,7\n" >exp &&
	compare exp out &&
	dyn --format csv stats --by series --granularity month --queues q.csv --rollup --queue 1 t.csv >out &&
	printf "queue_id,date,days,value\n1,2024-01-01,31,32\n1,2024-02-01,1,7\n" >exp &&
	compare exp out
'

expect_success '--by weekday: mean load per day of the week' '
	dyn --format csv stats --by weekday --queue 4 t.csv >out &&
	printf "queue_id,weekday,days,total,mean\n4,Monday,1,10,10\n4,Tuesday,1,4,4\n4,Wednesday,1,0,0\n4,Thursday,1,6,6\n4,Friday,1,2,2\n4,Saturday,1,1,1\n4,Sunday,1,1,1\n" >exp &&
	compare exp out
'

expect_success '--by week-of-year: mean daily load per ISO week number' '
	dyn --format csv stats --by week-of-year --queue 5 t.csv >out &&
	printf "queue_id,week,days,total,mean\n5,1,7,3,0.42857142857142855\n5,2,1,5,5\n" >exp &&
	compare exp out
'

expect_success '--by week: ISO year and week in time, numbered 1..N across the new year' '
	printf "queueId,date,new_tickets\n9,2020-12-31,4\n9,2021-01-04,7\n9,2021-01-18,2\n" >w.csv &&
	dyn --format csv stats --by week w.csv >out &&
	cat >exp <<-X &&
	queue_id,week,week_number,days,total,mean
	9,2020-W53,1,4,4,1
	9,2021-W01,2,7,7,1
	9,2021-W02,3,7,0,0
	9,2021-W03,4,1,2,2
	X
	compare exp out &&
	dyn --format csv stats --by week --missing skip w.csv >out &&
	printf "queue_id,week,week_number,days,total,mean\n9,2020-W53,1,1,4,4\n9,2021-W01,2,1,7,7\n9,2021-W03,4,1,2,2\n" >exp &&
	compare exp out
'

expect_success 'a parent without tickets of its own: its empty row comes with a note naming --rollup' '
	dyn --format csv stats --queues q.csv --queue 2 t.csv >out 2>err &&
	grep -q "^2,Left,2,1,2,2,2,1,,,0," out &&
	err_is "^dyn: queue \"2\" has no tickets of its own: they are in its descendants \(--rollup adds them\)$" &&
	dyn --format csv stats --queues q.csv --queue 2 --rollup t.csv >out 2>err &&
	test ! -s err && grep -q "^2,Left,2,1,2,2,2,1,2024-01-01,2024-01-08," out &&
	dyn --format csv stats --queues q.csv t.csv >out 2>err &&
	err_is "^dyn: 2 queues \(\"1\", \"2\"\) have no tickets of their own"
'

expect_success '--by level rolls parents up by default; --no-rollup shows their own tickets' '
	dyn --format csv stats --by level --queues q.csv --rollup t.csv >exp &&
	dyn --format csv stats --by level --queues q.csv t.csv >out 2>err &&
	compare exp out && test ! -s err &&
	dyn --format csv stats --by level --queues q.csv --no-rollup t.csv >out 2>err &&
	grep -q "^1,1,Root,,2,0,0,$" out && test ! -s err
'

expect_success '--by level lists queues by level with their load' '
	dyn --format csv stats --by level --queues q.csv --rollup t.csv >out &&
	cat >exp <<-X &&
	level,queue_id,name,parent_id,children,days,total,mean
	1,1,Root,,2,32,39,1.21875
	2,2,Left,1,2,8,32,4
	2,3,Right,1,0,1,7,7
	3,4,Leaf A,2,0,7,24,3.4285714285714284
	3,5,Leaf B,2,0,8,8,1
	X
	compare exp out
'

expect_success '--check reports rows, dates, gaps and late starts' '
	dyn --format csv stats --check --queues q.csv t.csv >out &&
	grep -qx "rows,9," out && grep -qx "first_date,,2024-01-01" out &&
	grep -qx "last_date,,2024-02-01" out &&
	grep -qx "gaps,7,\"queue \"\"4\"\": 1 day without a row, the first 2024-01-03 (2 queues have gaps)\"" out &&
	grep -qx "late_starts,1,\"queue \"\"3\"\" from 2024-02-01\"" out && grep -qx "status,0,ok" out
'

expect_success '--check reports bad rows instead of failing' '
	printf "queueId,date,new_tickets\n4,2024-01-01,1\n4,2024-01-01,2\n4,17/03,1\n4,2024-01-02,-1\n4,2024-01-03,1.5\n" >bad.csv &&
	dyn --format csv stats --check bad.csv >out &&
	grep -q "^duplicates,1,.*bad.csv:3: duplicate row" out &&
	grep -q "^bad_dates,1,.*bad.csv:4: column \"\"date\"\": expected YYYY-MM-DD" out &&
	grep -q "^negative,1," out && grep -q "^non_integer,1," out &&
	grep -qx "status,4,problems found" out
'

expect_success '--duplicates sum adds repeated rows up' '
	printf "queueId,date,new_tickets\n4,2024-01-01,1\n4,2024-01-01,2\n" >dup.csv &&
	dyn --format csv stats --duplicates sum dup.csv | cut -d, -f12 | tail -n 1 >out &&
	echo 3 >exp && compare exp out
'

expect_success 'stdin, other column names, JSON output' '
	printf "q,day,n\nx,2024-03-01,2\nx,2024-03-02,4\n" |
		dyn --format json stats --id-col q --date-col day --value-col n >out &&
	grep -q "\"queue_id\": *\"x\"" out && grep -q "\"mean\": *3" out
'

expect_success 'compressed input is read transparently' '
	gzip -c t.csv >t.csv.gz &&
	dyn --format csv stats --queue 4 t.csv.gz >a && dyn --format csv stats --queue 4 t.csv >b &&
	compare b a
'

expect_success 'bundled sample: 36 queues, 4 levels, 25 leaves with data' '
	dyn --format csv stats --queues $T/queues.csv $T/tickets.csv >out &&
	test $(($(wc -l <out) - 1)) -eq 36 &&
	grep -q "^1,Support,1,,4,35,25,3," out &&
	dyn --format csv stats --check --queues $T/queues.csv $T/tickets.csv >chk &&
	grep -q "^queues,25,\"36 queues in" chk &&
	grep -q "^late_starts,.*queue \"\"36\"\" from 2022-09-05" chk
'

expect_success 'the sample generator is deterministic and matches the committed files' '
	/usr/bin/python3 $T/gen.py . && cmp $T/queues.csv ./queues.csv && cmp $T/tickets.csv ./tickets.csv
'

expect_success 'NDJSON on stdin with --input-format, and JSON numbers as counts' '
	printf "{\"queueId\": 7, \"date\": \"2024-03-01\", \"new_tickets\": 2}\n{\"queueId\": 7, \"date\": \"2024-03-03\", \"new_tickets\": 6}\n" |
		dyn --format csv stats --input-format ndjson | cut -d, -f1,9-13 >out &&
	printf "queue_id,first_date,last_date,days,total,mean\n7,2024-03-01,2024-03-03,3,8,2.6666666666666665\n" >exp &&
	compare exp out
'
expect_success 'stats --check --strict fails a cron job when problems are found' '
	dyn stats --check --strict "$TESTDATA/tickets/tickets.csv" >out &&
	printf "queueId,date,new_tickets\n1,2024-01-01,3\n1,2024-01-01,4\n1,2024-01-02,x\n" >bad.csv &&
	must_fail 1 dyn --format csv stats --check --strict bad.csv && grep -q "^status,2,problems found" out &&
	test ! -s err && dyn --format csv stats --check bad.csv >out &&
	must_fail 2 dyn stats --strict bad.csv && err_is "option --strict goes with --check"
'
