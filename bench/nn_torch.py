#!/usr/bin/python3
"""PyTorch side of bench/nn_torch.sh: dyn's dynamogram network (arch "curve") in PyTorch.

Mirrors, to keep in step with them:
  lib/models/dynamogram.c  dyno_layers (the network, built from the model's params: arch, width,
                           points, dropout), dyno_fit (the training loop: AdamW, batch_size, a
                           shuffle an epoch, a last batch of one left out, the loss and accuracy
                           of each batch), dyno_predict (eval mode, softmax);
  lib/cards/norm.c         card_curve and card_scalars (the input: the loop turned clockwise,
                           started at the bottom dead centre, resampled at `points` points evenly
                           spaced in arc length in the unit square; 5 curve channels and the 5
                           scalars as constant channels), in numpy, in double precision.
The 2-D "raster" arch is built too (train only, on random pictures of the same shape: the
picture drawing of card_raster is not mirrored).

usage:
  nn_torch.py train PARAMS.json CARDS.csv THREADS EPOCHS [LABEL_COLUMN]
      PARAMS.json: `dyn models show ID --format json` of the dyn model trained on the same cards
      (its params are used: arch, width, points, raster, dropout, batch_size, lr, weight_decay).
      Prints one line per epoch: "epoch E seconds S cpu C cards N loss L accuracy A".
  nn_torch.py predict MODEL.safetensors CARDS.csv [THREADS]
      Loads dyn's own model file (its params, classes and weights) and writes card,label,
      probability per card, like `dyn predict MODEL CARDS.csv`.
"""
import csv
import json
import math
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


# ---- cards into inputs (lib/cards/norm.c) ----

