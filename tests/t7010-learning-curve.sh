#!/bin/sh
# Learning curves: dyn fit --plot and dyn models show --plot on a tiny keypoints network and on
# a training's entry as the index holds it; the errors (a model without epochs, a kind that
# does not train in epochs, a bad extension, an unwritable path) before anything is drawn. The
# drawing itself is tested in tests/unit/t_curve.c.
. "$(dirname "$0")/lib.sh"

MINI=$TESTDATA/pose/openfield-mini
TINY="--epochs 2 --input-scale 0.5 --batch-size 2 --test-fraction 0.34"

# png_ok FILE: a PNG of the curve's size (1200x800), decoded whole when Pillow is at hand.
png_ok() {
	head=$(od -An -tx1 -N24 "$1" | tr -d ' \n')
	test "$head" = 89504e470d0a1a0a0000000d49484452000004b000000320 || {
		echo "$1: not a 1200x800 PNG: $head"
		return 1
	}
	/usr/bin/python3 -c "import PIL" 2>/dev/null || return 0
	/usr/bin/python3 - "$1" <<-'PY'
		import sys
		from PIL import Image
		im = Image.open(sys.argv[1]).convert("RGB")
		im.load()
		assert im.size == (1200, 800)
		assert len(im.getcolors(1 << 20)) > 10, "a blank picture"
	PY
}

expect_success 'fit keypoints --plot draws the learning curve at the end of the training' '
	dyn fit keypoints $TINY --id mouse --plot fit.png "$MINI" >out &&
	test "$(cat out)" = mouse && png_ok fit.png
'
expect_success 'models show --plot draws a PNG or an SVG, then prints the entry' '
	dyn --format table models show mouse --plot show.png >show &&
	png_ok show.png && grep -q "^epochs:" show &&
	dyn --format json models show mouse --plot show.SVG >show &&
	grep -q "\"kind\":.*\"keypoints\"" show &&
	head -c 5 show.SVG | grep -q "<?xml" && test "$(grep -c "<path" show.SVG)" -gt 10
'
expect_success 'models show --plot of a network in training: the epochs the index holds' '
	mkdir running &&
	cat >running/index.json <<-EOF &&
	{"version": 1, "models": [{"id": "r1", "kind": "dynamogram", "created_at": "2026-01-01T00:00:00Z",
	 "training": {"status": "running", "pid": 1, "started_at": "2026-01-01T00:00:00Z",
	  "epochs": [{"epoch": 1, "loss": 1.2, "val_loss": null, "lr": 0.001, "accuracy": 0.4},
	             {"epoch": 2, "loss": 0.6, "val_loss": 0.7, "lr": 0.001, "accuracy": 0.6}]}}]}
	EOF
	dyn --store running models show r1 --plot r1.png >/dev/null && png_ok r1.png
'
expect_success 'models show --plot of a model without epochs is a usage error' '
	dyn fit logreg --id lr --label diagnosis "$TESTDATA/breast_cancer.csv" >/dev/null &&
	must_fail 2 dyn models show lr --plot lr.png &&
	err_is "^dyn: option --plot: model \"lr\" has no epochs to draw \(only networks trained in epochs have a learning curve\)$" &&
	test ! -e lr.png && test ! -s out
'
expect_success 'models show --plot with another extension is a usage error before anything' '
	must_fail 2 dyn models show mouse --plot curve.pdf &&
	err_is "^dyn: option --plot: expected a file name ending in .png or .svg, got \"curve.pdf\"$" &&
	test ! -e curve.pdf && test ! -s out &&
	must_fail 2 dyn models show nosuchmodel --plot curve &&
	err_is "^dyn: option --plot: expected a file name ending in .png or .svg, got \"curve\"$"
'
expect_success 'models show --plot into an unwritable path is a one-line error, nothing printed' '
	must_fail 1 dyn models show mouse --plot /nonexistent/dir/c.png &&
	err_is "^dyn: option --plot: \"/nonexistent/dir/c.png\": cannot be written: No such file or directory$" &&
	test ! -s out &&
	mkdir d.png && must_fail 1 dyn models show mouse --plot d.png &&
	err_is "^dyn: option --plot: \"d.png\": cannot be written: Is a directory$" && test ! -s out
'
expect_success 'models show --plot of a model that does not exist: not found' '
	must_fail 3 dyn models show nosuchmodel --plot c.png && test ! -e c.png
'
expect_success 'fit --plot: refused for kinds without epochs, bad extensions, unwritable paths' '
	store_snapshot before &&
	must_fail 2 dyn fit logreg --label diagnosis --plot c.png "$TESTDATA/breast_cancer.csv" &&
	err_is "^dyn: option --plot: logreg models do not train in epochs: no learning curve to draw$" &&
	must_fail 2 dyn fit keypoints $TINY --id k2 --plot c.jpg "$MINI" &&
	err_is "^dyn: option --plot: expected a file name ending in .png or .svg, got \"c.jpg\"$" &&
	must_fail 1 dyn fit keypoints $TINY --id k2 --plot /nonexistent/dir/c.png "$MINI" &&
	err_is "^dyn: option --plot: \"/nonexistent/dir/c.png\": cannot be written: No such file or directory$" &&
	store_snapshot after && compare before after && test ! -e c.png && test ! -e c.jpg
'

echo "1..$test_count"
