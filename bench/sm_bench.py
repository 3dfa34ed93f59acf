#!/usr/bin/python3
"""statsmodels ETSModel over the bench series: for each series, fits the additive/multiplicative
ETS family that R's ets() searches (error A/M, trend none/additive/damped, season none/A/M with
R's restrictions, multiplicative only for positive data), keeps the lowest AICc, forecasts h."""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

warnings.filterwarnings("ignore")
d = pd.read_csv(sys.argv[1])
h = int(sys.argv[2])
nmax = int(sys.argv[3]) if len(sys.argv) > 3 else None
ids = d.queueId.unique()[:nmax]
t0 = time.process_time()
w0 = time.time()
mases = []
for q in ids:
    y = d.new_tickets[d.queueId == q].to_numpy(dtype=float)
    tr, te = y[:-h], y[-h:]
    pos = tr.min() > 0
    best = None
    for err in ("add", "mul"):
        if err == "mul" and not pos:
            continue
        for trend, damped in ((None, False), ("add", True), ("add", False)):
            for seas in (None, "add", "mul"):
                if err == "add" and seas == "mul":
                    continue
                if seas == "mul" and not pos:
                    continue
                try:
                    r = ETSModel(tr, error=err, trend=trend, damped_trend=damped, seasonal=seas,
                                 seasonal_periods=7 if seas else None).fit(disp=False)
                except Exception:
                    continue
                if np.isfinite(r.aicc) and (best is None or r.aicc < best.aicc):
                    best = r
    f = np.maximum(best.forecast(h), 0)
    scale = np.mean(np.abs(tr[7:] - tr[:-7]))
    mases.append(np.mean(np.abs(te - f)) / scale)
print("statsmodels series %d cpu %.3f wall %.3f mean_mase %.6f" % (
    len(ids), time.process_time() - t0, time.time() - w0, np.mean(mases)))
