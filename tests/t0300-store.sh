#!/bin/sh
# The store under concurrency and crashes: 16 concurrent fits lose no entry; killed writers
# leave a valid catalogue whose every entry points to an intact file.
. "$(dirname "$0")/lib.sh"
BC=$TESTDATA/breast_cancer.csv
head -150 "$BC" >small.csv

expect_success '16 concurrent dyn fit processes lose no entry and leave valid JSON' '
	i=0
	while [ $i -lt 16 ]; do
		if [ $((i % 2)) -eq 0 ]; then
			dyn fit logreg --label diagnosis --test-fraction 0 small.csv >"id.$i" 2>"err.$i" &
		else
			dyn fit logreg --id "c$i" --label diagnosis --test-fraction 0 small.csv >"id.$i" 2>"err.$i" &
		fi
		i=$((i + 1))
	done
	wait
	! grep . err.* &&
	test "$(cat id.* | sort -u | wc -l)" -eq 16 &&
	dyn models ls --format csv >ls && test "$(tail -n +2 ls | wc -l)" -eq 16 &&
	for id in $(cat id.*); do
		grep -q "^$id," ls || { echo "lost $id"; exit 1; }
		dyn models show "$id" --format json | grep -q "\"integrity\":.*\"ok\"" || exit 1
	done &&
	test "$(ls "$DYN_STORE"/models | wc -l)" -eq 16 &&
	! ls -a "$DYN_STORE" | grep -q "^\.tmp-"
'
expect_success 'index.json is valid JSON that Python can read' '
	command -v python3 >/dev/null || exit 0
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"version\"] == 1 and len(d[\"models\"]) == 16" "$DYN_STORE/index.json"
'
expect_success 'killed writers leave a valid catalogue of intact models' '
	n=0
	for delay in 0.01 0.02 0.03 0.05 0.08 0.1 0.15 0.2; do
		dyn fit svc --id "k$n" --label diagnosis --cv 3 "$BC" >/dev/null 2>&1 &
		pid=$!
		sleep $delay
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		n=$((n + 1))
		dyn models ls --format csv >ls || exit 1
		for id in $(tail -n +2 ls | cut -d, -f1); do
			dyn models show "$id" --format json | grep -q "\"integrity\":.*\"ok\"" || { echo "$id broken"; exit 1; }
		done
	done
'
expect_success 'a replaced model stays usable throughout' '
	dyn fit logreg --id r --label diagnosis --test-fraction 0 small.csv >/dev/null &&
	dyn fit logreg --id r --replace --C 0.1 --label diagnosis --test-fraction 0 small.csv >/dev/null &&
	dyn fit logreg --id r --replace --C 0.2 --label diagnosis --test-fraction 0 small.csv >/dev/null &&
	dyn models show r --format json | grep -q "\"integrity\":.*\"ok\"" &&
	test "$(ls "$DYN_STORE"/models | grep -c "^r\.")" -eq 1
'
expect_success 'model files are safetensors that Python reads' '
	command -v python3 >/dev/null || exit 0
	python3 -c "import numpy" 2>/dev/null || exit 0
	f=$(ls "$DYN_STORE"/models/r.*) &&
	python3 - "$f" <<-PY
	import json, struct, sys, numpy as np
	b = open(sys.argv[1], "rb").read()
	n = struct.unpack("<Q", b[:8])[0]
	h = json.loads(b[8:8 + n])
	meta = h.pop("__metadata__")
	assert meta["dyn.kind"] == "logreg", meta
	for name, t in h.items():
	    lo, hi = t["data_offsets"]
	    a = np.frombuffer(b[8 + n + lo:8 + n + hi], dtype={"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4", "U8": "u1"}[t["dtype"]])
	    assert a.size == int(np.prod(t["shape"])), name
	    assert np.all(np.isfinite(a)), name
	assert "coef" in h and h["coef"]["shape"] == [1, 30], h.keys()
	PY
'
expect_success 'every model file is packed as dyn writes it and has its index entry'"'"'s sha256' '
	command -v python3 >/dev/null || exit 0
	python3 - "$DYN_STORE" <<-PY
	import hashlib, json, struct, sys
	root = sys.argv[1]
	models = json.load(open(root + "/index.json"))["models"]
	assert models
	for m in models:
	    b = open(root + "/" + m["file"], "rb").read()
	    assert hashlib.sha256(b).hexdigest() == m["sha256"] and len(b) == m["size"], m["id"]
	    n = struct.unpack("<Q", b[:8])[0]
	    assert (8 + n) % 8 == 0 and b[8 + n - 1:8 + n] in (b"}", b" "), m["id"]
	    h = json.loads(b[8:8 + n])
	    h.pop("__metadata__")
	    end = 0
	    for name in sorted(h):
	        lo, hi = h[name]["data_offsets"]
	        assert lo == end, (m["id"], name)
	        end = hi
	    assert 8 + n + end == len(b), m["id"]
	PY
