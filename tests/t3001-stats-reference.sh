#!/bin/sh
# dyn stats --by summary against pandas/numpy on the bundled sample (testdata/tickets).
# Reference numbers, produced once in testdata/tickets with pandas 1.5.3 / numpy 1.24.2:
#   /usr/bin/python3 - <<'PY'
#   import pandas as pd, numpy as np
#   df = pd.read_csv("tickets.csv", parse_dates=["date"])
#   qs = pd.read_csv("queues.csv")
#   kids = {}
#   for r in qs.itertuples():
#       if not pd.isna(r.parent_id): kids.setdefault(int(r.parent_id), []).append(r.id)
#   def sub(q): return [q] + [d for c in kids.get(q, []) for d in sub(c)]
#   for q, roll in ((6, 0), (9, 0), (16, 0), (36, 0), (2, 1), (3, 1)):
#       ids = sub(q) if roll else [q]
#       s = (df[df.queueId.isin(ids)].groupby("date")["new_tickets"].sum()
#            .sort_index().asfreq("D", fill_value=0))          # missing days count as zero
#       v = s.values; wd = s[s.index.dayofweek < 5]; we = s[s.index.dayofweek >= 5]
#       print(q, roll, len(s), v.sum(), repr(v.mean()), v.max(), v.min(), repr(np.median(v)),
#             repr(np.std(v)), repr(np.quantile(v, .9)), repr(np.quantile(v, .95)),
#             s.idxmax().date(), s.idxmin().date(), repr(wd.mean()), repr(we.mean()))
#   PY
# Columns: queue rollup days total mean peak min median std p90 p95 busiest quietest wd_mean we_mean
. "$(dirname "$0")/lib.sh"
T=$TESTDATA/tickets

cat >ref <<'X'
6 0 1277 34408 26.944400939702426 56 0 28.0 10.225532420680553 40.0 43.0 2024-01-16 2021-05-01 31.38748627881449 15.885245901639344
9 0 1275 1974 1.5482352941176472 10 0 1.0 1.536939543483397 4.0 5.0 2023-08-25 2021-01-04 1.9516483516483516 0.5424657534246575
16 0 1277 1395 1.0924040720438528 39 0 1.0 2.945750203189652 2.0 3.0 2022-11-30 2021-01-01 1.1822173435784853 0.8688524590163934
36 0 665 1386 2.0842105263157893 9 0 2.0 1.8415767233159528 5.0 5.0 2023-04-20 2022-09-05 2.513684210526316 1.0105263157894737
2 1 1277 126292 98.89741581832419 180 2 99.0 34.534986305892176 143.4000000000001 153.0 2023-08-14 2021-12-25 112.56421514818881 64.87978142076503
3 1 1277 210156 164.5700861393892 287 6 187.0 56.977491999817715 222.4000000000001 233.20000000000005 2023-02-06 2021-12-26 194.74643249176728 89.45901639344262
X

# compare_ref QUEUE ROLLUP CSV: the dyn summary row agrees with the reference line (relative
# tolerance 1e-12 on numbers: numpy sums pairwise, dyn left to right; dates exactly).
compare_ref() {
	awk -F, -v q="$1" -v roll="$2" '
	function bad(what, a, b) { printf "queue %s %s: dyn %s, pandas %s\n", q, what, a, b; err = 1 }
	function num(what, a, b) { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; if (m < 1) m = 1;
		if (d > 1e-12 * m) bad(what, a, b) }
	FNR == NR { if ($0 ~ "^" q " " roll " ") split($0, r, " "); next }
	FNR > 1 && $1 == q {
		found = 1
		num("days", $11, r[3]); num("total", $12, r[4]); num("mean", $13, r[5])
		num("peak", $14, r[6]); num("min", $15, r[7]); num("median", $16, r[8])
		num("std", $17, r[9]); num("p90", $18, r[10]); num("p95", $19, r[11])
		if ($20 != r[12]) bad("busiest_day", $20, r[12])
		if ($21 != r[13]) bad("quietest_day", $21, r[13])
		num("weekday_mean", $24, r[14]); num("weekend_mean", $25, r[15])
	}
	END { if (!found) { print "no row for queue " q; err = 1 }; exit err }' FS=" " ref FS=, "$3"
}

expect_success 'leaf queues 6, 9 (sparse rows), 16 (mostly zeros), 36 (starts late) match pandas' '
	dyn --format csv stats --queue 6,9,16,36 $T/tickets.csv >out &&
	compare_ref 6 0 out && compare_ref 9 0 out && compare_ref 16 0 out && compare_ref 36 0 out
'

expect_success 'rolled-up parents 2 and 3 match pandas (interpolated p90/p95)' '
	dyn --format csv stats --rollup --queues $T/queues.csv --queue 2,3 $T/tickets.csv >out &&
	compare_ref 2 1 out && compare_ref 3 1 out
'
