#!/usr/bin/python3
"""Deterministic generator of the bundled ticket sample (testdata/tickets/README.md).

Writes queues.csv (a queue tree) and tickets.csv (daily new tickets per leaf queue) into the
directory given as the first argument (default: this script's directory). Only the Python
standard library is used; randomness comes from a fixed-seed splitmix64 stream, so two runs
give identical files.
"""
import datetime
import math
import os
import sys

MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.s = seed & MASK

    def next64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next64() >> 11) / float(1 << 53)

    def poisson(self, lam):
        if lam <= 0:
            return 0
        if lam < 40:
            # Inversion by sequential search.
            u = self.uniform()
            p = math.exp(-lam)
            k, cdf = 0, p
            while u > cdf and k < 1000:
                k += 1
                p *= lam / k
                cdf += p
            return k
        # Normal approximation for large means (Box-Muller), rounded and clipped at 0.
        u1 = max(self.uniform(), 1e-300)
        u2 = self.uniform()
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        return max(0, int(round(lam + math.sqrt(lam) * z)))


# id, name, parent id (None for the root). Level is the depth from the root, 1-based.
QUEUES = [
    (1, "Support", None),
    (2, "Billing", 1),
    (3, "Technical", 1),
    (4, "Sales", 1),
    (5, "Accounts", 1),
    (6, "Invoices", 2),
    (7, "Refunds", 2),
    (8, "Payment failures", 2),
    (9, "Tax documents", 2),
    (10, "Network", 3),
    (11, "Hardware", 3),
    (12, "Software", 3),
    (13, "Mobile app", 3),
    (14, "Network L1", 10),
    (15, "Network L2", 10),
    (16, "Outages", 10),
    (17, "Laptops", 11),
    (18, "Printers", 11),
    (19, "Desktop apps", 12),
    (20, "Web portal", 12),
    (21, "Integrations", 12),
    (22, "iOS", 13),
    (23, "Android", 13),
    (24, "New customers", 4),
    (25, "Renewals", 4),
    (26, "Partners", 4),
    (27, "Quotes", 4),
    (28, "Access", 5),
    (29, "Password resets", 28),
    (30, "Two-factor", 28),
    (31, "Profile changes", 5),
    (32, "Account closure", 5),
    (33, "Data export", 5),
    (34, "Cloud", 3),
    (35, "Cloud storage", 34),
    (36, "Cloud compute", 34),
]

START = datetime.date(2021, 1, 1)
END = datetime.date(2024, 6, 30)
LATE_QUEUE = 36  # Cloud compute opens on 2022-09-05
LATE_START = datetime.date(2022, 9, 5)
SPARSE_QUEUE = 9  # Tax documents: days without tickets have no row at all


def holiday(d):
    """Fixed public holidays, plus the week between Christmas and New Year."""
    md = (d.month, d.day)
    if md in ((1, 1), (1, 2), (5, 1), (5, 9), (12, 25), (12, 26)):
        return 0.08
    if (d.month == 12 and d.day >= 27) or (d.month == 1 and d.day <= 7):
        return 0.45
    return 1.0


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    parents = {q[0]: q[2] for q in QUEUES}
    children = {q[0]: [] for q in QUEUES}
    for qid, _, par in QUEUES:
        if par is not None:
            children[par].append(qid)

    def level(qid):
        n = 1
        while parents[qid] is not None:
            qid = parents[qid]
            n += 1
        return n

    with open(os.path.join(out, "queues.csv"), "w", newline="") as f:
        f.write("id,name,level,parent_id\n")
        for qid, name, par in QUEUES:
            f.write("%d,%s,%d,%s\n" % (qid, name, level(qid), "" if par is None else par))

    leaves = [q[0] for q in QUEUES if not children[q[0]]]
    ndays = (END - START).days + 1
    rows = []
    for qid in leaves:
        rng = Rng(0x5EED0000 + qid)
        base = 3.0 + 60.0 * rng.uniform() ** 2
        if qid == 16:  # Outages: few tickets, many zero days, rare bursts
            base = 0.6
        if qid == SPARSE_QUEUE:
            base = 1.5
        weekend = 0.15 + 0.5 * rng.uniform()
        amp = 0.1 + 0.35 * rng.uniform()
        phase = 2 * math.pi * rng.uniform()
        # Piecewise-linear trend: a change of slope at one or two random dates.
        knots = sorted(int(ndays * (0.2 + 0.6 * rng.uniform())) for _ in range(1 + qid % 2))
        slopes = [(rng.uniform() - 0.4) * 0.8 / 365.0 for _ in range(len(knots) + 1)]
        monday = 1.0 + 0.3 * rng.uniform()
        level_now = 1.0
        for i in range(ndays):
            d = START + datetime.timedelta(days=i)
            if qid == LATE_QUEUE and d < LATE_START:
                continue
            seg = sum(1 for k in knots if i >= k)
            level_now = max(0.2, level_now + slopes[seg])
            wd = d.weekday()
            week = weekend if wd >= 5 else (monday if wd == 0 else 1.0)
            doy = d.timetuple().tm_yday
            season = 1.0 + amp * math.sin(2 * math.pi * doy / 365.25 + phase)
            lam = round(base * level_now * week * season * holiday(d), 6)
            if qid == LATE_QUEUE:
                # Ramps up over its first 120 days.
                lam *= min(1.0, ((d - LATE_START).days + 1) / 120.0)
            if qid == 16 and rng.uniform() < 0.01:
                lam += 25.0  # an outage
            n = rng.poisson(lam)
            if qid == SPARSE_QUEUE and n == 0:
                continue
            rows.append((qid, d.isoformat(), n))
    with open(os.path.join(out, "tickets.csv"), "w", newline="") as f:
        f.write("queueId,date,new_tickets\n")
        for qid, ds, n in rows:
            f.write("%d,%s,%d\n" % (qid, ds, n))


if __name__ == "__main__":
    main()
