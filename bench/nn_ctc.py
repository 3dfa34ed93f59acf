#!/usr/bin/python3
"""The CRNN of bench/nn_ctc.c in PyTorch on CPU: the same layers, batch, targets' lengths and
step (forward, CTCLoss, backward, AdamW); prints the median step's wall seconds and the CPU
seconds of all timed steps divided by their number.

ARCH "ocr": the default network of lib/ocr/crnn instead (1x32x384 images, a per-step projection
to 128 before the LSTM, 74 classes at 96 steps), as bench/nn_ctc.c builds it.

usage: /usr/bin/python3 bench/nn_ctc.py THREADS STEPS [BATCH [ARCH]]
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES, STEPS_T, MAXLAB, H, W = 80, 32, 12, 32, 128


class Crnn(nn.Module):
    def __init__(self, proj=0):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.c3 = nn.Conv2d(64, 96, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(96)
        self.proj = nn.Conv1d(96 * 8, proj, 1) if proj else None
        self.rnn = nn.LSTM(proj if proj else 96 * 8, 128, bidirectional=True)
        self.fc = nn.Conv1d(256, CLASSES, 1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.c2(x))), 2)
        x = F.relu(self.bn3(self.c3(x)))                  # (N, 96, 8, 32)
        s = x.reshape(x.shape[0], -1, x.shape[3])         # (N, 768, 32)
        if self.proj is not None:
            s = self.proj(s)                              # (N, 128, 96) for "ocr"
        y, _ = self.rnn(s.permute(2, 0, 1))               # (32, N, 256)
        return self.fc(y.permute(1, 2, 0))                # (N, 80, 32)


def main():
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    B = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    warm = 2
    global CLASSES, STEPS_T, W
    proj = 0
    if len(sys.argv) > 4 and sys.argv[4] == 'ocr':
        CLASSES, STEPS_T, W, proj = 74, 96, 384, 128
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Crnn(proj).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    g = torch.Generator().manual_seed(2)
    data = []
    for _ in range(warm + steps):
        x = torch.rand(B, 1, H, W, generator=g)
        tl = torch.randint(4, MAXLAB + 1, (B,), generator=g)
        tg = torch.randint(1, CLASSES, (int(tl.sum()),), generator=g)
        data.append((x, tg, tl))
    inl = torch.full((B,), STEPS_T, dtype=torch.long)
    sec = []
    cpu0 = 0
    for s, (x, tg, tl) in enumerate(data):
        if s == warm:
            cpu0 = time.process_time()
        t0 = time.perf_counter()
        z = model(x)
        loss = ctc(F.log_softmax(z, dim=1).permute(2, 0, 1), tg, inl, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s >= warm:
            sec.append(time.perf_counter() - t0)
    print('%.6f %.6f' % (statistics.median(sec), (time.process_time() - cpu0) / steps))


if __name__ == '__main__':
    main()
