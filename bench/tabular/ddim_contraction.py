"""DDIM's shrinkage of a Gaussian component, per eigenvalue of the panel's normal-score correlation matrix.

Usage: python3 bench/tabular/ddim_contraction.py [--data PRICES.csv] [--steps K]

With an exact denoiser and data x_0 ~ N(0, λ) (one eigen-direction of the normal scores), DDIM (η = 0) maps x_t to
x_s = (√ᾱ_s · √ᾱ_t λ + √(1−ᾱ_s) · √(1−ᾱ_t)) / (ᾱ_t λ + 1 − ᾱ_t) · x_t, and the last step returns x̂_0. Starting from
x_T ~ N(0, 1), the printed figure is the ratio of the sample's standard deviation to √λ after K steps, for the linear
β schedule (1e-4 → 0.02, T = 1000) and three choices of the K timesteps: evenly in t (the library's linear spacing),
evenly in the angle arccos √ᾱ_t (the library's uniform-angle spacing) and evenly in log SNR (not in the library).
A ratio below 1 is the contraction DDIM-50 adds whatever the network; directions with different ratios get their
correlations distorted.
"""
import argparse

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

T = 1000
ABAR = np.cumprod(1 - np.linspace(1e-4, 0.02, T))


def nearest(values, grid):
    out = []
    for v in values:
        t = int(np.argmin(np.abs(grid - v)))
        if not out or out[-1] != t:
            out.append(t)
    return out


def spacings(k):
    angle = np.arccos(np.sqrt(ABAR))
    log_snr = np.log(ABAR / (1 - ABAR))
    return {
        "linear": [int(v) for v in np.linspace(T - 1, 0, k)],
        "uniform angle": nearest(np.linspace(angle[-1], angle[0], k), angle),
        "uniform log SNR": nearest(np.linspace(log_snr[-1], log_snr[0], k), log_snr),
    }


def ratio(ts, lam):
    c = 1.0
    for t, s in zip(ts[:-1], ts[1:]):
        v = ABAR[t] * lam + 1 - ABAR[t]
        c *= (np.sqrt(ABAR[s] * ABAR[t]) * lam + np.sqrt((1 - ABAR[s]) * (1 - ABAR[t]))) / v
    t = ts[-1]
    c *= np.sqrt(ABAR[t]) * lam / (ABAR[t] * lam + 1 - ABAR[t])
    return c / np.sqrt(lam)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/data/multi_asset_daily_prices.csv")
    p.add_argument("--steps", type=int, default=50)
    a = p.parse_args()
    prices = pd.read_csv(a.data, index_col=0, parse_dates=True)
    r = np.log(prices).diff().dropna()
    r = r[(r.index >= "2007-04-12") & (r.index <= "2019-12-31")]
    z = norm.ppf((rankdata(r.to_numpy(), axis=0) - 0.5) / len(r))
    eig = np.sort(np.linalg.eigvalsh(np.corrcoef(z.T)))[::-1]
    picks = [eig[0], eig[1], 1.0, eig[10], eig[19], eig[-1]]
    print("eigenvalues of the normal-score correlation:", " ".join(f"{v:.3f}" for v in eig))
    for name, ts in spacings(a.steps).items():
        print(f"{name:16s} ({len(ts)} steps): " + "  ".join(f"λ {lam:.2f}: {ratio(ts, lam):.4f}" for lam in picks))


if __name__ == "__main__":
    main()
