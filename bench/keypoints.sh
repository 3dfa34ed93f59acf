#!/bin/sh
# Pose keypoints end to end on DeepLabCut's openfield frames (../shared/data/pose/openfield: 92
# labeled 640x480 frames, 4 body parts, and an unlabeled 2,330-frame video of the same rig):
#  1. accuracy: `dyn fit keypoints` with a fixed seed on the 92 frames, 20% held out at random
#     (18 frames, never trained on); the report's median error in pixels at 640x480 and PCK at
#     10 px on them (targets: <= 2.5 px, >= 95%), and the training's wall time and frames a
#     second (training frames x epochs / the epochs' seconds);
#  2. inference: `dyn predict MODEL VIDEO` over the whole video, decoding included (FFmpeg
#     scales each frame to the network's input as it decodes), frames a second of wall time,
#     median of RUNS runs (target >= 60 frames/s on 2 cores).
# The engine alone against PyTorch (same UNet, same input, training and inference) is
# bench/pose_unet.sh's.
# usage: sh bench/keypoints.sh   (from the repository root, after make)
#        env: EPOCHS (150), SCALE (0.25), SEED (1), RUNS (3), ARGS (more fit options)
set -eu
cd "$(dirname "$0")/.."
DYN=${DYN:-./dyn}
DATA=${DATA:-../shared/data/pose/openfield}
OUT=${OUT:-bench/out/keypoints}
EPOCHS=${EPOCHS:-150}
SCALE=${SCALE:-0.25}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
ARGS=${ARGS:-}
[ -x "$DYN" ] || { echo "keypoints.sh: build dyn first (make)" >&2; exit 1; }
[ -d "$DATA" ] || { echo "keypoints.sh: no dataset at $DATA" >&2; exit 1; }
mkdir -p "$OUT"
export DYN_STORE="$OUT/store"
rm -rf "$DYN_STORE"
echo "$(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fit: --seed $SEED --epochs $EPOCHS --input-scale $SCALE $ARGS"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$DYN" --seed "$SEED" fit keypoints --epochs "$EPOCHS" --input-scale "$SCALE" $ARGS \
	--id of "$DATA" >/dev/null
t1=$(date +%s.%N)
"$DYN" models show of --format json >"$OUT/show.json"
/usr/bin/python3 - "$OUT/show.json" "$t0" "$t1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
m, eps = d["metrics"], d["training"]["epochs"]
secs = sum(e["seconds"] for e in eps)
ntrain = d["data"]["rows"] - m["evaluation"]["rows"]
print("held-out frames %d, points %d, found %d" % (m["frames"], m["points"], m["found"]))
print("median error %.2f px, mean %.2f px, p90 %.2f px, PCK@5px %.3f, PCK@10px %.3f"
      % (m["median_error_px"], m["mean_error_px"], m["p90_error_px"], m["pck_5px"],
         m["pck_10px"]))
print("per node: " + ", ".join("%s %.2f" % (k, v["median_error_px"])
                                for k, v in m["nodes"].items()))
print("epochs run %d (best %s), training %.0f s wall, %.1f frames/s in its epochs"
      % (len(eps), d["training"]["info"].get("best_epoch", "-"), float(sys.argv[3]) - float(sys.argv[2]),
         ntrain * len(eps) / secs))
EOF
video=$(ls "$DATA"/videos/*.mp4 | head -1)
frames=2330
i=0
: >"$OUT/predict.times"
while [ $i -lt "$RUNS" ]; do
	s=$(date +%s.%N)
	"$DYN" predict of "$video" >"$OUT/video.csv"
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ print $2 - $1 }' >>"$OUT/predict.times"
	i=$((i + 1))
done
got=$(tail -n +2 "$OUT/video.csv" | cut -d, -f1 | sort -un | wc -l)
sort -n "$OUT/predict.times" | awk -v n="$got" '
	{ t[NR] = $1 } END { m = t[int((NR + 1) / 2)]; printf "predict on the video: %d frames, median %.1f s, %.1f frames/s\n", n, m, n / m }'
