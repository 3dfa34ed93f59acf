#!/usr/bin/python3
"""Deterministic two-class benchmark data for bench/svc.sh: n rows x d features, a noisy nonlinear
boundary. Writes PREFIX.csv (header x1..xd,y) and PREFIX.svm (libsvm format), the features already
standardized with the population std so that dyn (which standardizes inside the model) and
svm-train see the same numbers.
usage: svc_data.py N D SEED PREFIX [MEAN_STD_FROM.npz]"""
import sys
import numpy as np

n, d, seed, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(seed)
# Labels depend on a fixed random nonlinear function of the features: the generator of the
# function uses seed 12345 whatever the sample seed, so train and test share the boundary.
frng = np.random.default_rng(12345)
W = frng.normal(size=(d, 6))
X = rng.normal(size=(n, d)) * frng.uniform(0.5, 3.0, size=d) + frng.normal(size=d)
Z = (X - X.mean(0) * 0) @ W / np.sqrt(d)
f = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] ** 2 - 0.7 * np.abs(Z[:, 2]) + 0.3 * Z[:, 3] * Z[:, 4] - 0.2
y = (f + 0.5 * rng.normal(size=n) > 0).astype(int)
if len(sys.argv) > 5:
    st = np.load(sys.argv[5])
    mu, sd = st["mu"], st["sd"]
else:
    mu, sd = X.mean(0), X.std(0)
    np.savez(prefix + ".npz", mu=mu, sd=sd)
with open(prefix + ".csv", "w") as fh:
    fh.write(",".join("x%d" % (j + 1) for j in range(d)) + ",y\n")
    for i in range(n):
        fh.write(",".join(repr(float(v)) for v in X[i]) + ",%d\n" % y[i])
Xs = (X - mu) / sd
with open(prefix + ".svm", "w") as fh:
    for i in range(n):
        fh.write("%d " % (1 if y[i] else -1) +
                 " ".join("%d:%s" % (j + 1, repr(float(Xs[i, j]))) for j in range(d)) + "\n")
