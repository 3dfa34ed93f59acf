#!/bin/sh
# The README's "Use" section and the EXAMPLES of every man page run as written, on shipped
# data, from a fresh store: each code block is extracted and run with sh -e in a directory
# where testdata/ is the repository's, one directory and store a document, blocks in order.
# A block whose first line is a "# template" comment is not run; which ones are templates is
# checked, so that an example cannot dodge the test by becoming one.
. "$(dirname "$0")/lib.sh"

ROOT=$TESTS/..
mkdir bin && ln -s "$DYN" bin/dyn
PATH=$SCRATCH/bin:$PATH
export PATH

# blocks DOC OUTDIR: writes each example block of DOC to OUTDIR/NN.sh.
blocks() {
	case "$1" in
	*.md)
		awk -v out="$2" '
			/^## / { use = ($0 == "## Use"); if (inb) { close(f); inb = 0 } next }
			use && /^    / { if (!inb) { n++; f = sprintf("%s/%02d.sh", out, n); inb = 1 }
				print substr($0, 5) > f; next }
			inb { close(f); inb = 0 }
		' "$1"
		;;
	*)
		awk -v out="$2" '
			/^\.SH / { ex = ($0 ~ /^\.SH EXAMPLES/); next }
			ex && (/^\.nf/ || /^\.EX/) { n++; f = sprintf("%s/%02d.sh", out, n); inb = 1; next }
			ex && (/^\.fi/ || /^\.EE/) { close(f); inb = 0; next }
			inb {
				s = $0
				gsub(/\\f[BIRP]/, "", s); gsub(/\\\(aq/, "\047", s)
				gsub(/\\-/, "-", s); gsub(/\\e/, "\\", s); gsub(/\\\\/, "\\", s)
				print s > f
			}
		' "$1"
		;;
	esac
}

for doc in "$ROOT/README.md" "$ROOT"/man/*.1; do
	name=$(basename "$doc")
	mkdir -p "ex-$name/run" && ln -s "$ROOT/testdata" "ex-$name/run/testdata"
	blocks "$doc" "ex-$name"
	for b in "ex-$name"/*.sh; do
		[ -f "$b" ] || continue
		first=$(head -n 1 "$b")
		case "$first" in
		"# template"*)
			echo "# $name: block $(basename "$b" .sh) is a template: $first"
			echo "$name" >>templates
			continue
			;;
		esac
		expect_success "$name: example $(basename "$b" .sh) runs ($first)" '
			cd "ex-$name/run" && DYN_STORE=$SCRATCH/store-$name sh -e "../$(basename "$b")" >/dev/null
		'
	done
done
expect_success 'only the blocks that cannot run here are templates (curl, cron over hosts, Spark)' '
	sort templates >got && printf "dyn-fit.1\ndyn-forecast.1\ndyn-predict.1\n" >want &&
	compare want got
'
expect_success 'every man page and the README have examples' '
	for doc in "$ROOT/README.md" "$ROOT"/man/*.1; do
		ls "ex-$(basename "$doc")"/*.sh >/dev/null 2>&1 || { echo "$doc: no examples"; exit 1; }
	done
'

echo "1..$test_count"
