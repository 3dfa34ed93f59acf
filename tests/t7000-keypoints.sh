#!/bin/sh
# dyn fit keypoints / dyn predict on frames: the pose dataset readers end to end, every
# backbone, the service's training_config, learning statistics in the store, predictions on
# pictures, folders, archives, videos and a YUV4MPEG2 stream. Tiny networks and few epochs:
# the accuracy figures are bench/keypoints.sh's.
. "$(dirname "$0")/lib.sh"

MINI=$TESTDATA/pose/openfield-mini
VIDEO=$TESTDATA/video/pattern-64x48.mp4
# 160x120 frames at half scale: 80x60, padded to 80x64
TINY="--epochs 3 --input-scale 0.5 --batch-size 2 --test-fraction 0.34"

# losses of model $1's epochs, one a line
losses() { dyn models show "$1" --format json | grep '"loss":' | sed 's/.*: *//; s/,$//'; }

expect_success 'fit keypoints on a DeepLabCut folder prints the id and stores a done model' '
	dyn fit keypoints $TINY --id mouse "$MINI" >out 2>err &&
	test "$(cat out)" = mouse &&
	dyn -v fit keypoints $TINY --id mouse2 "$MINI" 2>err >/dev/null &&
	grep -q "trained keypoints model \"mouse2\" on 3 frames: holdout median error" err &&
	dyn models ls --format csv | grep -q "^mouse,keypoints,.*,3,4,,holdout,,done$"
'
expect_success 'models show: nodes, epochs with loss, val_loss, lr and the keypoint error, metrics' '
	dyn models show mouse --format json >show &&
	grep -q "\"classes\":.*\"snout\", \"leftear\", \"rightear\", \"tailbase\"" show &&
	test "$(grep -c "\"epoch\":" show)" -eq 3 &&
	for k in loss val_loss lr val_error_px median_error_px pck_5px pck_10px frame_size input_size; do
		grep -q "\"$k\"" show || { echo "no $k"; exit 1; }
	done &&
	grep -q "\"frame_size\":.*\"160x120\"" show &&
	grep -q "\"input_size\":.*\"80x64\"" show
'
expect_success 'each backbone builds and lowers the loss in a few epochs' '
	for bb in unet leap hourglass "resnet --encoder resnet18" "resnet --encoder mobilenetv2"; do
		id=$(echo "$bb" | tr -cd a-z0-9)
		dyn fit keypoints --epochs 4 --input-scale 0.5 --batch-size 3 --test-fraction 0 \
			--backbone $bb --rotation 0 --scale 0 --brightness 0 --contrast 0 \
			--id "$id" "$MINI" >/dev/null 2>&1 || { echo "$bb failed"; exit 1; }
		losses "$id" >l
		first=$(head -1 l) last=$(tail -1 l)
		awk -v a="$first" -v b="$last" "BEGIN { exit !(b < a) }" ||
			{ echo "$bb: loss $first -> $last"; exit 1; }
	done
'
expect_success 'the service training_config through --params, test_fraction included' '
	cat >cfg.json <<-EOF &&
	{"training_config": {"test_fraction": 0.34, "num_epochs": 2, "learning_rate": 0.002,
	 "backbone_model": "leap", "pretrained_encoder": null, "heads_sigma": 3,
	 "heads_output_stride": 4}}
	EOF
	dyn fit keypoints --params cfg.json --input-scale 0.5 --id svc "$MINI" >/dev/null 2>&1 &&
	dyn models show svc --format json >s &&
	grep -q "\"backbone\":.*\"leap\"" s && grep -q "\"epochs\":.*2," s &&
	grep -q "\"lr\":.*0.002" s && grep -q "\"sigma\":.*3," s &&
	grep -q "\"output_stride\":.*4," s && grep -q "\"test_fraction\":.*0.34" s &&
	test "$(grep -c "\"epoch\":" s)" -eq 2
