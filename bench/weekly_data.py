#!/usr/bin/python3
"""Writes the weekly benchmark of bench/weekly.sh: real weekly series with yearly seasonality
(m = 52), long format queueId,date,new_tickets, one row a week stamped with the week's first day.

The set was fixed before any forecast was looked at (9 series):
- co2_1..co2_5: Mauna Loa atmospheric CO2 (ppm), weekly 1958-2001, from statsmodels.datasets.co2
  (NOAA, public domain). Rows are dated by the Saturday ending the week; each is stamped with
  the Sunday that starts it. The 59 missing weeks are filled by linear interpolation. Five
  non-overlapping windows of 8 years (416 weeks), counted back from the last week (co2_1 is the
  most recent); the oldest 204 weeks are left out.
- sea_tmax, sea_tmin, sea_prec, sea_wind: Seattle daily weather 2012-2015 from
  python3-vega-datasets' seattle-weather.csv (NOAA, public domain): weekly mean of the daily
  maximum and minimum temperature (C), weekly total precipitation (mm), weekly mean wind (m/s)
  over weeks from Sunday to Saturday (as co2's, since dyn reads a file's weekly rows on one
  weekday), the 208 complete weeks 2012-01-01 to 2015-12-26.
Usage: weekly_data.py OUT.csv"""
import datetime
import sys

import numpy as np
import statsmodels.api as sm
from vega_datasets import local_data

WEEKS = 416
out = open(sys.argv[1], "w")
out.write("queueId,date,new_tickets\n")

co2 = sm.datasets.co2.load_pandas().data["co2"].interpolate(method="linear")
dates = [d.date() - datetime.timedelta(days=6) for d in co2.index]
vals = co2.to_numpy()
n = len(vals)
for k in range(5):
    hi = n - k * WEEKS
    for i in range(hi - WEEKS, hi):
        out.write("co2_%d,%s,%.4f\n" % (k + 1, dates[i].isoformat(), vals[i]))

w = local_data.seattle_weather()
w["date"] = w["date"].dt.date
first = datetime.date(2012, 1, 1)
w = w[(w["date"] >= first) & (w["date"] < first + datetime.timedelta(weeks=208))]
w = w.assign(week=[(d - first).days // 7 for d in w["date"]])
g = w.groupby("week")
assert (g.size() == 7).all() and len(g) == 208
cols = [("sea_tmax", g["temp_max"].mean()), ("sea_tmin", g["temp_min"].mean()),
        ("sea_prec", g["precipitation"].sum()), ("sea_wind", g["wind"].mean())]
for name, s in cols:
    for wk, v in zip(s.index, s.to_numpy()):
        day = first + datetime.timedelta(weeks=int(wk))
        out.write("%s,%s,%.4f\n" % (name, day.isoformat(), float(np.round(v, 4))))
out.close()
