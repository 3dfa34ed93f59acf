#!/usr/bin/python3
"""Reference numbers for tests/unit/t_nn_net.c: two fixed small networks in PyTorch (a 1-D and a
2-D one covering every layer kind of lib/nn), with weights and inputs from a formula; writes the
train-mode output, loss, every gradient (weights and input), the running statistics, the
eval-mode output, and the weights after two steps of SGD with momentum, Adam and AdamW.

usage: /usr/bin/python3 tests/ref/nn_torch.py > tests/unit/nn_ref.h
"""
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)


def formula(n, k, scale):
    """The values both sides could compute: scale * sin(0.37 i + 1.3 k)."""
    return torch.tensor([scale * math.sin(0.37 * i + 1.3 * k) for i in range(n)],
                        dtype=torch.float32)


class Net1d(nn.Module):
    # input (N, 3, 16)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 4, 3, padding=1, bias=False)  # before batch norm
        self.bn1 = nn.BatchNorm1d(4)
        self.c2 = nn.Conv1d(4, 4, 3, padding=2, dilation=2)
        self.c3 = nn.Conv1d(4, 2, 1)
        self.up = nn.Upsample(scale_factor=2, mode='linear', align_corners=False)
        self.drop = nn.Dropout(0.0)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        p1 = F.max_pool1d(F.relu(self.bn1(self.c1(x))), 2)      # (4, 8)
        add = F.relu(self.c2(p1)) + p1                           # residual
        cat = torch.cat([add, self.c3(p1)], dim=1)               # (6, 8)
        ap = F.avg_pool1d(self.up(cat), 2)                       # (6, 8)
        g = ap.mean(dim=2)                                       # global average pool
        return self.fc(self.drop(g))


class Net2d(nn.Module):
    # input (N, 2, 8, 8)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.ct = nn.ConvTranspose2d(4, 2, 2, stride=2)
        self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        self.c3 = nn.Conv2d(6, 3, 3, stride=2, padding=1)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        mp = F.max_pool2d(F.leaky_relu(self.bn1(self.c1(x)), 0.01), 2)   # (4, 4, 4)
        add = F.relu(self.bn2(self.c2(mp))) + mp
        cat = torch.cat([self.ct(add), self.up(add)], dim=1)             # (6, 8, 8)
        s = torch.sigmoid(self.c3(cat))                                  # (3, 4, 4)
        ap = F.avg_pool2d(s, 2, padding=1, stride=2)                     # (3, 3, 3)
        return self.fc(torch.flatten(F.avg_pool2d(ap, 2, stride=1), 1))  # 12 -> 4


def set_weights(model):
    for k, (name, t) in enumerate(model.state_dict().items()):
        if name.endswith('num_batches_tracked'):
            continue
        n = t.numel()
        if name.endswith('running_var'):
            v = 1 + formula(n, k, 0.3).abs()
        elif name.endswith('running_mean'):
            v = formula(n, k, 0.2)
        elif name.startswith('bn') and name.endswith('weight'):
            v = 1 + formula(n, k, 0.2)
        else:
            v = formula(n, k, 0.4)
        t.copy_(v.reshape(t.shape))


out = []


def emit(name, values):
    vals = [float(v) for v in values.detach().reshape(-1).tolist()]
    out.append((name, vals))


def run(prefix, model, x, loss_fn):
    with torch.no_grad():
        set_weights(model)
    for name, t in model.state_dict().items():
        if not name.endswith('num_batches_tracked'):
            emit(prefix + 'init.' + name, t)
    emit(prefix + 'input', x)
    x = x.clone().requires_grad_(True)
    model.train()
    y = model(x)
    loss = loss_fn(y)
    loss.backward()
    emit(prefix + 'out_train', y)
    emit(prefix + 'loss', loss.reshape(1))
    emit(prefix + 'grad.input', x.grad)
    for name, p in model.named_parameters():
        emit(prefix + 'grad.' + name, p.grad)
    for name, b in model.named_buffers():
        if not name.endswith('num_batches_tracked'):
            emit(prefix + 'train.' + name, b)
    model.eval()
    with torch.no_grad():
        emit(prefix + 'out_eval', model(x))
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    opts = {
        'sgd': lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2),
        'adam': lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=1e-2),
        'adamw': lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
    }
    for oname, make in opts.items():
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(start[n])
        opt = make(list(model.parameters()))
        opt.step()  # twice with the same gradients: momentum and moments show
        opt.step()
        for n, p in model.named_parameters():
            emit(prefix + oname + '.' + n, p)


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]


def schedules():
    """Learning rates epoch by epoch: StepLR, CosineAnnealingLR, ReduceLROnPlateau."""
    def lrs(make, n, metrics=None):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = make(opt)
        v = []
        for e in range(n):
            if metrics is None:
                v.append(opt.param_groups[0]['lr'])
                opt.step()
                sched.step()
            else:
                opt.step()
                sched.step(metrics[e])
                v.append(opt.param_groups[0]['lr'])
        return torch.tensor(v)
    emit('sched.step', lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5), 10))
    emit('sched.cosine', lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=10, eta_min=0.01), 11))
    emit('sched.plateau', lrs(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=2, cooldown=1), len(PLATEAU_METRICS), PLATEAU_METRICS))


def main():
    torch.manual_seed(0)
    m1 = Net1d()
    x1 = formula(4 * 3 * 16, 11, 1.0).reshape(4, 3, 16)
    t1 = torch.tensor([0, 2, 1, 2])
    w1 = torch.tensor([1.0, 2.0, 0.5])
    run('a.', m1, x1, lambda y: F.cross_entropy(y, t1, weight=w1))
    m2 = Net2d()
    x2 = formula(3 * 2 * 8 * 8, 12, 1.0).reshape(3, 2, 8, 8)
    t2 = formula(3 * 4, 13, 1.0).reshape(3, 4)
    run('b.', m2, x2, lambda y: F.mse_loss(y, t2))

    schedules()

    w = sys.stdout.write
    w('/* Generated by `/usr/bin/python3 tests/ref/nn_torch.py > tests/unit/nn_ref.h` (torch %s);\n'
      ' * do not edit. Targets: net a: classes {0, 2, 1, 2}, weights {1, 2, 0.5}; net b: MSE\n'
      ' * against 1.0 * sin(0.37 i + 1.3 * 13). Schedules from lr 0.1: StepLR(3, 0.5),\n'
      ' * CosineAnnealingLR(T_max=10, eta_min=0.01), ReduceLROnPlateau(factor=0.5, patience=2,\n'
      ' * cooldown=1) fed %s. */\n' % (torch.__version__, PLATEAU_METRICS))
    w('/* clang-format off */\n')
    for i, (name, vals) in enumerate(out):
        w('static const float nn_ref_%d[%d] = {%s};\n'
          % (i, len(vals), ', '.join('%.9g' % v for v in vals)))
    w('struct nn_ref {\n\tconst char *name;\n\tint n;\n\tconst float *v;\n};\n')
    w('static const struct nn_ref nn_refs[] = {\n')
    for i, (name, vals) in enumerate(out):
        w('    {"%s", %d, nn_ref_%d},\n' % (name, len(vals), i))
    w('};\n')
    w('static const int nn_nrefs = %d;\n' % len(out))


if __name__ == '__main__':
    main()
