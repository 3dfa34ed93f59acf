#!/bin/sh
# The command line: help, version, dispatch, usage errors, man pages and completions agree
# with the option tables.
. "$(dirname "$0")/lib.sh"
MAN=$TESTS/../man

expect_success 'dyn --version prints the version' '
	dyn --version >out && grep -Eq "^dyn [0-9]+\.[0-9]+\.[0-9]+$" out
'
expect_success 'dyn --help lists the commands' '
	dyn --help >out && grep -q "^    fit " out && grep -q "^    predict " out && grep -q "^    models " out
'
expect_success 'dyn without a command is a usage error' '
	must_fail 2 dyn && grep -q "^usage: dyn" err
'
expect_success 'an unknown command is a usage error naming it' '
	must_fail 2 dyn frobnicate && err_is "^dyn: .frobnicate. is not a  command|^dyn: .frobnicate. is not a"
'
expect_success 'an unknown option is a usage error naming it' '
	must_fail 2 dyn fit logreg --bogus x.csv && err_is "^dyn: unknown option \"--bogus\"$"
'
expect_success 'an option without its value is a usage error' '
	must_fail 2 dyn fit logreg --C && err_is "^dyn: option --C needs a value$"
'
expect_success 'every command takes -h' '
	for c in fit predict models help; do dyn $c -h >out || exit 1; grep -q "^usage: dyn" out || exit 1; done &&
	dyn fit logreg -h >out && grep -q -- "--penalty" out &&
	dyn fit svc -h >out && grep -q -- "--kernel" out &&
	dyn models ls -h >out && grep -q "^usage: dyn models ls" out
'
expect_success 'dyn help COMMAND shows its usage when man is not at hand' '
	dyn help fit >out </dev/null && grep -q "^usage: dyn fit" out
'
expect_success 'global options are also accepted after the command' '
	mkdir "$SCRATCH/other" && echo "{\"version\": 1, \"models\": [{\"id\": \"o1\", \"kind\": \"logreg\"}]}" >"$SCRATCH/other/index.json" &&
	dyn models ls --format json --store "$SCRATCH/other" >out && grep -q "\"o1\"" out
'
expect_success 'a bad --format is a usage error' '
	must_fail 2 dyn --format yaml models ls && err_is "^dyn: option --format: expected table, csv, json or ndjson, got \"yaml\"$"
'

expect_success 'options of dyn predict are in dyn-predict(1) and completed' '
	documented dyn-predict predict && completed predict
'
expect_success 'options of dyn fit logreg, svc, text, dynamogram, keypoints and ocr are in dyn-fit(1) and completed' '
	documented dyn-fit fit logreg && documented dyn-fit fit svc && documented dyn-fit fit text &&
	documented dyn-fit fit dynamogram && documented dyn-fit fit keypoints && documented dyn-fit fit ocr &&
	completed fit logreg && completed fit svc && completed fit text && completed fit dynamogram &&
	completed fit keypoints && completed fit ocr
'
expect_success 'options of dyn models rm and show are in dyn-models(1) and completed' '
	documented dyn-models models rm && completed models rm &&
	documented dyn-models models show && completed models show
'
expect_success 'global options are in dyn(1)' '
	documented dyn
'
expect_success 'man pages are well-formed roff' '
	for f in "$MAN"/*.1; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" >/dev/null 2>warn </dev/null || exit 1
		test ! -s warn || { cat warn; exit 1; }
	done
'
expect_success 'completion: commands, kinds, model ids' '
	dyn complete "" >c && grep -qx fit c && grep -qx predict c && ! grep -qx complete c &&
	dyn complete fit "" >c && grep -qx logreg c && grep -qx svc c &&
	dyn complete models "" >c && grep -qx ls c && grep -qx rm c &&
	dyn fit logreg --id m-one --test-fraction 0 "$TESTDATA/breast_cancer.csv" --label diagnosis >/dev/null &&
	dyn complete predict "" >c && grep -qx m-one c &&
	dyn complete models show "" >c && grep -qx m-one c &&
	dyn complete models show m-one --plot "" >c && test ! -s c &&
	dyn complete --format "" >c && grep -qx ndjson c
'
expect_success 'bash completion script completes through dyn' '
	command -v bash >/dev/null || exit 0
	PATH=$(dirname "$DYN"):$PATH bash -c ". \"$TESTS/../completions/dyn.bash\"; COMP_WORDS=(dyn fi); COMP_CWORD=1; _dyn; printf \"%s\n\" \"\${COMPREPLY[@]}\"" >c &&
	grep -qx fit c
'
expect_success 'zsh completion script completes through dyn, files where dyn offers none' '
	command -v zsh >/dev/null || { echo "zsh not installed: skipped"; exit 0; }
	# compadd and _files stand in for zsh'"'"'s completion system: they print what they get
	PATH=$(dirname "$DYN"):$PATH zsh -f -c "compadd() { [[ \$1 == -a ]] && print -l -- \${(P)2}; }
		_files() { print FILES; }
		words=(dyn fi); CURRENT=2; source \"$TESTS/../completions/_dyn\"
		words=(dyn fit text --te); CURRENT=4; source \"$TESTS/../completions/_dyn\"
		words=(dyn fit text --text-column x); CURRENT=5; source \"$TESTS/../completions/_dyn\"" >c &&
	grep -qx fit c && grep -qx -- --text-column c && grep -qx FILES c
'
expect_success 'fish completion script completes through dyn, files where dyn offers none' '
	command -v fish >/dev/null || { echo "fish not installed: skipped"; exit 0; }
	mkdir -p fdir && : >fdir/data.csv &&
	PATH=$(dirname "$DYN"):$PATH fish --no-config -c "source \"$TESTS/../completions/dyn.fish\"
		complete -C \"dyn fi\"; complete -C \"dyn fit text --te\"
		complete -C \"dyn fit text fdir/da\"" >c 2>err &&
	test ! -s err && grep -qx fit c && grep -qx -- --text-column c && grep -qx fdir/data.csv c
'
expect_success 'dyn links none of the heavy libraries it loads on first use' '
	readelf -d "$DYN" >dyn.dyn && grep -q NEEDED dyn.dyn &&
	! grep -E "NEEDED.*(openblas|crypto|archive|cairo|sqlite)" dyn.dyn
'
expect_success 'a broken OpenBLAS is a one-line error at its first use, exit 1' '
	command -v cc >/dev/null || { echo "no C compiler: skipped"; exit 0; }
	mkdir -p fake && echo "int fake_blas;" >fake/f.c &&
	cc -shared -fPIC -o fake/libopenblas.so.0 fake/f.c &&
	dyn --version >/dev/null &&
	LD_LIBRARY_PATH=$PWD/fake must_fail 1 dyn fit logreg --id b --label species "$TESTDATA/iris.csv" &&
	err_is "^dyn: BLAS: libopenblas.so.0 lacks cblas_" &&
	! dyn models show b >/dev/null 2>&1
'
expect_success 'an unknown command suggests the nearest; a document asked as CSV is a usage error' '
	must_fail 2 dyn predcit && err_is "^dyn: .predcit. is not a dyn command; did you mean .predict.\? \(see .dyn -h.\)$" &&
	must_fail 2 dyn models lss && err_is "did you mean .ls.\?" &&
	must_fail 2 dyn frobnicate && err_is "^dyn: .frobnicate. is not a dyn command \(see .dyn -h.\)$" &&
	must_fail 2 dyn --format csv models show x && err_is "models show prints a document, not rows" &&
	must_fail 2 dyn --format csv mark stats && err_is "mark stats prints a document"
'
