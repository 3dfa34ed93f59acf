#!/usr/bin/python3
"""The body of bench/text.sh: data, the three fits, accuracies, predict throughput, ratios.

usage: text_bench.py ROOT WORKDIR wordnet|synthetic [ROWS]
"""
import csv
import os
import re
import subprocess
import sys
import time

root, work, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 60000
dyn = os.path.join(root, "dyn")
os.chdir(work)
env = dict(os.environ, DYN_STORE=os.path.join(work, "store"))


def timed(cmd, stdout=None):
    """Runs cmd under /usr/bin/time: (wall seconds, cpu seconds)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S", "-o", "time.txt"] + cmd,
                       stdout=stdout, stderr=subprocess.PIPE, env=env, check=False)
    if r.returncode != 0:
        sys.exit("text.sh: %s failed: %s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
    e, u, s = open("time.txt").read().split()[-3:]
    return float(e), float(u) + float(s)


def read(path):
    r = list(csv.reader(open(path, encoding="utf-8")))[1:]
    return [x[0] for x in r], [x[1] for x in r]


with open("all.csv", "w", encoding="utf-8") as f:
    if corpus == "wordnet":
        subprocess.run([sys.executable, os.path.join(root, "bench/wordnet_corpus.py")],
                       stdout=f, check=True)
        what = "WordNet 3.0 glosses labelled with their lexicographer file (real)"
    elif corpus == "synthetic":
        subprocess.run([sys.executable, os.path.join(root, "testdata/text/gen_tickets.py"),
                        "--rows", str(rows), "--seed", "2"], stdout=f, check=True)
        what = "synthetic tickets (testdata/text/gen_tickets.py --seed 2)"
    else:
        sys.exit("text.sh: unknown corpus %r (wordnet or synthetic)" % corpus)
allrows = list(csv.reader(open("all.csv", encoding="utf-8")))
head, body = allrows[0], allrows[1:]
k = len(body) * 8 // 10
for name, part in (("train", body[:k]), ("test", body[k:])):
    with open(name + ".csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(part)
    with open(name + ".ft", "w", encoding="utf-8") as f:
        for text, label in part:
            f.write("__label__%s %s\n" % (label, " ".join(text.split())))
Xtr, ytr = read("train.csv")
Xte, yte = read("test.csv")
print("data: %s, %d train + %d test documents, %d classes (in %s)"
      % (what, len(Xtr), len(Xte), len(set(ytr)), work))
print("load average: %s" % open("/proc/loadavg").read().split(" ", 3)[:3])

res = {}
# dyn's and fastText's fits, alternately REPEAT times each (the machine's speed drifts: a
# single pair can land on either side of 1); the median wall time and its run's CPU are
# reported, every pair's ratio printed
REPEAT = 3
dyn_fit = [dyn, "--no-progress", "-q", "fit", "text", "--id", "bench", "--replace", "--model",
           "svm", "--test-fraction", "0", "train.csv"]
ft_fit = ["fasttext", "supervised", "-input", "train.ft", "-output", "ft"]
runs = {"dyn": [], "fasttext": []}
for r in range(REPEAT):
    runs["dyn"].append(timed(dyn_fit, stdout=subprocess.DEVNULL))
    runs["fasttext"].append(timed(ft_fit, stdout=subprocess.DEVNULL))
    print("pair %d: dyn %.2f s, fastText %.2f s, ratio %.2f" % (
        r + 1, runs["dyn"][-1][0], runs["fasttext"][-1][0],
        runs["dyn"][-1][0] / runs["fasttext"][-1][0]))


def median(v):
    return sorted(v)[len(v) // 2]


# dyn: predict the test rows with the last model
with open("dyn_pred.csv", "w") as f:
    pred = timed([dyn, "predict", "bench", "test.csv"], stdout=f)
got = [r[1] for r in list(csv.reader(open("dyn_pred.csv")))[1:]]
assert len(got) == len(yte), (len(got), len(yte))
res["dyn"] = dict(fit=median(runs["dyn"]), acc=sum(a == b for a, b in zip(got, yte)) / len(yte),
                  pred=pred)

# fastText, default settings
fit = median(runs["fasttext"])
out = subprocess.run(["fasttext", "test", "ft.bin", "test.ft"], capture_output=True, text=True,
                     check=True).stdout
acc = float(re.search(r"P@1\s+([0-9.]+)", out).group(1))
res["fasttext"] = dict(fit=fit, acc=acc, pred=None)

# scikit-learn: the same features as dyn's defaults (word 1-2, char_wb 2-4, min_df 2), LinearSVC
# defaults
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.pipeline import FeatureUnion  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402
w0, c0 = time.perf_counter(), time.process_time()
fu = FeatureUnion([("w", TfidfVectorizer(ngram_range=(1, 2), min_df=2)),
                   ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2))])
svm = LinearSVC().fit(fu.fit_transform(Xtr), ytr)
fit = (time.perf_counter() - w0, time.process_time() - c0)
w0, c0 = time.perf_counter(), time.process_time()
p = svm.predict(fu.transform(Xte))
pred = (time.perf_counter() - w0, time.process_time() - c0)
res["sklearn"] = dict(fit=fit, acc=float((p == __import__("numpy").array(yte)).mean()), pred=pred)

print("%-10s %12s %12s %10s %14s" % ("tool", "fit wall s", "fit cpu s", "accuracy",
                                       "predict docs/s"))
for name, r in res.items():
    dps = "%.0f" % (len(Xte) / r["pred"][0]) if r["pred"] else "-"
    print("%-10s %12.2f %12.2f %10.4f %14s" % (name, r["fit"][0], r["fit"][1], r["acc"], dps))
d, f, s = res["dyn"], res["fasttext"], res["sklearn"]


def verdict(ok):
    return "ok" if ok else "MISSED"


print("fit wall dyn/fasttext %.2f, medians of %d runs (target <= 1: %s)" % (
    d["fit"][0] / f["fit"][0], REPEAT, verdict(d["fit"][0] <= f["fit"][0])))
print("fit wall dyn/sklearn  %.2f (target <= 0.3: %s); cpu %.2f" % (
    d["fit"][0] / s["fit"][0], verdict(d["fit"][0] <= 0.3 * s["fit"][0]),
    d["fit"][1] / s["fit"][1]))
print("accuracy dyn - fasttext %+.2f points, dyn - sklearn %+.2f points (target >= -0.5: %s)" % (
    100 * (d["acc"] - f["acc"]), 100 * (d["acc"] - s["acc"]),
    verdict(d["acc"] >= max(f["acc"], s["acc"]) - 0.005)))
print("predict docs/s dyn/sklearn %.2f (target >= 2: %s; dyn's time includes process start, "
      "model load, CSV parsing and output)" % (s["pred"][0] / d["pred"][0],
                                               verdict(s["pred"][0] >= 2 * d["pred"][0])))
