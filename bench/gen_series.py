#!/usr/bin/python3
"""Writes 200 deterministic daily ticket series of 3 years (long format queueId,date,new_tickets)
for bench/forecast.sh: weekly seasonality, a trend with one change point, a mild yearly wave,
and Poisson/negative-binomial noise; a few low-volume queues have zero days."""
import datetime
import sys

import numpy as np

rng = np.random.RandomState(20261122)
days = 3 * 365
start = datetime.date(2023, 1, 1)
dates = [(start + datetime.timedelta(days=i)).isoformat() for i in range(days)]
out = open(sys.argv[1], "w")
out.write("queueId,date,new_tickets\n")
for q in range(200):
    base = np.exp(rng.uniform(np.log(3), np.log(300)))
    week = np.array([1.15, 1.1, 1.05, 1.0, 0.95, rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.6)])
    week = week / week.mean()
    t = np.arange(days)
    cp = rng.randint(200, days - 200)
    g1, g2 = rng.normal(0, 0.0006), rng.normal(0, 0.0008)
    trend = np.where(t < cp, g1 * t, g1 * cp + g2 * (t - cp))
    yearly = rng.uniform(0, 0.15) * np.sin(2 * np.pi * (t - rng.randint(365)) / 365.25)
    lam = base * np.exp(trend + yearly) * week[t % 7]
    if q % 3 == 0:
        y = rng.poisson(lam)
    else:
        k = rng.uniform(5, 30)
        y = rng.negative_binomial(k, k / (k + lam))
    for i in range(days):
        out.write("%d,%s,%d\n" % (q + 1, dates[i], y[i]))
out.close()
