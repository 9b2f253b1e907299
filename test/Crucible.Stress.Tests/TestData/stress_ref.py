"""Independent reference for crucible stress (METRICS.md "Risk"), plain numpy/pandas.

Writes scenarios.csv (scenario,step,A,B,C log returns), portfolio.json and stress_ref.json with VaR, ES and CDaR at
several alphas, computed straight from the METRICS.md formulas:
  portfolio log return per step = log sum_i w_i exp(r_i); horizon return = sum over steps;
  k = ceil(n (1 - alpha)); VaR = k-th largest loss; ES = mean of the k largest losses;
  CDaR = mean of the k worst per-scenario max drawdowns of P = exp(cumsum p) starting at 1.
Run: /usr/bin/python3 stress_ref.py  (from this folder)
"""
import json
from decimal import Decimal, ROUND_CEILING

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261121)
n_scen, steps = 400, 10
cov = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, -0.2], [-0.3, -0.2, 1.0]]) * 0.012 ** 2
r = rng.multivariate_normal([0.0003, 0.0002, 0.0001], cov, size=(n_scen, steps))
r *= rng.standard_t(4, size=(n_scen, steps, 1)) / np.sqrt(2.0)  # heavy tails, common shock
rows = []
for s in range(n_scen):
    for t in range(steps):
        rows.append([s + 1, t + 1, *r[s, t]])
df = pd.DataFrame(rows, columns=["scenario", "step", "A", "B", "C"])
df["scenario"] = df["scenario"].astype(int)
df["step"] = df["step"].astype(int)
df.to_csv("scenarios.csv", index=False, float_format="%.17g")
df = pd.read_csv("scenarios.csv")  # use exactly the values in the file

w = {"A": 0.5, "B": 0.3, "C": 0.2}
with open("portfolio.json", "w") as f:
    json.dump({"name": "ref", "weights": w}, f, indent=2)

cols = ["A", "B", "C"]
wv = np.array([w[c] for c in cols])
horizon, mdd = [], []
for _, g in df.groupby("scenario", sort=False):
    p = np.log(np.exp(g[cols].to_numpy()) @ wv)
    horizon.append(p.sum())
    path = np.exp(np.concatenate([[0.0], np.cumsum(p)]))
    mdd.append(np.max(1 - path / np.maximum.accumulate(path)))
losses = -np.array(horizon)
mdd = np.array(mdd)
out = {}
for alpha in ["0.9", "0.95", "0.975", "0.99"]:
    k = int((Decimal(len(losses)) * (1 - Decimal(alpha))).to_integral_value(ROUND_CEILING))
    k = max(k, 1)
    worst = np.sort(losses)[::-1][:k]
    out[alpha] = {"k": k, "var": float(worst[-1]), "es": float(worst.mean()),
                  "cdar": float(np.sort(mdd)[::-1][:k].mean())}
with open("stress_ref.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
