#!/bin/sh
# Runs every benchmark of bench/ (dyn and its peer tool side by side in one run, ratios
# printed) and collects their output in bench/out/results-DATE.txt. Installs the peer tools
# from Debian first (tools/bench-packages). Numbers worth keeping go to bench/RESULTS.md.
# usage: make bench    or    sh bench/run.sh [NAME...]   (NAME: predict logreg svc stats nn_torch ...)
set -u
cd "$(dirname "$0")/.."
sh tools/deps.sh tools/bench-packages || exit 1
[ $# -gt 0 ] || set -- predict logreg svc text stats forecast nn_torch mark
mkdir -p bench/out
log=bench/out/results-$(date -u +%Y%m%dT%H%M%SZ).txt
{
	echo "# dyn $(./dyn --version | cut -d' ' -f2), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$log"
status=0
for b in "$@"; do
	[ -f "bench/$b.sh" ] || { echo "bench/$b.sh: no such benchmark" | tee -a "$log"; status=1; continue; }
	echo "== $b" | tee -a "$log"
	sh "bench/$b.sh" 2>&1 | tee -a "$log"
done
echo "results in $log"
exit $status