def read_cards(path, label_col=None):
    """Long-format CSV (card, [label], position, load), cards on consecutive rows."""
    ids, labels, xs, ys = [], [], [], []
    with open(path, newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        ci = head.index("card")
        xi = head.index("position") if "position" in head else head.index("x")
        yi = head.index("load") if "load" in head else head.index("y")
        li = head.index(label_col) if label_col else -1
        cur, px, py = None, [], []
        for row in rd:
            if row[ci] != cur:
                if cur is not None:
                    xs.append(px)
                    ys.append(py)
                cur, px, py = row[ci], [], []
                ids.append(cur)
                labels.append(row[li] if li >= 0 else None)
            px.append(row[xi])
            py.append(row[yi])
        if cur is not None:
            xs.append(px)
            ys.append(py)
    xs = [np.array(p, dtype=np.float64) for p in xs]
    ys = [np.array(p, dtype=np.float64) for p in ys]
    return ids, labels, xs, ys


def shoelace(x, y):
    """Twice the signed area of the closed polygon (positive: counterclockwise)."""
    return float(np.sum(np.roll(x, 1) * y - x * np.roll(y, 1)))


def card_input(x, y, points):
    """(10, points) float32: card_curve's 5 channels, then card_scalars' 5 as constants."""
    n = len(x)
    xmin, xmax, ymin, ymax = x.min(), x.max(), y.min(), y.max()
    xr, yr = xmax - xmin, ymax - ymin
    ymax_abs = max(abs(ymin), abs(ymax))
    u, v = (x - xmin) / xr, (y - ymin) / yr
    if shoelace(u, v) > 0:
        u, v = u[::-1], v[::-1]
    s = int(np.argmin(u + 0.1 * v))
    u, v = np.roll(u, -s), np.roll(v, -s)
    # resample: arc length of the closed loop, linear interpolation on its segments
    un, vn = np.roll(u, -1), np.roll(v, -1)
    cum = np.concatenate(([0.0], np.cumsum(np.hypot(un - u, vn - v))))
    t = cum[n] * np.arange(points) / points
    j = np.searchsorted(cum[1:n], t, side="right")
    seg = cum[j + 1] - cum[j]
    f = np.where(seg > 0, (t - cum[j]) / np.where(seg > 0, seg, 1), 0.0)
    ru = u[j] + f * (un[j] - u[j])
    rv = v[j] + f * (vn[j] - v[j])
    dx, dy = np.roll(ru, -1) - np.roll(ru, 1), np.roll(rv, -1) - np.roll(rv, 1)
    ln = np.hypot(dx, dy)
    safe = np.where(ln > 0, ln, 1)
    out = np.empty((10, points), dtype=np.float32)
    out[0] = ru
    out[1] = rv
    out[2] = (ymin + rv * yr) / ymax_abs
    out[3] = np.where(ln > 0, dx / safe, 0)
    out[4] = np.where(ln > 0, dy / safe, 0)
    fill = abs(shoelace(u, v)) / 2
    area = abs(shoelace(x, y)) / 2
    imax = int(np.argmax(y))
    out[5] = yr / ymax_abs
    out[6] = fill
    out[7] = area / (xr * ymax_abs)
    out[8] = ymin / ymax_abs
    out[9] = (x[imax] - xmin) / xr
    return out


# ---- the network (dyno_layers) ----

class Dyno(nn.Module):
    """5 blocks conv (no bias) + batch norm + ReLU, max pool k=2 after the first four, global
    average pool, dropout, dense; tensor names as in dyn's model file (net.conv1.weight...)."""

    def __init__(self, params, k):
        super().__init__()
        d2 = params["arch"] == "raster"
        conv, bn = (nn.Conv2d, nn.BatchNorm2d) if d2 else (nn.Conv1d, nn.BatchNorm1d)
        w = int(params["width"])
        widths = [w, w, 2 * w, 2 * w, 4 * w]
        ks = [3] * 5 if d2 else [7, 5, 5, 3, 3]
        cin = 1 + 5 if d2 else 5 + 5
        for b in range(5):
            setattr(self, "conv%d" % (b + 1),
                    conv(cin, widths[b], ks[b], padding=ks[b] // 2, bias=False))
            setattr(self, "bn%d" % (b + 1), bn(widths[b], eps=1e-5, momentum=0.1))
            cin = widths[b]
        self.pool = nn.MaxPool2d(2) if d2 else nn.MaxPool1d(2)
        p = float(params["dropout"])
        self.drop = nn.Dropout(p) if p > 0 else nn.Identity()
        self.fc = nn.Linear(cin, k)

    def forward(self, x):
        for b in range(1, 6):
            x = torch.relu(getattr(self, "bn%d" % b)(getattr(self, "conv%d" % b)(x)))
            if b < 5:
                x = self.pool(x)
        x = x.flatten(2).mean(2)
        return self.fc(self.drop(x))


def input_shape(params):
    if params["arch"] == "raster":
        r = int(params["raster"])
        return (6, r, r)
    return (10, int(params["points"]))


# ---- train (dyno_fit) ----

def cosine_lr(p, epoch, epochs):
    """nn_sched_lr with NN_SCHED_COSINE: linear warm-up, then half a cosine to 0."""
    base, warm = float(p["lr"]), int(p["warmup"]) if int(p["warmup"]) < epochs else 0
    if epoch < warm:
        return base * (epoch + 1) / warm
    T = epochs - warm
    return base * (1 + math.cos(math.pi * (epoch - warm) / T)) / 2


def train(params_path, cards_path, threads, epochs, label_col):
    with open(params_path) as f:
        info = json.load(f)
    p = info["params"]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    t0 = time.perf_counter()
    ids, labels, xs, ys = read_cards(cards_path, label_col)
    classes = sorted(set(labels))
    y = torch.tensor([classes.index(s) for s in labels], dtype=torch.long)
    n, k = len(ids), len(classes)
    if p["arch"] == "raster":
        X = torch.rand((n,) + input_shape(p))
    else:
        X = torch.from_numpy(np.stack([card_input(a, b, int(p["points"]))
                                       for a, b in zip(xs, ys)]))
    print("prepared %d cards, %d classes, input %s, in %.2f s; torch %s, %d threads"
          % (n, k, tuple(X.shape[1:]), time.perf_counter() - t0, torch.__version__,
             torch.get_num_threads()), flush=True)
    B = min(int(p["batch_size"]), n)
    net = Dyno(p, k)
    opt = torch.optim.AdamW(net.parameters(), lr=float(p["lr"]), betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=float(p["weight_decay"]))
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    for ep in range(epochs):
        w0, c0 = time.perf_counter(), time.process_time()
        for g in opt.param_groups:
            g["lr"] = cosine_lr(p, ep, epochs)
        order = torch.randperm(n)
        sl, hit, seen, i = 0.0, 0, 0, 0
        while i + 1 < n or (i < n and n == 1):  # a last batch of one joins none
            idx = order[i:i + B]
            xb, yb = X[idx], y[idx]
            b = len(idx)
            logits = net(xb)
            loss = loss_fn(logits, yb)
            sl += loss.item() * b
            hit += int((logits.argmax(1) == yb).sum())
            seen += b
            opt.zero_grad()
            loss.backward()
            opt.step()
            i += B
        print("epoch %d seconds %.4f cpu %.4f cards %d loss %.4f accuracy %.4f"
              % (ep + 1, time.perf_counter() - w0, time.process_time() - c0, seen, sl / seen,
                 hit / seen), flush=True)


# ---- predict (dyno_predict) ----

def read_safetensors(path):
    with open(path, "rb") as f:
        hlen = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(hlen))
        data = f.read()
    meta = head.pop("__metadata__", {})
    tensors = {}
    for name, t in head.items():
        assert t["dtype"] == "F32", name
        a, b = t["data_offsets"]
        tensors[name] = torch.from_numpy(
            np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"]).copy())
    return meta, tensors


def predict(model_path, cards_path, threads):
    if threads:
        torch.set_num_threads(threads)
    meta, tensors = read_safetensors(model_path)
    p = json.loads(meta["dyn.params"])
    classes = json.loads(meta["dyn.classes"])
    if p["arch"] != "curve":
        sys.exit("nn_torch.py: predict mirrors the curve arch only")
    net = Dyno(p, len(classes))
    state = {name[len("net."):]: t for name, t in tensors.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not unexpected and all(m.endswith("num_batches_tracked") for m in missing), missing
    net.eval()
    ids, _, xs, ys = read_cards(cards_path)
    out = sys.stdout
    out.write("card,label,probability\n")
    chunk = 256  # dyno_load's max_batch
    with torch.no_grad():
        for i in range(0, len(ids), chunk):
            X = torch.from_numpy(np.stack([card_input(a, b, int(p["points"]))
                                           for a, b in zip(xs[i:i + chunk], ys[i:i + chunk])]))
            prob = torch.softmax(net(X).double(), 1)
            best, arg = prob.max(1)
            out.write("".join("%s:%s,%s,%r\n" % (cards_path, ids[i + q], classes[int(arg[q])],
                                                 float(best[q]))
                              for q in range(len(X))))


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
              sys.argv[6] if len(sys.argv) > 6 else "marker")
    elif len(sys.argv) >= 4 and sys.argv[1] == "predict":
        predict(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