'
expect_success 'symbolic links planted for the store'"'"'s parts are refused, their targets untouched' '
	dyn fit logreg --id lk --label species "$TESTDATA/iris.csv" >/dev/null &&
	for part in .lock index.json models; do
		rm -rf "ls-$part" && mkdir "ls-$part" && cp -r "$DYN_STORE/." "ls-$part/" &&
		mkdir -p victim && echo "keep me" >victim/file &&
		if [ $part = models ]; then
			mv "ls-$part/models" victim/models && ln -s "$PWD/victim/models" "ls-$part/models"
		else
			rm -f "ls-$part/$part" && ln -s "$PWD/victim/file" "ls-$part/$part"
		fi &&
		DYN_STORE=$PWD/ls-$part must_fail 1 dyn fit logreg --id lk2 --label species "$TESTDATA/iris.csv" &&
		err_is "ls-$part/$part\": a symbolic link \(refused" &&
		test "$(cat victim/file)" = "keep me" && ! test -e victim/models/lk2.safetensors || exit 1
		rm -rf victim
	done
'
expect_success 'a symbolic link planted for the marking database is refused' '
	mkdir -p mk/datasets && echo "keep me" >victim.db &&
	ln -s "$PWD/victim.db" mk/datasets/dynamograms.db &&
	DYN_STORE=$PWD/mk must_fail 1 dyn mark markers --add x &&
	err_is "dynamograms.db\": a symbolic link \(refused" && test "$(cat victim.db)" = "keep me"
'
expect_success 'a store dyn creates is private to its user; one made by the team keeps its modes' '
	umask 022 &&
	DYN_STORE=$PWD/priv dyn fit logreg --id p --label species "$TESTDATA/iris.csv" >/dev/null &&
	test "$(stat -c %a priv)" = 700 &&
	DYN_STORE=$PWD/priv2 dyn mark markers --add x && test "$(stat -c %a priv2)" = 700 &&
	mkdir -m 2775 team &&
	DYN_STORE=$PWD/team dyn fit logreg --id p --label species "$TESTDATA/iris.csv" >/dev/null &&
	test "$(stat -c %a team)" = 2775
'
expect_success 'models check finds what killed writers left; --repair removes it; writers clean temporaries' '
	export DYN_STORE=$PWD/chk &&
	dyn fit logreg --id c1 --label species "$TESTDATA/iris.csv" >/dev/null &&
	dyn fit logreg --id c2 --label species "$TESTDATA/iris.csv" >/dev/null &&
	dyn models check >out && test "$(wc -l <out)" -eq 1 &&
	echo x >chk/models/.tmp-c3.safetensors-0123456789ab && echo y >chk/.tmp-index.json-ba9876543210 &&
	cp chk/models/c1.safetensors chk/models/orphan.safetensors &&
	must_fail 1 dyn models check &&
	grep -q "chk/models/.tmp-c3.safetensors-0123456789ab,temporary file left by a killed writer,kept" out &&
	grep -q "chk/.tmp-index.json-ba9876543210,temporary file" out &&
	grep -q "chk/models/orphan.safetensors,model file that no index entry names,kept" out &&
	dyn models check --repair >out && test "$(grep -c ",removed\$" out)" -eq 3 &&
	! test -e chk/models/orphan.safetensors && dyn models check >/dev/null &&
	echo x >chk/models/.tmp-c4.safetensors-aaaaaaaaaaaa &&
	dyn fit logreg --id c4 --label species "$TESTDATA/iris.csv" >/dev/null &&
	! ls -a chk/models | grep -q "^\.tmp-" &&
	rm chk/models/c2.safetensors && must_fail 1 dyn models check --repair &&
	grep -q "chk/models/c2.safetensors,.*,kept" out && dyn predict c1 "$TESTDATA/iris.csv" >/dev/null
'
expect_success 'models check is documented and completed' '
	documented dyn-models models check && completed models check
'
expect_success 'read-only commands never create a store: a mistyped one is named, exit 3' '
	for c in "models ls" "models show x" "models rm x" "models check" "predict x $TESTDATA/iris.csv"; do
		DYN_STORE=$PWD/typo must_fail 3 dyn $c && err_is "^dyn: no store at \"$PWD/typo\"" || exit 1
	done &&
	DYN_STORE=$PWD/typo dyn complete models show "" >out && test ! -s out && ! test -e typo
'
