#!/bin/sh
# dyn fit keypoints on frames with several animals (SLEAP's top-down way): a centroid network
# and a centred-instance network in one model, predict's instance column, the report's
# instance recall and matched error, the options and their errors. The data is generated here:
# 96x96 frames of 2 or 3 "animals", each a bright head and a dimmer tail joined by a line.
. "$(dirname "$0")/lib.sh"

# gen_animals DIR NFRAMES SEED: a COCO keypoints dataset of NFRAMES 96x96 BMP frames, each with
# 2 or 3 "animals" on a dark background: a bright 5x5 head and a dimmer 5x5 tail 14 pixels
# apart (right, left, down or up of it) joined by a line, in distinct cells of a 3x3 grid at
# random offsets. Deterministic: its own Park-Miller generator, the same under any awk.
gen_animals() {
	mkdir -p "$1" &&
	LC_ALL=C awk -v dir="$1" -v nf="$2" -v seed="$3" '
	function rnd(n) { s = (s * 16807) % 2147483647; return int(s / 2147483647 * n) }
	function le(v, n,   i, o) { o = ""; for (i = 0; i < n; i++) { o = o esc[v % 256]; v = int(v / 256) }; return o }
	function box(x, y, v,   i, j) { for (j = y - 2; j <= y + 2; j++) for (i = x - 2; i <= x + 2; i++) px[j * W + i] = v }
	BEGIN {
		W = 96; s = seed + 1; ann = ""; imgs = ""; id = 0
		for (i = 0; i < 256; i++) esc[i] = sprintf("\\%03o", i)
		dx[0] = 1; dy[0] = 0; dx[1] = -1; dy[1] = 0; dx[2] = 0; dy[2] = 1; dx[3] = 0; dy[3] = -1
		for (f = 0; f < nf; f++) {
			for (i = 0; i < W * W; i++) px[i] = 30
			for (c = 0; c < 9; c++) used[c] = 0
			na = 2 + (f % 3 == 0)
			for (a = 0; a < na; a++) {
				do c = rnd(9); while (used[c]); used[c] = 1
				d = rnd(4)
				# the tail in its cell so that the whole animal stays 3 pixels inside it
				tx = (c % 3) * 32 + 5 + (dx[d] < 0 ? 14 : 0) + rnd(dx[d] ? 9 : 23)
				ty = int(c / 3) * 32 + 5 + (dy[d] < 0 ? 14 : 0) + rnd(dy[d] ? 9 : 23)
				hx = tx + 14 * dx[d]; hy = ty + 14 * dy[d]
				for (k = 0; k <= 14; k++) px[(ty + k * dy[d]) * W + tx + k * dx[d]] = 90
				box(tx, ty, 140); box(hx, hy, 250)
				ann = ann sprintf("%s{\"id\":%d,\"image_id\":%d,\"category_id\":1,\"keypoints\":[%d,%d,2,%d,%d,2]}", id ? "," : "", id, f, hx, hy, tx, ty)
				id++
			}
			name = sprintf("f%03d.bmp", f); fn = dir "/" name ".esc"
			printf "%s", "BM" le(54 + W * W * 3, 4) le(0, 4) le(54, 4) le(40, 4) le(W, 4) le(W, 4) le(1, 2) le(24, 2) le(0, 4) le(W * W * 3, 4) le(2835, 4) le(2835, 4) le(0, 8) > fn
			for (j = W - 1; j >= 0; j--) {
				row = ""
				for (i = 0; i < W; i++) { v = esc[px[j * W + i]]; row = row v v v }
				printf "%s", row > fn
			}
			close(fn)
			imgs = imgs sprintf("%s{\"id\":%d,\"file_name\":\"%s\",\"width\":%d,\"height\":%d}", f ? "," : "", f, name, W, W)
		}
		printf "{\"images\":[%s],\"annotations\":[%s],\"categories\":[{\"id\":1,\"name\":\"bug\",\"keypoints\":[\"head\",\"tail\"],\"skeleton\":[[1,2]]}]}\n", imgs, ann > (dir "/labels.json")
	}' &&
	for e in "$1"/*.esc; do
		printf "$(cat "$e")" >"${e%.esc}" && rm "$e" || return 1
	done
}

# img hx hy tx ty: the labeled animals of labels.json, one a line
labels() {
	grep -o '"image_id":[0-9]*,"category_id":1,"keypoints":\[[0-9,]*' "$1" |
		sed 's/"image_id":\([0-9]*\),.*\[\([0-9]*\),\([0-9]*\),2,\([0-9]*\),\([0-9]*\),2/\1 \2 \3 \4 \5/'
}
# a report's number at $2 of model $1
num() {
	dyn models show "$1" --format json | grep "\"$2\":[[:space:]]*[0-9]" | head -1 |
		sed 's/.*:[[:space:]]*//; s/,$//'
}

TINY="--input-scale 0.5 --batch-size 4 --filters 8 --rotation 0 --test-fraction 0.2"

expect_success 'a dataset of several animals a frame trains a centroid and an instance network' '
	gen_animals ds 30 7 && test -f ds/f029.bmp &&
	dyn fit keypoints $TINY --epochs 10 --id bugs ds/labels.json >out 2>err &&
	test "$(cat out)" = bugs &&
	dyn models show bugs --format json >show &&
	grep -q "\"instances\":.*\"multi\"" show && grep -q "\"anchor\":.*\"centroid\"" show &&
	grep -q "\"crop_size\":.*\"32x32\"" show && grep -q "\"max_instances\":.*6," show &&
	test "$(grep -c "\"epoch\":" show)" -eq 20
