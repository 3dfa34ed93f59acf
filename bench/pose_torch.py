#!/usr/bin/python3
"""The pose UNet of bench/pose_unet.c in PyTorch on CPU, as lib/nn/backbone.c describes it for
kind unet (1x128x160 input, 16 filters doubling a level down to 256 at stride 16, batch norm,
output stride 2, 4 maps): per level two 3x3 convolutions without bias, each with batch norm and
ReLU, then 2x2 max pooling; two such convolutions at stride 16; then per level up to stride 2:
bilinear upsampling by 2 (align_corners=False, as lib/nn's), concatenation [upsampled, skip],
two convolution blocks; a 1x1 head with bias. Module names follow backbone.c's layer names.

  train: a step is forward in training mode, MSE against target maps, backward and an Adam
         update on one batch (default 4).
  infer: a step is one forward in eval mode under torch.inference_mode (default batch 8).
  profile: training steps as train under torch.autograd.profiler after the warm-up; prints
         each operator by input shapes, its self CPU milliseconds a step, most first, then
         the whole step's CPU milliseconds (bench/pose_unet.c profile is dyn's account).
Prints the median step's wall seconds, the CPU seconds of the timed steps divided by their
number, the parameter count, and the median step's CPU seconds (getrusage, user + system).

usage: /usr/bin/python3 bench/pose_torch.py train|infer|profile THREADS STEPS [BATCH]
"""
import resource
import statistics
from contextlib import nullcontext
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

H, W, NOUT, FILTERS, DEPTH, OUT_LEVEL = 128, 160, 4, 16, 4, 1  # max stride 16, output stride 2


class Block(nn.Module):
    """two conv-bn-relu blocks, named convJ / bnJ as backbone.c's conv_block"""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv0 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(cout)
        self.conv1 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu(self.bn0(self.conv0(x)))
        return F.relu(self.bn1(self.conv1(x)))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        f = [FILTERS * 2 ** i for i in range(DEPTH + 1)]
        cin = 1
        for i in range(DEPTH):
            setattr(self, 'down%d' % i, Block(cin, f[i]))
            cin = f[i]
        self.middle = Block(cin, f[DEPTH])
        cin = f[DEPTH]
        for i in range(DEPTH - 1, OUT_LEVEL - 1, -1):
            setattr(self, 'up%d' % i, Block(cin + f[i], f[i]))
            cin = f[i]
        self.head = nn.Conv2d(cin, NOUT, 1)

    def forward(self, x):
        skip = []
        for i in range(DEPTH):
            x = getattr(self, 'down%d' % i)(x)
            skip.append(x)
            x = F.max_pool2d(x, 2)
        x = self.middle(x)
        for i in range(DEPTH - 1, OUT_LEVEL - 1, -1):
            x = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
            x = getattr(self, 'up%d' % i)(torch.cat([x, skip[i]], 1))
        return self.head(x)


def phase(on, name):
    """a named range of the profile (a no-op when not profiling)"""
    return torch.autograd.profiler.record_function('phase:' + name) if on else nullcontext()


# operators by what they compute, forward and backward apart
KINDS = [('conv', ('aten::mkldnn_convolution', 'aten::_slow_conv2d_forward'),
          ('aten::convolution_backward', 'aten::_slow_conv2d_backward')),
         ('batch norm', ('aten::native_batch_norm',), ('aten::native_batch_norm_backward',)),
         ('relu', ('aten::clamp_min', 'aten::relu'), ('aten::threshold_backward',)),
         ('max pool', ('aten::max_pool2d_with_indices',),
          ('aten::max_pool2d_with_indices_backward',)),
         ('upsample', ('aten::upsample_bilinear2d',), ('aten::upsample_bilinear2d_backward',)),
         ('concat', ('aten::cat',), ('aten::slice', 'aten::narrow'))]


def report(profiler, steps, cpu):
    """operators by input shapes (self time a step, most first), then the phases and the kinds
    of operators; profiler times are wall times, so each is also scaled by the step's CPU over
    the phases' wall sum (what the load took away)"""
    ms = lambda us: us / steps / 1e3
    rows = profiler.key_averages(group_by_input_shape=True)
    for r in sorted(rows, key=lambda r: -r.self_cpu_time_total):
        if ms(r.self_cpu_time_total) >= 0.01:
            print('%-40s %8.2f %s' % (r.key, ms(r.self_cpu_time_total), str(r.input_shapes)[:90]))
    total = {r.key: r for r in profiler.key_averages()}
    phases = [(k[6:], ms(r.cpu_time_total)) for k, r in total.items() if k.startswith('phase:')]
    wall = sum(t for _, t in phases)
    f = 1e3 * cpu / wall if wall > 0 else 1
    print('phases (ms a step; profiler wall, then scaled to CPU by %.2f):' % f)
    for name, t in phases:
        print('  %-12s %8.2f %8.2f' % (name, t, t * f))
    print('operators (self ms a step, scaled to CPU): forward, backward')
    for kind, fw, bw in KINDS:
        a = sum(ms(total[k].self_cpu_time_total) for k in fw if k in total)
        b = sum(ms(total[k].self_cpu_time_total) for k in bw if k in total)
        print('  %-12s %8.2f %8.2f' % (kind, a * f, b * f))
    print('(step) %.2f' % (1e3 * cpu))


def rusage_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    mode, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    prof = mode == 'profile'
    train = mode in ('train', 'profile')
    if mode not in ('train', 'infer', 'profile'):
        sys.exit('usage: pose_torch.py train|infer|profile THREADS STEPS [BATCH]')
    B = int(sys.argv[4]) if len(sys.argv) > 4 else 4 if train else 8
    warm = 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = UNet().train(train)
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(2)
    out_h, out_w = H >> OUT_LEVEL, W >> OUT_LEVEL
    data = [(torch.rand(B, 1, H, W, generator=g), torch.rand(B, NOUT, out_h, out_w, generator=g))
            for _ in range(warm + steps)]
    sec = []
    csec = []
    cpu0 = 0
    profiler = None
    for s, (x, y) in enumerate(data):
        if s == warm:
            cpu0 = time.process_time()
            if prof:
                profiler = torch.autograd.profiler.profile(record_shapes=True)
                profiler.__enter__()
        t0 = time.perf_counter()
        r0 = rusage_cpu()
        if train:
            with phase(prof, 'forward'):
                out = model(x)
            with phase(prof, 'loss'):
                loss = F.mse_loss(out, y)
            with phase(prof, 'zero_grad'):
                opt.zero_grad()
            with phase(prof, 'backward'):
                loss.backward()
            with phase(prof, 'adam'):
                opt.step()
        else:
            with torch.inference_mode():
                model(x)
        if s >= warm:
            sec.append(time.perf_counter() - t0)
            csec.append(rusage_cpu() - r0)
    cpu = (time.process_time() - cpu0) / steps
    if profiler:
        profiler.__exit__(None, None, None)
        report(profiler, steps, cpu)
    print('%.6f %.6f %d %.6f' % (statistics.median(sec), cpu, nparams, statistics.median(csec)))


if __name__ == '__main__':
    main()
