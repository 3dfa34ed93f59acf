#!/bin/sh
# Writes the seed inputs of fuzz target NAME into DIR, from testdata/ (and small inputs made
# here): the same seeds start `make fuzz` and the test suite's regression run.
# usage: sh tests/fuzz/seeds.sh NAME DIR
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
t=$root/testdata
name=$1
dir=$2
mkdir -p "$dir"
# prefix BYTE FILE OUT: OUT is the byte (octal) then the first 8 KiB of FILE (small seeds keep
# the fuzzer fast: the parsers do the same on every line)
prefix() { { printf "\\$1"; head -c 8192 "$2"; } >"$3"; }
case "$name" in
f_records)
	prefix 000 "$t/iris.csv" "$dir/iris.csv"
	prefix 000 "$t/breast_cancer.csv" "$dir/bc.csv"
	prefix 001 "$t/service/fit_request.json" "$dir/fit.json"
	prefix 001 "$t/service/fit_request_objects.json" "$dir/objects.json"
	prefix 002 "$t/service/fit_request.ndjson" "$dir/fit.ndjson"
	prefix 001 "$t/service/predict_request.json" "$dir/predict.json"
	;;
f_cards)
	prefix 000 "$t/cards/one.csv" "$dir/one.csv"
	prefix 000 "$t/cards/oilfield3.csv" "$dir/oilfield3.csv"
	prefix 001 "$t/cards/cards.json" "$dir/cards.json"
	prefix 001 "$t/plate_reference_cards.json" "$dir/plate.json"
	;;
f_image)
	cp "$t/cards/surface.jpg" "$t/cards/pump.jpg" "$dir/"
	;;
f_archive)
	head -c 20000 "$t/iris.csv" | gzip -c >"$dir/iris.csv.gz"
	(cd "$t/cards" && tar cf - one.csv cards.json) >"$dir/cards.tar"
	(cd "$t/cards" && tar cf - one.csv | xz -c) >"$dir/cards.tar.xz"
	if command -v zip >/dev/null; then
		(cd "$t/cards" && zip -q - one.csv pump.jpg) >"$dir/cards.zip"
	fi
	;;
f_tickets)
	{ printf '\201'; cat "$t/tickets/queues.csv"; head -c 20000 "$t/tickets/tickets.csv"; } >"$dir/with-queues"
	prefix 000 "$t/tickets/tickets.csv" "$dir/tickets"
	prefix 002 "$t/ts/Nile.csv" "$dir/nile"
	;;
f_text)
	prefix 000 "$t/text/tickets.csv" "$dir/tickets"
	prefix 005 "$t/text/wordnet-3k.csv" "$dir/wordnet"
	printf '\001Не могу войти в личный кабинет, ПОМОГИТЕ!!! running runs ran \377\376' >"$dir/mixed"
	;;
f_safetensors)
	# model files of each kind, trained here on testdata
	if [ -x "${DYN:-$root/dyn}" ]; then
		s=$(mktemp -d)
		d() { DYN_STORE=$s "${DYN:-$root/dyn}" -q "$@" >/dev/null 2>&1 || true; }
		d fit logreg --id lr --label species "$t/iris.csv"
		d fit svc --id svc --label species "$t/iris.csv"
		head -n 60 "$t/text/tickets.csv" >"$s/tx.csv"
		d fit text --id tx --text-column text --label label "$s/tx.csv"
		d fit dynamogram --id dg --epochs 1 --width 8 --test-fraction 0 "$t/cards/oilfield3.csv"
		for m in "$s"/models/*.safetensors; do
			if [ -f "$m" ]; then cp "$m" "$dir/"; fi
		done
		rm -rf "$s"
	fi
	printf '\066\000\000\000\000\000\000\000{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}\000\000\200\077\000\000\000\100' >"$dir/tiny"
	;;
f_pose)
	prefix 000 "$t/pose/openfield-mini/labeled-data/m4s1/CollectedData_Pranav.csv" "$dir/openfield"
	printf '\000scorer,,,me,me,me,me\nindividuals,,,m1,m1,m2,m2\nbodyparts,,,nose,nose,nose,nose\ncoords,,,x,y,x,y\nx,y,a.png,1,2,NaN,\n' >"$dir/multi"
	printf '\001{"images": [{"id": 1, "file_name": "a.png", "width": 16, "height": 16}], "annotations": [{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 2, 0, 0, 0, 3.5, 4, 1]}], "categories": [{"id": 1, "keypoints": ["a", "b", "c"], "skeleton": [[1, 2], [2, 3]]}]}\n' >"$dir/coco"
	;;
f_index)
	printf '{"version": 1, "models": []}\n' >"$dir/empty"
	printf '{"version": 1, "models": [{"id": "m1", "kind": "logreg", "file": "models/m1.safetensors", "sha256": "00", "training": {"status": "running", "pid": 1, "host": "x"}}]}\n' >"$dir/one"
	;;
f_markdb)
	if command -v sqlite3 >/dev/null && [ -x "${DYN:-$root/dyn}" ]; then
		s=$(mktemp -d)
		head -n 800 "$t/cards/oilfield3.csv" >"$s/c.csv"
		DYN_STORE=$s/st "${DYN:-$root/dyn}" mark import --user a --add-markers "$s/c.csv" >/dev/null 2>&1 || true
		[ -f "$s/st/datasets/dynamograms.db" ] && cp "$s/st/datasets/dynamograms.db" "$dir/db"
		rm -rf "$s"
	fi
	;;
f_y4m)
	# frame FILE BYTES: a FRAME line and BYTES bytes of samples
	frame() { printf 'FRAME\n' >>"$1"; head -c "$2" /dev/zero | tr '\000' '\200' >>"$1"; }
	printf '\000W8 H4 F25:1 C420jpeg\n' >"$dir/420"
	frame "$dir/420" 48
	frame "$dir/420" 48
	printf '\005W6 H3 F30000:1001 Ip A1:1 C444 XCOLORRANGE=FULL\n' >"$dir/444"
	frame "$dir/444" 54
	printf '\002W5 H3 F25:1 C422p10\n' >"$dir/422p10"
	frame "$dir/422p10" 66
	printf '\021W4 H4 F25:1 Cmono16\n' >"$dir/mono16"
	frame "$dir/mono16" 32
	printf '\001W9 H2 F25:1 C411\n' >"$dir/411"
	frame "$dir/411" 30
	;;
f_orders)
	prefix 000 "$t/ocr/orders.csv" "$dir/orders.csv"
	printf '\001<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>AB&amp;12.3</t></is></c><c r="B2"><v>29</v></c><c t="s"><v>3</v></c></row><!-- c --><row><c t="b"><v>1</v></c><c><v>7</v></c><c><![CDATA[x]]></c></row></sheetData></worksheet>' >"$dir/sheet"
	printf '\002<?xml version="1.0"?><sst count="4"><si><t>Артикул</t></si><si><r><t>Серийный </t></r><r><t>номер</t></r></si><si><t xml:space="preserve">Заказ</t><rPh><t>x</t></rPh></si><si><t>AB&#45;12&#x2e;3</t></si></sst>' >"$dir/shared"
	;;
*)
	echo "seeds.sh: no such target: $name" >&2
	exit 2
	;;
esac
