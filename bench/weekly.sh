#!/bin/sh
# Weekly benchmark (issue 13): real weekly series with yearly seasonality (m = 52, made by
# bench/weekly_data.py: 5 windows of Mauna Loa CO2, 4 series of Seattle weather), the last H
# weeks held out. In one run: dyn forecast (default method; theta and snaive as context) and
# R's forecast::ets (which fits no seasonal model for m > 24), thetaf, stlf and snaive. Prints
# mean MASE (seasonal-naive scaling, lag 52), sMAPE, 95% coverage, the per-series MASE, and
# CPU times as medians of RUNS alternating runs: R's fits alone (its start and reading
# excluded), dyn's library fits alone (bench/fc_bench.c, FC_BENCH_REPEAT passes) and the
# whole dyn command.
# Usage: sh bench/weekly.sh   (env: H, default 52; RUNS, default 5; THREADS dyn threads,
# default 1; DYN, default ./dyn)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${OUT:-$root/bench/out}
H=${H:-52}
RUNS=${RUNS:-5}
THREADS=${THREADS:-1}
DYN=${DYN:-$root/dyn}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1

sh "$root/tools/deps.sh" "$root/tools/bench-packages"
/usr/bin/python3 "$here/weekly_data.py" "$out/weekly.csv"
echo "data: $(cut -d, -f1 "$out/weekly.csv" | sed 1d | sort -u | wc -l) weekly series, $(($(wc -l <"$out/weekly.csv") - 1)) rows; horizon $H"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

make -s -C "$root" dyn build/libdyn.a
cc -O2 -std=c11 -D_GNU_SOURCE -pthread -I"$root/lib" -o "$out/fc_bench" "$here/fc_bench.c" \
	"$root/build/libdyn.a" $(pkg-config --libs openblas) -lm

: >"$out/weekly_times"
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	for m in auto theta snaive; do
		/usr/bin/time -f "%e %U %S" -o "$out/wk.time" "$DYN" --format csv --threads "$THREADS" \
			forecast "$out/weekly.csv" --all --horizon "$H" --backtest --method $m \
			>"$out/weekly_dyn_$m.csv"
		awk -v m=$m '{ printf "dyncmd_%s %.4f %.4f\n", m, $2 + $3, $1 }' "$out/wk.time" \
			>>"$out/weekly_times"
		FC_BENCH_PERIOD=52 FC_BENCH_REPEAT=20 "$out/fc_bench" "$out/weekly.csv" "$H" \
			"$THREADS" $m >"$out/wk.lib"
		awk -v m=$m '{ printf "dynlib_%s %.5f\n", m, $NF }' "$out/wk.lib" >>"$out/weekly_times"
	done
	Rscript "$here/r_weekly.R" "$out/weekly.csv" "$H" "$out/weekly_r.csv" 2>/dev/null \
		>"$out/wk.r"
	awk '{ printf "R_%s %.4f %.4f\n", $2, $6, $8 }' "$out/wk.r" >>"$out/weekly_times"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" "$RUNS" <<'PY'
import csv, statistics, sys
out, runs = sys.argv[1], sys.argv[2]
t = {}
for line in open(out + "/weekly_times"):
    k, *v = line.split()
    t.setdefault(k, []).append(float(v[0]))
med = {k: statistics.median(v) for k, v in t.items()}
rows = {}
for m in ("auto", "theta", "snaive"):
    r = list(csv.DictReader(open("%s/weekly_dyn_%s.csv" % (out, m))))
    rows["dyn " + m] = {x["queue_id"]: (float(x["mase"]), float(x["smape"]),
                                        float(x["coverage_95"]), x["method"]) for x in r}
for x in csv.DictReader(open(out + "/weekly_r.csv")):
    rows.setdefault("R " + x["method"], {})[x["queue_id"]] = (
        float(x["mase"]), float(x["smape"]), float(x["coverage_95"]), x["model"])
ids = list(rows["dyn auto"])
ref = med["R_ets"]
print("| method | mean MASE | mean sMAPE | 95%% coverage | CPU s, %d series (median of %s) | R ets CPU / this |" % (len(ids), runs))
print("|---|---|---|---|---|---|")
for name, r in rows.items():
    k = name.split()[1]
    if name.startswith("dyn"):
        cpu = "%.4f (fits), %.3f (command)" % (med["dynlib_" + k], med["dyncmd_" + k])
        sp = "%.0fx (fits), %.1fx (command)" % (ref / med["dynlib_" + k], ref / med["dyncmd_" + k])
    else:
        cpu = "%.3f (fits)" % med["R_" + k]
        sp = "%.2fx" % (ref / med["R_" + k])
    v = [r[q] for q in ids]
    print("| %s | %.4f | %.2f | %.4f | %s | %s |" % (name, statistics.mean(a[0] for a in v),
          statistics.mean(a[1] for a in v), statistics.mean(a[2] for a in v), cpu, sp))
print()
print("MASE per series | " + " | ".join(rows))
for q in ids:
    print("%s | " % q + " | ".join("%.3f" % rows[n][q][0] for n in rows))
print()
print("dyn auto models: " + "; ".join("%s %s" % (q, rows["dyn auto"][q][3]) for q in ids))
PY
