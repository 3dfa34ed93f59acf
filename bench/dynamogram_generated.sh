#!/bin/sh
# Issue 9's figures on generated cards: `dyn fit dynamogram` trained on cards of the 20 default
# markers from `dyn mark generate` (fixed seed) and its accuracy on cards of another seed (held
# out), from points (surface and pump cards) and from pictures of them. Pictures: 128 x 128,
# PNG or JPEG at random, read back by card_extract, the raster network at 32 x 32 (width 16,
# 40 epochs: the default 64 x 64 takes 20 times as long).
# usage: sh bench/dynamogram_generated.sh [PER_MARKER [TEST_PER_MARKER [SEED]]]
#   from the repository root, after `make`; defaults 200, 50, 1. Environment: DYN the binary
#   (default ./dyn), RUNS the runs (default "surface pump surface-pictures pump-pictures"),
#   THREADS the training threads (default 2), FIT_EXTRA more options of every fit.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dyn=${DYN:-$root/dyn}
per=${1:-200}
tper=${2:-50}
seed=${3:-1}
runs=${RUNS:-surface pump surface-pictures pump-pictures}
threads=${THREADS:-2}
tmp=${TMPDIR:-/tmp}/dyn-bench-generated.$$
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/store"

# accuracy OUT TRUTH: OUT is `dyn predict --format csv` (card,label,probability); the true
# marker is TRUTH's marker column for a points file, else the picture's folder.
accuracy() {
	awk -F, -v truth="$2" '
		BEGIN { if (truth != "") while ((getline l < truth) > 0) { split(l, f, ","); m[f[1]] = f[2] } }
		NR == 1 { next }
		{ n++; id = $1; sub(/.*:/, "", id)
		  if (truth != "") want = m[id]; else { k = split($1, p, "/"); want = p[k - 1] }
		  if ($2 == want) ok++; else miss[want " -> " $2]++ }
		END { printf "%.4f (%d of %d)", ok / n, ok, n
		      for (k in miss) printf "%s%s %d", (c++ ? ", " : "; missed: "), k, miss[k]
		      printf "\n" }' "$1"
}

echo "$("$dyn" --version 2>/dev/null | head -n 1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "training: $per cards a marker (seed $seed); held out: $tper a marker (seed $((seed + 1000)))"
for run in $runs; do
	case $run in
	surface) gen="" fit="" ;;
	pump) gen="--pump" fit="" ;;
	surface-pictures) gen="" fit="--arch raster --raster 32 --width 16 --epochs 40 --lr 0.01" ;;
	pump-pictures) gen="--pump" fit="--arch raster --raster 32 --width 16 --epochs 40 --lr 0.01" ;;
	*) echo "dynamogram_generated.sh: unknown run '$run'" >&2; exit 2 ;;
	esac
	case $run in
	*pictures)
		"$dyn" --seed "$seed" -q mark generate $gen --per-marker "$per" --size 128 \
			--images "$tmp/$run-train"
		"$dyn" --seed $((seed + 1000)) -q mark generate $gen --per-marker "$tper" \
			--size 128 --images "$tmp/$run-test"
		train="$tmp/$run-train/*/*" test="$tmp/$run-test/*/*" truth="" ;;
	*)
		"$dyn" --seed "$seed" -q mark generate $gen --per-marker "$per" \
			--points "$tmp/$run-train.csv"
		"$dyn" --seed $((seed + 1000)) -q mark generate $gen --per-marker "$tper" \
			--points "$tmp/$run-test.csv"
		train="$tmp/$run-train.csv" test="$tmp/$run-test.csv"
		awk -F, 'NR > 1 { print $1 "," $2 }' "$test" | sort -u >"$tmp/truth.csv"
		truth="$tmp/truth.csv" ;;
	esac
	start=$(date +%s)
	# shellcheck disable=SC2086 # the globs and options are meant to split
	"$dyn" --store "$tmp/store" --seed "$seed" --threads "$threads" -q fit dynamogram $fit \
		${FIT_EXTRA:-} --test-fraction 0 --id "$run" $train >/dev/null
	end=$(date +%s)
	# shellcheck disable=SC2086
	"$dyn" --store "$tmp/store" predict "$run" --format csv $test >"$tmp/$run.out"
	printf '%-17s fit dynamogram %s: %s s; held-out accuracy %s\n' "$run" "${fit:-(defaults)}${FIT_EXTRA:+ $FIT_EXTRA}" \
		$((end - start)) "$(accuracy "$tmp/$run.out" "$truth")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
