"""Tall return files for the scale checks in README "Performance" (tall data): ROWS rows of NCOL log-return series
with GARCH(1,1) volatility clustering, Student-t(4) innovations (fat tails) and one common factor (cross-correlation
about 0.4), all seeded (numpy PCG64). Nothing here is real data and nothing is committed.

    python3 bench/tall/make_tall.py ROWS NCOL OUT.csv [--intraday] [--date-only] [--seed S]

Timestamps: by default business days from 1900-01-01 (yyyy-MM-dd; 1,000,000 rows reach year 5733). --intraday
writes 1-minute bars of the 09:31-16:00 session (390 a day), weekdays only, as `2024-01-02T09:31:00`: nights and
weekends are skipped, so consecutive bars across a night are 17.5 h apart. --date-only with --intraday keeps the
intraday layout but writes the bar's index as a pseudo-date (business days from 1900-01-01), so that a reader that
takes dates only still gets the same values.
"""
import argparse
import datetime as dt

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("rows", type=int)
ap.add_argument("ncol", type=int)
ap.add_argument("out")
ap.add_argument("--intraday", action="store_true")
ap.add_argument("--date-only", action="store_true")
ap.add_argument("--seed", type=int, default=42)
a = ap.parse_args()

rng = np.random.Generator(np.random.PCG64(a.seed))
n, k = a.rows, a.ncol
# per-minute scale for intraday (daily vol 1% ≈ 0.05% per minute), per-day otherwise
scale = 0.01 / np.sqrt(390) if a.intraday else 0.01
omega, alpha, beta = 0.05, 0.08, 0.90  # GARCH(1,1) on the unit-variance scale: long-run variance 0.05/0.02 = 2.5
t4 = rng.standard_t(4, size=(n, k + 1)) / np.sqrt(2.0)  # Student-t(4) has variance 2: unit variance
load = rng.uniform(0.5, 0.8, size=k)  # factor loadings: corr ≈ load_i · load_j
vol = rng.uniform(0.7, 1.4, size=k)
h = np.full(k + 1, omega / (1 - alpha - beta))
x = np.empty((n, k + 1))
for t in range(n):  # x: (n, k + 1), column k the common factor
    x[t] = np.sqrt(h) * t4[t]
    h = omega + alpha * x[t] ** 2 + beta * h
f = x[:, k:] / np.sqrt(2.5)  # (n, 1)
e = x[:, :k] / np.sqrt(2.5)  # (n, k)
r = scale * vol * (load * f + np.sqrt(1 - load**2) * e)  # (n, k)


def business_days(count, start=dt.date(1900, 1, 1)):
    d, one = start, dt.timedelta(days=1)
    out = []
    while len(out) < count:
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += one
    return out


if a.intraday and not a.date_only:
    days = business_days(n // 390 + 1, dt.date(2015, 1, 1))
    bars = [f"{(9 * 60 + 31 + m) // 60:02d}:{(9 * 60 + 31 + m) % 60:02d}:00" for m in range(390)]
    stamps = [f"{days[i // 390]}T{bars[i % 390]}" for i in range(n)]
else:
    stamps = business_days(n)

with open(a.out, "w", newline="") as fh:
    fh.write("Date," + ",".join(f"S{c:02d}" for c in range(k)) + "\n")
    for i in range(n):
        fh.write(stamps[i] + "," + ",".join(f"{v:.7f}" for v in r[i]) + "\n")
