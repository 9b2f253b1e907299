"""What a set of 20-day windows looks like, next to the real windows of the training period and of two crisis episodes.

Usage: python3 bench/sequence/episode_shape.py [--data PRICES.csv] [--reference UNCONDITIONAL.csv] [SCENARIOS.csv ...]

For each set of windows (real: every 20-day window inside the period; synthetic: the scenario CSVs that
`crucible generate` writes, columns scenario, step, series...) it prints:
  ES      expected shortfall at 97.5% of the 20-day equal-weight portfolio return, log(mean_i exp(sum_t r_it)), as a loss
  mean    mean of that 20-day return;  sd: its standard deviation
  corr    mean pairwise correlation of the daily returns within a window, averaged over windows
  rms     mean over windows of the root mean square daily return (all series)
  ell_sd  standard deviation over windows of the window's log scale, 1/2 log mean((r - mu)/sd)^2 with the training
          period's per-series mean and sd (the spread of volatility regimes)
With --reference, also each series' log-scale shift against the reference set (mean over windows of
1/2 log mean_t r_it^2, set minus reference) and, for the real episodes, against the training windows.
Plain numpy/pandas; the ES here is a direct order statistic estimate and differs slightly from the library's.
"""
import argparse

import numpy as np
import pandas as pd

W = 20
TRAIN = ("2007-04-11", "2019-12-31")
EPISODES = {"gfc-2008": ("2008-09-15", "2009-03-09"), "covid-2020": ("2020-02-20", "2020-04-30")}


def expected_shortfall(returns, alpha=0.975):
    loss = -np.asarray(returns)
    q = np.quantile(loss, alpha)
    return loss[loss >= q].mean()


def real_windows(r, start, end):
    # every window that lies inside the period (as the library counts an episode's windows)
    idx = [i for i in range(len(r) - W + 1) if pd.Timestamp(start) <= r.index[i] and r.index[i + W - 1] <= pd.Timestamp(end)]
    return [r.iloc[i:i + W].to_numpy() for i in idx]


def scenario_windows(path):
    s = pd.read_csv(path)
    return [g.iloc[:, 2:].to_numpy() for _, g in s.groupby("scenario", sort=True)]


def series_log_scale(windows):
    return np.mean([0.5 * np.log((w ** 2).mean(axis=0)) for w in windows], axis=0)


def describe(windows, mu, sd):
    port = np.array([np.log(np.mean(np.exp(w.sum(axis=0)))) for w in windows])
    corr = np.mean([np.nanmean(np.corrcoef(w.T)[np.triu_indices(w.shape[1], 1)]) for w in windows])
    rms = np.mean([np.sqrt((w ** 2).mean()) for w in windows])
    ell = np.array([0.5 * np.log((((w - mu) / sd) ** 2).mean()) for w in windows])
    return (f"ES {expected_shortfall(port):.4f}  mean {port.mean():+.4f}  sd {port.std():.4f}  corr {corr:.3f}  "
            f"rms {rms:.4f}  ell_sd {ell.std():.3f}  ({len(windows)} windows)")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/data/multi_asset_daily_prices.csv")
    p.add_argument("--reference", help="scenario CSV the log-scale shifts are measured against (e.g. unconditional)")
    p.add_argument("scenarios", nargs="*")
    a = p.parse_args()
    prices = pd.read_csv(a.data, index_col=0, parse_dates=True)
    r = np.log(prices).diff().dropna()
    train = r[(r.index >= TRAIN[0]) & (r.index <= TRAIN[1])]
    mu, sd = train.mean().to_numpy(), train.std().to_numpy()
    columns = list(r.columns)
    sets = {"real training": real_windows(train, *TRAIN)}
    for name, (start, end) in EPISODES.items():
        sets["real " + name] = real_windows(r, start, end)
    for path in a.scenarios:
        sets[path] = scenario_windows(path)
    for name, windows in sets.items():
        print(f"{name:28s} {describe(windows, mu, sd)}")
    if a.reference:
        ref = series_log_scale(scenario_windows(a.reference))
        base = series_log_scale(sets["real training"])
        print("\nper-series log-scale shift (set minus reference; real episodes minus real training):")
        for name, windows in sets.items():
            if name == "real training":
                continue
            shift = series_log_scale(windows) - (base if name.startswith("real ") else ref)
            print(f"{name:28s} mean {shift.mean():.2f}  " + " ".join(f"{c}:{v:.2f}" for c, v in zip(columns, shift)))


if __name__ == "__main__":
    main()
