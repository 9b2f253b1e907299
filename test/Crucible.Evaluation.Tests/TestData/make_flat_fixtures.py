"""A daily rate-change series with 30 flat days (a rate at its lower bound) beside an equity series, and 50 scenarios of
20 steps of which scenario 7's rate change is flat: windows whose ACF, PACF or leverage is undefined at some lag, left
out of those lags' means (EvaluatorTests' flat-stretch case, README "evaluate"). Usage: make_flat_fixtures.py DIR"""
import datetime, sys
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "."
rng = np.random.default_rng(21)
n = 300
a = rng.standard_t(4, n) * 0.01
b = rng.normal(0, 0.0005, n)
b[100:130] = 0.0
d0 = datetime.date(2010, 1, 4)
with open(f"{out}/flat_real.csv", "w") as f:
    f.write("date,EQ,RATE_CHG\n")
    for t in range(n):
        f.write(f"{d0 + datetime.timedelta(days=t)},{float(a[t])!r},{float(b[t])!r}\n")
S, H = 50, 20
with open(f"{out}/flat_scenarios.csv", "w") as f:
    f.write("scenario,step,EQ,RATE_CHG\n")
    for s in range(S):
        x = rng.standard_t(4, H) * 0.01
        y = rng.normal(0, 0.0005, H)
        if s == 7:
            y[:] = 0.0
        for t in range(H):
            f.write(f"{s},{t},{float(x[t])!r},{float(y[t])!r}\n")
