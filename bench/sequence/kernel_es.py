"""The condition-noise rule of bench/sequence/README.md, from the training data alone.

Training with condition noise of bandwidth h (standardised units) makes the network learn, for VIX alone, the
Nadaraya-Watson mixture of the training windows with Gaussian weights phi((VIX_i - v) / (h sd)). This prints that
mixture's 20-day equal-weight ES 97.5% at v = 15, 25, 35, 45, 60 for a grid of h, and the ES of the windows bucketed
by their first day's VIX. Windows, features and ES as in the sequence-fidelity benchmark: log returns, W = 20, stride
1, train rows up to 2019-12-31, the state lagged one day (VIXCLS of the last state row before the window's first day).
The buckets also print the mean 20-day return (the drift a model conditioned on the first day's state can learn),
and the last lines split the gfc-2008 episode's windows by their starting VIX.
Usage: /usr/bin/python3 bench/sequence/kernel_es.py [PRICES_CSV] [STATE_CSV]
"""
import sys

import numpy as np
import pandas as pd

prices = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/multi_asset_daily_prices.csv"
state = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/data/us_conditioning_daily.csv"
W, LEVELS = 20, [15, 25, 35, 45, 60]

p = pd.read_csv(prices, parse_dates=["Date"]).set_index("Date")
r = np.log(p).diff().iloc[1:]
portfolio = np.log(np.exp(r).mean(axis=1)).to_numpy()          # daily log return of the daily rebalanced equal weight
s = pd.read_csv(state, parse_dates=["Date"]).set_index("Date")
dates = r.index
train_rows = int((dates <= pd.Timestamp("2019-12-31")).sum())
n = train_rows - W + 1
totals = np.array([portfolio[b:b + W].sum() for b in range(n)])

vix = np.full(n, np.nan)
sdates = s.index.to_numpy()
for b in range(W, n):                                           # RV20 needs 20 earlier rows: those windows carry a state
    d = dates[b]
    k = np.searchsorted(sdates, np.datetime64(d - pd.Timedelta(days=1)), side="right") - 1
    if k >= 0 and (d - s.index[k]).days <= 7 and np.isfinite(s.iloc[k].to_numpy(dtype=float)).all():
        vix[b] = s.VIXCLS.iloc[k]
known = np.isfinite(vix)
v, t = vix[known], totals[known]
sd = v.std(ddof=1)


def weighted_es(x, w, alpha=0.975):
    order = np.argsort(x)
    x, w = x[order], w[order] / w.sum()
    cw, q = np.cumsum(w), 1 - alpha
    k = np.searchsorted(cw, q)
    return -((x[:k] * w[:k]).sum() + x[k] * (q - (cw[k - 1] if k > 0 else 0))) / q


print(f"{n} windows, {known.sum()} with a state; VIX mean {v.mean():.2f}, sd {sd:.2f}")
for lo, hi in [(0, 15), (15, 20), (20, 25), (25, 35), (35, 45), (45, 60), (60, 1000)]:
    m = (v >= lo) & (v < hi)
    print(f"VIX {lo}-{hi}: {m.sum()} windows, ES {weighted_es(t[m], np.ones(m.sum())):.3f}, mean 20-day return {t[m].mean():+.4f}")
for h in [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]:
    es = [weighted_es(t, np.exp(-0.5 * ((v - L) / (h * sd)) ** 2)) for L in LEVELS]
    print(f"h = {h:4}: " + ", ".join(f"{e:.3f}" for e in es) + ("  monotone" if all(np.diff(es) > 0) else ""))

# the gfc-2008 episode's windows (inside 2008-09-15..2009-03-09) by the VIX of their first day's state
ends = np.array([dates[b + W - 1] for b in range(n)])
episode = (dates[:n] >= pd.Timestamp("2008-09-15")) & (ends <= pd.Timestamp("2009-03-09")) & known
for lo, hi in [(0, 45), (45, 60), (60, 1000)]:
    m = episode & (vix >= lo) & (vix < hi)
    print(f"gfc-2008 windows starting at VIX {lo}-{hi}: {m.sum()}, mean 20-day return {totals[m].mean():+.4f}")