'
expect_success 'the held-out report: every animal found, matched nodes within a few pixels' '
	recall=$(num bugs instance_recall) med=$(num bugs median_error_px) &&
	p90=$(num bugs p90_error_px) &&
	echo "recall $recall median $med p90 $p90" &&
	awk -v r="$recall" -v m="$med" -v p="$p90" "BEGIN { exit !(r >= 0.9 && m < 2.5 && p < 5) }" &&
	test "$(num bugs instances)" -ge 10
'
expect_success 'predict: an instance column, each labeled animal found near its labels' '
	dyn predict bugs ds/f000.bmp ds/f001.bmp ds/f002.bmp ds/f003.bmp >p &&
	head -1 p | grep -qx "file,frame,instance,node,x,y,score" &&
	labels ds/labels.json | awk "\$1 < 4" >want && test "$(wc -l <want)" -eq 10 &&
	awk -F, -v OFS=" " "
		NR == FNR { split(\$0, l, \" \"); lab[NR] = \$0; n = NR; next }
		FNR > 1 { f = substr(\$1, length(\$1) - 6, 3) + 0; key = f \" \" \$3
			  if (\$4 == \"head\") { hx[key] = \$5; hy[key] = \$6 } else { tx[key] = \$5; ty[key] = \$6 }
			  inst[key] = 1 }
		END {
			for (i = 1; i <= n; i++) {
				split(lab[i], l, \" \"); best = 1e9
				for (k in inst) {
					split(k, kk, \" \"); if (kk[1] != l[1]) continue
					d = sqrt((hx[k] - l[2])^2 + (hy[k] - l[3])^2) + sqrt((tx[k] - l[4])^2 + (ty[k] - l[5])^2)
					if (d < best) best = d
				}
				if (best > 8) { print \"frame \" l[1] \": no animal near \" lab[i] \" (\" best \")\"; bad = 1 }
			}
			exit bad
		}" want p &&
	dyn predict bugs ds/f000.bmp --render fr/ >/dev/null && test -s fr/frame-000000.png
'
expect_success 'a folder, a zip of it and the labels file train alike' '
	(cd ds && zip -q "$SCRATCH/ds.zip" *) &&
	dyn fit keypoints $TINY --epochs 1 --seed 5 --id z ds.zip >/dev/null 2>&1 &&
	dyn fit keypoints $TINY --epochs 1 --seed 5 --id j ds/labels.json >/dev/null 2>&1 &&
	dyn models show z --format json | grep "\"loss\":" >a &&
	dyn models show j --format json | grep "\"loss\":" >b && test -s a && compare a b
'
expect_success '--anchor NODE centres the crops on it; --instances single keeps one set of maps' '
	dyn fit keypoints $TINY --epochs 1 --anchor head --crop-size 48 --max-instances 4 \
		--id anch ds/labels.json >/dev/null 2>&1 &&
	dyn models show anch --format json >s &&
	grep -q "\"anchor\":.*\"head\"" s && grep -q "\"crop_size\":.*\"48x48\"" s &&
	grep -q "\"max_instances\":.*4," s &&
	dyn fit keypoints $TINY --epochs 1 --instances single --id one ds/labels.json >/dev/null 2>&1 &&
	dyn models show one --format json >s1 && ! grep -q "\"crop_size\":.*\"" s1 &&
	test "$(grep -c "\"epoch\":" s1)" -eq 1 &&
	dyn predict one ds/f000.bmp >p1 && head -1 p1 | grep -qx "file,frame,node,x,y,score" &&
	test "$(wc -l <p1)" -eq 3
'
expect_success 'bad settings: an unknown anchor, a crop not a multiple of the stride' '
	must_fail 2 dyn fit keypoints $TINY --epochs 1 --anchor snout ds/labels.json &&
	err_is "--anchor .snout.: no node of that name .the skeleton has head, tail." &&
	must_fail 2 dyn fit keypoints $TINY --epochs 1 --crop-size 40 ds/labels.json &&
	err_is "crop_size.: expected a multiple of the deepest stride 16 .at least 16., got 40" &&
	! dyn models ls --format csv | grep -q ",failed$"
'
expect_success 'a multi-animal training killed midway resumes as if never stopped' '
	"$DYN" fit keypoints $TINY --epochs 100000 --id k ds/labels.json >/dev/null 2>&1 &
	pid=$!
	i=0
	until dyn models show k --format json 2>/dev/null | grep -q "\"epoch\":.*2"; do
		i=$((i + 1)); test $i -lt 1200 || { kill -9 $pid; exit 1; }; sleep 0.05
	done
	kill -9 $pid; wait $pid
	K=$(dyn models show k --format json | grep -c "\"epoch\":") &&
	dyn fit keypoints --resume k --epochs $((K + 1)) >out && test "$(cat out)" = k &&
	dyn fit keypoints $TINY --epochs $((K + 1)) --id straight ds/labels.json >/dev/null &&
	dyn models show k --format json | grep "\"loss\":" >a &&
	dyn models show straight --format json | grep "\"loss\":" >b &&
	test "$(wc -l <a)" -eq $((2 * K + 2)) && compare b a
'
echo "# $test_count tests"