'
expect_success 'a zip or tar.gz of the dataset trains like its folder' '
	(cd "$MINI" && zip -qr "$SCRATCH/mini.zip" . && tar czf "$SCRATCH/mini.tgz" .) &&
	dyn fit keypoints $TINY --seed 3 --id z mini.zip >/dev/null 2>&1 &&
	dyn fit keypoints $TINY --seed 3 --id t mini.tgz >/dev/null 2>&1 &&
	dyn fit keypoints $TINY --seed 3 --id d "$MINI" >/dev/null 2>&1 &&
	for id in z t; do
		losses $id | compare - "$(losses d >ld && echo ld)" || exit 1
	done
'
expect_success 'predict on pictures: file, frame, node, x, y, score a node; positions in the picture' '
	dyn predict mouse "$MINI"/labeled-data/m4s1/img0000.png "$MINI"/labeled-data/m4s1/img0040.png >p &&
	head -1 p | grep -qx "file,frame,node,x,y,score" &&
	test "$(wc -l <p)" -eq 9 &&
	grep -q "img0040.png,0,tailbase," p &&
	awk -F, "NR > 1 && \$4 != \"\" && (\$4 < -1 || \$4 > 160 || \$5 < -1 || \$5 > 120) { exit 1 }" p
'
expect_success 'a folder and an archive of pictures give the same rows as the pictures' '
	dyn predict mouse "$MINI"/labeled-data/m4s1/*.png | cut -d, -f2- >want &&
	dyn predict mouse "$MINI" | cut -d, -f2- | compare want - &&
	(cd "$MINI/labeled-data/m4s1" && zip -q "$SCRATCH/pics.zip" *.png) &&
	dyn predict mouse pics.zip >pz && cut -d, -f2- pz | compare want - &&
	sed -n 2p pz | grep -q "^pics.zip:img0000.png,0,snout,"
'
expect_success 'predict on a video: frame, node, x, y, score, frames numbered from 0' '
	dyn predict mouse "$VIDEO" >v &&
	head -1 v | grep -qx "frame,node,x,y,score" &&
	frames=$(tail -n +2 v | cut -d, -f1 | sort -un | wc -l) &&
	test "$frames" -gt 1 &&
	test "$(tail -n +2 v | wc -l)" -eq $((frames * 4)) &&
	sed -n 2p v | grep -q "^0,snout," &&
	dyn --format ndjson predict mouse "$VIDEO" | head -1 | grep -q "^{\"frame\":0,\"node\":\"snout\","
'
# A 32x24 YUV4MPEG2 stream of two gray frames, written by hand: header, then per frame
# "FRAME\n" and 32x24 luma + 2 x 16x12 chroma bytes.
y4m() {
	printf "YUV4MPEG2 W32 H24 F25:1 Ip A1:1 C420jpeg\n"
	for i in 1 2; do printf "FRAME\n"; head -c 1152 /dev/zero | tr "\0" "\200"; done
}
expect_success 'a YUV4MPEG2 stream on standard input, as ffmpeg -f yuv4mpegpipe gives it' '
	y4m >s.y4m &&
	dyn predict mouse - <s.y4m >y &&
	head -1 y | grep -qx "frame,node,x,y,score" &&
	test "$(tail -n +2 y | wc -l)" -eq 8 &&
	tail -1 y | grep -q "^1,tailbase,"
'
expect_success 'predict --render draws the poses into a video or a folder of PNG frames' '
	dyn predict mouse "$VIDEO" --render poses.mp4 >v2 &&
	cut -d, -f1,2 v | compare - "$(cut -d, -f1,2 v2 >v2c && echo v2c)" &&
	test -s poses.mp4 &&
	dyn predict mouse poses.mp4 | tail -n +2 | cut -d, -f1 | sort -un | wc -l >n &&
	tail -n +2 v | cut -d, -f1 | sort -un | wc -l | compare n - &&
	dyn predict mouse "$MINI" --render frames/ >/dev/null &&
	ls frames >l && printf "frame-000000.png\nframe-000001.png\nframe-000002.png\n" | compare - l &&
	must_fail 2 dyn predict mouse "$VIDEO" --render out.txt && grep -q "out.txt" err &&
	! test -e out.txt &&
	dyn fit logreg --test-fraction 0 --label species --id iris "$TESTDATA/iris.csv" >/dev/null &&
	must_fail 2 dyn predict iris "$TESTDATA/iris.csv" --render x.mp4 && err_is "no keypoints to draw"
'
expect_success 'bad frames: a truncated stream, a file that is not a picture, a missing path' '
	y4m | head -c 2000 >cut.y4m &&
	must_fail 1 dyn predict mouse - <cut.y4m && grep -q "^dyn: .*trunc" err &&
	echo "not a picture" >x.png &&
	must_fail 1 dyn predict mouse x.png && err_is "^dyn: .*x.png" &&
	must_fail 1 dyn predict mouse nothere.mp4 && err_is "nothere.mp4" &&
	must_fail 2 dyn predict mouse --top 2 "$VIDEO" && err_is "gives keypoints, not classes"
'
expect_success 'bad settings are refused before training, naming the value' '
	must_fail 2 dyn fit keypoints --sigma 0 "$MINI" && err_is "sigma" &&
	must_fail 2 dyn fit keypoints --output-stride 3 --input-scale 0.5 --epochs 1 "$MINI" &&
	err_is "stride" &&
	must_fail 2 dyn fit keypoints --backbone pretrained --input-scale 0.5 --epochs 1 "$MINI" &&
	err_is "needs --weights FILE.safetensors" &&
	must_fail 2 dyn fit keypoints --weights w.safetensors --epochs 1 "$MINI" &&
	err_is "unet backbone has no encoder" &&
	must_fail 2 dyn fit logreg --weights w.safetensors "$TESTDATA/iris.csv" &&
	err_is "logreg models take no pretrained encoder" &&
	must_fail 2 dyn fit keypoints --input-scale 0.05 --epochs 1 "$MINI" && err_is "too small" &&
	must_fail 2 dyn fit keypoints --max-stride 12 --epochs 1 "$MINI" && err_is "power of 2" &&
	! dyn models ls --format csv | grep -q ",failed$"
'
expect_success 'bad datasets: a labels file naming a missing frame, no labels, two datasets' '
	cp -r "$MINI" m2 && rm m2/labeled-data/m4s1/img0040.png &&
	must_fail 1 dyn fit keypoints $TINY m2 && err_is "img0040.png" &&
	mkdir empty && must_fail 1 dyn fit keypoints $TINY empty &&
	must_fail 2 dyn fit keypoints $TINY "$MINI" "$MINI" && err_is "one folder" &&
	! dyn models ls --format csv | grep -q ",running$"
'
expect_success 'a training killed midway resumes from its last epoch as if never stopped' '
	"$DYN" fit keypoints --epochs 100000 --input-scale 1 --batch-size 2 --test-fraction 0.34 \
		--id k "$MINI" >/dev/null 2>&1 &
	pid=$!
	i=0
	until dyn models show k --format json 2>/dev/null | grep -q "\"epoch\":.*2"; do
		i=$((i + 1)); test $i -lt 1200 || { kill -9 $pid; exit 1; }; sleep 0.05
	done
	kill -9 $pid; wait $pid
	dyn models ls --format csv | grep -q "^k,.*,failed$" &&
	test -f "$DYN_STORE/checkpoints/k.safetensors" &&
	K=$(dyn models show k --format json | grep -c "\"epoch\":") &&
	dyn fit keypoints --resume k --epochs $((K + 2)) >out && test "$(cat out)" = k &&
	dyn models ls --format csv | grep -q "^k,.*,done$" &&
	! test -e "$DYN_STORE/checkpoints/k.safetensors" &&
	dyn fit keypoints --epochs $((K + 2)) --input-scale 1 --batch-size 2 --test-fraction 0.34 \
		--id straight "$MINI" >/dev/null &&
	losses k >a && losses straight >b && test "$(wc -l <a)" -eq $((K + 2)) && compare b a
'
expect_success 'resume: nothing to resume, or data given again, is refused' '
	must_fail 3 dyn fit keypoints --resume straight && err_is "has no checkpoint" &&
	must_fail 2 dyn fit keypoints --resume straight "$MINI" && err_is "its own data" &&
	must_fail 2 dyn fit logreg --resume x && err_is "logreg models do not resume"
'
echo "# $test_count tests"
