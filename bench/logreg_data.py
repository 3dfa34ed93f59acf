#!/usr/bin/python3
# Deterministic binary classification data for bench/logreg.sh: N_TRAIN + N_TEST rows of D
# correlated Gaussian features, labels drawn from a logistic model (so not separable).
# Features are standardized with the training rows' mean and population std before writing,
# so that dyn (which standardizes inside the model), scikit-learn and liblinear (which do not)
# all solve the same problem. Writes DIR/train.csv, DIR/test.csv (header f1..fD,y; 7
# significant digits) and DIR/train.bin (raw little-endian: int64 n, int64 d, n*d float64
# row-major, n int32 labels) for the solver-only timing harness.
# usage: logreg_data.py DIR [N_TRAIN N_TEST D]
import sys

import numpy as np
import pandas as pd

out = sys.argv[1]
n_train, n_test, d = (int(a) for a in sys.argv[2:5]) if len(sys.argv) > 2 else (200000, 50000, 50)
rng = np.random.default_rng(20261122)
n = n_train + n_test
mix = np.eye(d) + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d)
X = rng.standard_normal((n, d)) @ mix
X = X * rng.uniform(0.5, 20, d) + rng.uniform(-50, 50, d)
w = rng.standard_normal(d) * 0.3
z = ((X - X.mean(0)) / X.std(0)) @ w - 0.4
y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(np.int32)
mu, sd = X[:n_train].mean(0), X[:n_train].std(0)
X = (X - mu) / sd
cols = ["f%d" % (j + 1) for j in range(d)]
for name, sl in (("train", slice(0, n_train)), ("test", slice(n_train, n))):
    df = pd.DataFrame(X[sl], columns=cols)
    df["y"] = y[sl]
    df.to_csv("%s/%s.csv" % (out, name), index=False, float_format="%.7g")
# The binary image holds the values exactly as written in the CSV.
Xt = pd.read_csv("%s/train.csv" % out)
with open("%s/train.bin" % out, "wb") as f:
    np.array([n_train, d], dtype="<i8").tofile(f)
    Xt[cols].to_numpy(dtype="<f8").tofile(f)
    Xt["y"].to_numpy(dtype="<i4").tofile(f)
