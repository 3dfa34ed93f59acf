#!/bin/sh
# Benchmark of automatic ETS forecasting (issue 3): 200 daily series of 3 years, horizon 28, the
# last 28 days held out. Times R's forecast::ets (the reference), statsmodels' ETSModel over the
# same model family, and dyn; prints each one's CPU and wall time, mean MASE, and the ratios.
# Usage: sh bench/forecast.sh   (env: THREADS=N dyn threads, default nproc; SM_SERIES=N series
# for statsmodels, default 20, as it needs ~3 s a series; R_SERIES=N, default all 200;
# DYN=path of the dyn binary, default ./dyn; without a "dyn forecast" command, bench/fc_bench.c
# makes the same library calls)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${OUT:-$root/bench/out}
H=28
THREADS=${THREADS:-$(nproc)}
SM_SERIES=${SM_SERIES:-20}
R_SERIES=${R_SERIES:-200}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1

/usr/bin/python3 "$here/gen_series.py" "$out/series.csv"
echo "data: $(($(wc -l <"$out/series.csv") - 1)) rows, 200 series x 1095 days ($out/series.csv)"

# runs a command under GNU time; prints "wall cpu" (seconds) into $out/$1.time
timed() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$out/$name.time" "$@" >"$out/$name.out"
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$out/$name.time" >"$out/$name.t"
}

# dyn: the forecast command once it exists, else a driver over the same library call
DYN=${DYN:-$root/dyn}
if "$DYN" forecast -h >/dev/null 2>&1; then
	timed dyn "$DYN" --format csv --threads "$THREADS" forecast "$out/series.csv" --all \
		--horizon $H --method auto --backtest
	dyn_mase=$(/usr/bin/python3 -c 'import csv,sys
r=[float(x["mase"]) for x in csv.DictReader(open(sys.argv[1])) if x.get("mase") not in (None,"")]
print("%.6f" % (sum(r)/len(r)) if r else "nan")' "$out/dyn.out")
	dyn_how="dyn forecast --all --backtest, $THREADS threads"
else
	make -s -C "$root" build/libdyn.a
	cc -O2 -std=c11 -D_GNU_SOURCE -pthread -I"$root/lib" -o "$out/fc_bench" "$here/fc_bench.c" \
		"$root/build/libdyn.a" $(pkg-config --libs openblas) -lm
	timed dyn "$out/fc_bench" "$out/series.csv" $H "$THREADS" auto
	dyn_mase=$(awk '{ print $4 }' "$out/dyn.out")
	dyn_how="bench/fc_bench.c over fc_forecast, $THREADS threads"
fi
read -r dyn_wall dyn_cpu <"$out/dyn.t"
echo "dyn ($dyn_how): wall ${dyn_wall}s cpu ${dyn_cpu}s mean MASE $dyn_mase"

timed r Rscript "$here/r_bench.R" "$out/series.csv" $H "$R_SERIES"
read -r r_wall r_cpu <"$out/r.t"
r_mase=$(awk '{ print $9 }' "$out/r.out")
echo "R forecast::ets ($R_SERIES series): wall ${r_wall}s cpu ${r_cpu}s mean MASE $r_mase"

timed sm /usr/bin/python3 "$here/sm_bench.py" "$out/series.csv" $H "$SM_SERIES"
read -r sm_wall sm_cpu <"$out/sm.t"
sm_mase=$(awk '{ print $9 }' "$out/sm.out")
echo "statsmodels ETSModel ($SM_SERIES series): wall ${sm_wall}s cpu ${sm_cpu}s mean MASE $sm_mase"

awk -v dw="$dyn_wall" -v dc="$dyn_cpu" -v rw="$r_wall" -v rc="$r_cpu" -v rn="$R_SERIES" \
	-v sw="$sm_wall" -v sc="$sm_cpu" -v sn="$SM_SERIES" -v dm="$dyn_mase" -v rm="$r_mase" \
	'BEGIN {
	# per-series times, so that subsets compare fairly
	dws = dw / 200; dcs = dc / 200; rws = rw / rn; rcs = rc / rn; sws = sw / sn; scs = sc / sn
	printf "per series: dyn %.4fs wall %.4fs cpu | R %.4fs wall %.4fs cpu | statsmodels %.4fs wall %.4fs cpu\n", dws, dcs, rws, rcs, sws, scs
	printf "speed-up over R: %.1fx wall, %.1fx cpu (target >= 20x)\n", rws / dws, rcs / dcs
	printf "speed-up over statsmodels: %.1fx wall, %.1fx cpu (target > 1x)\n", sws / dws, scs / dcs
	if (rn == 200) printf "MASE dyn / R: %.4f (target <= 1.02)\n", dm / rm
	}'
