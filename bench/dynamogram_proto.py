#!/usr/bin/python3
"""PyTorch prototype for `dyn fit dynamogram` on real surface cards (issue 9): input
representations and networks compared on 5-fold stratified CV (shuffled, random_state 0: the
protocol of bench/dynamogram_baseline.py, not dyn's own folds). Settings are chosen on this
cross-validation only.

usage: /usr/bin/python3 bench/dynamogram_proto.py REPR ARCH [EPOCHS] [SEED] [FOLDS]
REPR: words among "abs" (load / 50 and position / 4 channels besides the per-card min-max
scaled ones), "d" (their time derivatives), "glob" (the global-scale channels only), "pump" (a crude pump-side position, see features);
ARCH:
"plain" (dyn's 5-block network of today) or "res" (residual blocks, circular padding). Every
card is resampled to 128 points in its recorded (time) order; 7 scalars join after pooling.
OOF=FILE.npy saves the out-of-fold probabilities (for ensembles of runs).
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dynamogram_baseline import read_cards  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared",
                    "data", "dynamograms", "oilfield12-half.csv")

torch.set_num_threads(1)
M = 128


def resample_time(p, m=M):
    t, u = np.linspace(0, 1, len(p), endpoint=False), np.linspace(0, 1, m, endpoint=False)
    return np.stack([np.interp(u, t, p[:, 0], period=1), np.interp(u, t, p[:, 1], period=1)])


def features(p, rep):
    """Channels (C, M) and scalars of one card in its recorded (time) order."""
    x, l = resample_time(p)
    xr, lr = np.ptp(x) or 1, np.ptp(l) or 1
    lmax = max(abs(l.max()), abs(l.min())) or 1
    xs, ls = (x - x.min()) / xr, (l - l.min()) / lr
    sc = [l.max() / 50, l.min() / 50, xr / 4, lr / lmax, l.min() / lmax, len(p) / 200,
          np.argmax(p[:, 0]) / len(p)]
    ch = [xs, ls, l / lmax]
    if "glob" in rep:  # the global scale only: no per-card min-max channels
        ch = [l / 50, x / 4]
    elif "abs" in rep:
        ch += [l / 50, x / 4]
    if "pump" in rep:
        # A crude pump-side position: the surface position less the rod's static stretch under
        # the load above the card's minimum, for a guessed 22 mm steel rod string whose length
        # follows from the minimum load taken as the buoyant rod weight (25.5 N/m, EA 78 MN).
        length = max(l.min(), 1) / 0.0255
        xp = x - (l - l.min()) * length / 7.8e4
        ch += [(xp - xp.min()) / (np.ptp(xp) or 1)]
    if "d" in rep.split():
        ch += [np.gradient(xs) * M / 8, np.gradient(ls) * M / 8]
    return np.array(ch, np.float32), np.array(sc, np.float32)


class Block(nn.Module):
    def __init__(self, cin, cout, k, dil=1):
        super().__init__()
        self.c1 = nn.Conv1d(cin, cout, k, padding=dil * (k // 2), dilation=dil, bias=False,
                            padding_mode="circular")
        self.b1 = nn.BatchNorm1d(cout)
        self.c2 = nn.Conv1d(cout, cout, k, padding=dil * (k // 2), dilation=dil, bias=False,
                            padding_mode="circular")
        self.b2 = nn.BatchNorm1d(cout)
        self.sk = nn.Conv1d(cin, cout, 1, bias=False) if cin != cout else None

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (self.sk(x) if self.sk is not None else x))


class Net(nn.Module):
    def __init__(self, cin, nsc, k, arch):
        super().__init__()
        w = 32
        self.arch = arch
        if arch == "plain":  # dyn's of today: 5 conv blocks, pools
            L, c = [], cin
            for b, (o, kk) in enumerate(zip([w, w, 2 * w, 2 * w, 4 * w], [7, 5, 5, 3, 3])):
                L += [nn.Conv1d(c, o, kk, padding=kk // 2, bias=False), nn.BatchNorm1d(o),
                      nn.ReLU()]
                if b < 4:
                    L.append(nn.MaxPool1d(2))
                c = o
            self.f = nn.Sequential(*L)
        else:  # residual
            self.f = nn.Sequential(Block(cin, w, 7), nn.MaxPool1d(2), Block(w, 2 * w, 5),
                                   nn.MaxPool1d(2), Block(2 * w, 2 * w, 3), nn.MaxPool1d(2),
                                   Block(2 * w, 4 * w, 3))
            c = 4 * w
        self.bs = nn.BatchNorm1d(nsc)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(c + nsc, k)

    def forward(self, x, s):
        h = self.f(x).mean(-1)
        return self.fc(self.drop(torch.cat([h, self.bs(s)], 1)))


def augment(x, s, g):
    B = x.shape[0]
    sh = torch.randint(-3, 4, (B,), generator=g)
    x = torch.stack([torch.roll(x[i], int(sh[i]), -1) for i in range(B)])
    x = x + 0.01 * torch.randn(x.shape, generator=g)
    return x, s


def run(rep, arch, epochs, seed, folds):
    cards, y = read_cards(DATA)
    classes = sorted(set(y))
    yi = np.array([classes.index(v) for v in y])
    XS = [features(p, rep) for p in cards]
    X = torch.tensor(np.stack([a for a, _ in XS]))
    S = torch.tensor(np.stack([b for _, b in XS]))
    Y = torch.tensor(yi)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    hits = tot = 0
    oof = np.zeros((len(yi), len(classes)), np.float32)
    for f, (tr, te) in enumerate(cv.split(X, yi)):
        if f >= folds:
            break
        torch.manual_seed(seed * 100 + f)
        g = torch.Generator().manual_seed(seed * 100 + f + 7)
        net = Net(X.shape[1], S.shape[1], len(classes), arch)
        opt = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=0.01)
        nb = (len(tr) + 31) // 32
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * nb)
        tr = torch.tensor(tr)
        for ep in range(epochs):
            net.train()
            perm = tr[torch.randperm(len(tr), generator=g)]
            for i in range(0, len(perm) - 1, 32):
                b = perm[i:i + 32]
                xb, sb = augment(X[b], S[b], g)
                loss = F.cross_entropy(net(xb, sb), Y[b], label_smoothing=0.1)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        with torch.no_grad():
            logits = net(X[te], S[te])
            oof[te] = torch.softmax(logits, 1).numpy()
            pred = logits.argmax(1).numpy()
        h = int((pred == yi[te]).sum())
        hits += h
        tot += len(te)
        print(f"  fold {f}: {h / len(te):.3f}", flush=True)
    print(f"{rep} {arch} epochs {epochs} seed {seed}: accuracy {hits / tot:.3f} ({hits}/{tot})")
    if os.environ.get("OOF"):
        np.save(os.environ["OOF"], oof)


if __name__ == "__main__":
    a = sys.argv[1:]
    t0 = time.time()
    run(a[0], a[1], int(a[2]) if len(a) > 2 else 60, int(a[3]) if len(a) > 3 else 0,
        int(a[4]) if len(a) > 4 else 5)
    print(f"{time.time() - t0:.0f} s")
