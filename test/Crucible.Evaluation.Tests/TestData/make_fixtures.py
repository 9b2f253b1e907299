"""Generate the evaluation fixtures: heavy-tailed, volatility-clustered, cross-correlated log returns
from a GJR-GARCH(1,1) with Student-t innovations, with fixed seeds. No real market data is used.
Usage: /usr/bin/python3 make_fixtures.py OUTDIR [--rows-real N --rows-synth N --rows-train N --series D]
With the default arguments it writes the committed fixtures; bench/eval/compare.sh calls it with large sizes."""
import argparse, datetime, os
import numpy as np

def garch_paths(rng, n, d, omega, alpha, gamma, beta, nu, rho, burn=200):
    corr = np.full((d, d), rho); np.fill_diagonal(corr, 1.0)
    # a block structure: series 0..d/2 more correlated with each other
    half = max(1, d // 2)
    corr[:half, :half] = np.maximum(corr[:half, :half], min(0.9, rho + 0.3)); np.fill_diagonal(corr, 1.0)
    L = np.linalg.cholesky(corr)
    scale = np.linspace(0.6, 1.6, d)
    h = np.full(d, omega / (1 - alpha - beta - gamma / 2))
    out = np.empty((n, d)); prev = np.zeros(d)
    for t in range(n + burn):
        z = rng.standard_t(nu, size=d) * np.sqrt((nu - 2) / nu)
        z = L @ z
        h = omega + (alpha + gamma * (prev < 0)) * prev ** 2 + beta * h
        prev = np.sqrt(h) * z
        if t >= burn:
            out[t - burn] = prev * scale
    return out

def names(d):
    base = ["EQ_US", "EQ_EU", "EQ_JP", "RATES_10Y", "CREDIT_HY", "FX_EUR", "COMMOD", "GOLD"]
    return [base[i] if i < len(base) else f"S{i:02d}" for i in range(d)]

def write_dated(path, cols, X, decimals=None):
    start = datetime.date(2015, 1, 1)
    with open(path, "w") as f:
        f.write(",".join(["date"] + cols) + "\n")
        for i, row in enumerate(X):
            day = start + datetime.timedelta(days=i)
            vals = [repr(float(v)) if decimals is None else f"{v:.{decimals}f}" for v in row]
            f.write(day.isoformat() + "," + ",".join(vals) + "\n")

def write_scenarios(path, cols, X, steps):
    with open(path, "w") as f:
        f.write(",".join(["scenario", "step"] + cols) + "\n")
        for i, row in enumerate(X):
            f.write(f"{i // steps},{i % steps}," + ",".join(repr(float(v)) for v in row) + "\n")

ap = argparse.ArgumentParser()
ap.add_argument("outdir")
ap.add_argument("--rows-real", type=int, default=400)
ap.add_argument("--rows-synth", type=int, default=500)
ap.add_argument("--rows-train", type=int, default=300)
ap.add_argument("--series", type=int, default=5)
a = ap.parse_args()
os.makedirs(a.outdir, exist_ok=True)
d = a.series; cols = names(d)
rng = np.random.default_rng(20240607)
real = garch_paths(rng, a.rows_real, d, 1e-6, 0.06, 0.08, 0.88, 5.0, 0.3) * 10
train = garch_paths(rng, a.rows_train, d, 1e-6, 0.06, 0.08, 0.88, 5.0, 0.3) * 10
synth = garch_paths(rng, a.rows_synth, d, 1.2e-6, 0.08, 0.05, 0.86, 4.0, 0.25) * 10
write_dated(os.path.join(a.outdir, "real.csv"), cols, real)
write_dated(os.path.join(a.outdir, "synthetic.csv"), cols, synth)
write_dated(os.path.join(a.outdir, "train.csv"), cols, train)
if a.rows_real == 400:
    # ties: the same kind of data rounded to 4 decimals, so KS, ranks and distances see ties
    write_dated(os.path.join(a.outdir, "ties_real.csv"), cols, np.round(real[:200], 4), decimals=4)
    write_dated(os.path.join(a.outdir, "ties_synthetic.csv"), cols, np.round(synth[:250], 4), decimals=4)
    # scenarios: 12 paths of 60 steps
    sc = garch_paths(rng, 12 * 60, d, 1.1e-6, 0.07, 0.06, 0.87, 4.5, 0.3) * 10
    write_scenarios(os.path.join(a.outdir, "scenarios.csv"), cols, sc, 60)
