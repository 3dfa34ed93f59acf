#!/usr/bin/python3
"""Baselines for `dyn fit dynamogram` on real surface cards (bench/dynamogram.sh): scikit-learn
classifiers on hand-made card features, 5-fold stratified cross-validation (shuffled,
random_state 0), printing the mean accuracy of each.

usage: /usr/bin/python3 bench/dynamogram_baseline.py [DATA]
DATA defaults to ../shared/data/dynamograms/oilfield12-half.csv (long format
card,marker,position,load)."""
import collections
import csv
import os
import sys

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "..", "shared", "data", "dynamograms", "oilfield12-half.csv")


def read_cards(path):
    cards, labels = collections.OrderedDict(), {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            cards.setdefault(row["card"], []).append(
                (float(row["position"]), float(row["load"])))
            labels[row["card"]] = row["marker"]
    ids = list(cards)
    return [np.array(cards[k]) for k in ids], np.array([labels[k] for k in ids])


def scalars4(p):
    """Points per card, stroke, maximum and minimum load."""
    return np.array([len(p), np.ptp(p[:, 0]), p[:, 1].max(), p[:, 1].min()])


def by_index(p, m=128):
    """Position and load resampled evenly in the recorded order (time), and scalars4."""
    t, u = np.linspace(0, 1, len(p)), np.linspace(0, 1, m)
    return np.concatenate([np.interp(u, t, p[:, 0]), np.interp(u, t, p[:, 1]), scalars4(p)])


def branch(pos, load, grid):
    """A stroke's load at the grid's positions (the branch's points sorted by position)."""
    o = np.argsort(pos, kind="stable")
    return np.interp(grid, pos[o], load[o])


def profiles(p, m=32):
    """The card split at its top dead centre: upstroke and downstroke load against the
    normalized position (in kN and scaled by the load range), their first differences, nine
    scalars and the magnitudes of the first 12 Fourier terms of the scaled load."""
    x, y = p[:, 0], p[:, 1]
    top = int(np.argmax(x))
    xs = (x - x.min()) / np.ptp(x)
    grid = np.linspace(0, 1, m)
    up, down = branch(xs[: top + 1], y[: top + 1], grid), branch(xs[top:], y[top:], grid)
    rng = np.ptp(y)
    ys = (y - y.min()) / rng
    sc = [len(p), np.ptp(x), y.max(), y.min(), rng, rng / y.max(), top / len(p), y.mean(), y.std()]
    return np.concatenate([up, down, (up - y.min()) / rng, (down - y.min()) / rng, sc,
                           np.abs(np.fft.rfft(ys))[:12], np.diff(up), np.diff(down)])


def main():
    cards, y = read_cards(DATA)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    et = lambda n, mf: ExtraTreesClassifier(n, max_features=mf, random_state=0, n_jobs=2)
    runs = [
        ("4 scalars (points, stroke, max and min load)", scalars4, et(500, "sqrt")),
        ("time-index resampling (128) + 4 scalars", by_index, et(500, "sqrt")),
        ("position-space profiles + scalars", profiles, et(1000, 0.2)),
        ("position-space profiles + scalars", profiles,
         make_pipeline(StandardScaler(), SVC(C=10))),
    ]
    print(f"{os.path.basename(DATA)}: {len(cards)} cards, {len(set(y))} markers, "
          "5-fold stratified CV (random_state 0)")
    for name, feat, model in runs:
        X = np.array([feat(p) for p in cards])
        acc = cross_val_score(model, X, y, cv=cv).mean()
        kind = type(model[-1] if hasattr(model, "steps") else model).__name__
        print(f"{kind:22s} {name:48s} {acc:.3f}")


if __name__ == "__main__":
    main()
