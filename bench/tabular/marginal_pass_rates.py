"""Pass rates of issue #6's marginal criteria over many draws (session 9, marginal calibration).

  /usr/bin/python3 bench/tabular/marginal_pass_rates.py floors MODEL_DIR [DRAWS]
      How often "every series' excess kurtosis within 25% of the train value" holds for 20,000 rows of
      (a) a perfect marginal model: N(0, 1) normal scores through MODEL_DIR's quantile-normal transform, clamped to the
          train range as the generator does, (b) the same through a transform with every train order statistic as a knot,
      (c) a bootstrap copy of the train rows.
  /usr/bin/python3 bench/tabular/marginal_pass_rates.py csv 'GLOB'
      For each scenario CSV (crucible generate, 20,000 rows): series outside the kurtosis, VaR 99% and ES 99% criteria,
      corr_distance and ks_mean against the train rows, then how many files pass each criterion.

Train rows: ../shared/data/multi_asset_daily_prices.csv as log returns, 2007-04-12..2019-12-31 (the bench's split).
Kurtosis is scipy's kurtosis(bias=False), VaR/ES eval_ref.py's var_es, corr_distance METRICS.md's.
"""
import csv, glob, json, math, os, sys
import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("DATA", os.path.join(HERE, "../../../shared/data/multi_asset_daily_prices.csv"))


def train_rows():
    rows = list(csv.reader(open(DATA)))
    dates = [r[0] for r in rows[2:]]
    prices = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    returns = np.diff(np.log(prices), axis=0)
    return returns[np.array([d <= "2019-12-31" for d in dates])]


def var_es(r):
    losses = np.sort(-r)[::-1]
    k = max(1, math.ceil(len(losses) * 0.01 - 1e-9))
    return losses[k - 1], losses[:k].mean()


def interp(xs, ys, v):
    out = np.interp(v, xs, ys)
    lo, hi = v < xs[0], v > xs[-1]
    out[lo] = ys[0] + (v[lo] - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
    out[hi] = ys[-1] + (v[hi] - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    return out


def kurtosis_ok(sample, kt):
    ratio = np.array([stats.kurtosis(sample[:, c], bias=False) for c in range(sample.shape[1])]) / kt
    return np.abs(ratio - 1) <= 0.25


def floors(model, draws):
    train = train_rows()
    d = train.shape[1]
    kt = np.array([stats.kurtosis(train[:, c], bias=False) for c in range(d)])
    arrays = json.load(open(os.path.join(model, "manifest.json")))["transform"]["transforms"][0]["arrays"]
    knots = [(np.array(arrays[f"x{c}"]), np.array(arrays[f"z{c}"])) for c in range(d)]
    n = len(train)
    every = []
    for c in range(d):
        s = np.sort(train[:, c])
        every.append((s, stats.norm.ppf((np.arange(n) + 0.5) / n)))
    for name, ks in (("model's transform", knots), ("every order statistic a knot", every)):
        lo = np.array([z[0] for _, z in ks]); hi = np.array([z[-1] for _, z in ks])
        passes = 0
        for seed in range(draws):
            z = np.clip(np.random.default_rng(seed).standard_normal((20000, d)), lo, hi)
            x = np.stack([interp(ks[c][1], ks[c][0], z[:, c]) for c in range(d)], 1)
            passes += kurtosis_ok(x, kt).all()
        print(f"N(0, 1) margins through the {name}: kurtosis criterion holds in {passes} of {draws} draws")
    passes = 0
    for seed in range(draws):
        idx = np.random.default_rng(1000 + seed).integers(0, n, 20000)
        passes += kurtosis_ok(train[idx], kt).all()
    print(f"bootstrap copy of the train rows: kurtosis criterion holds in {passes} of {draws} draws")


def read_scenarios(path):
    rows = list(csv.reader(line for line in open(path) if not line.startswith("#")))
    return np.array([[float(v) for v in r[2:]] for r in rows[1:]])


def csvs(pattern):
    train = train_rows()
    d = train.shape[1]
    kt = np.array([stats.kurtosis(train[:, c], bias=False) for c in range(d)])
    tv = np.array([var_es(train[:, c]) for c in range(d)])
    cr = np.corrcoef(train.T)
    results = []
    for path in sorted(glob.glob(pattern)):
        s = read_scenarios(path)
        kout = int((~kurtosis_ok(s, kt)).sum())
        ratio = np.array([var_es(s[:, c]) for c in range(d)]) / tv
        vout, eout = int((np.abs(ratio[:, 0] - 1) > 0.1).sum()), int((np.abs(ratio[:, 1] - 1) > 0.1).sum())
        corr = np.linalg.norm(cr - np.corrcoef(s.T)) / np.linalg.norm(cr)
        ks = np.mean([stats.ks_2samp(s[:, c], train[:, c]).statistic for c in range(d)])
        results.append((kout, vout, eout, corr, ks))
        print(f"{path}: kurtosis out {kout}, VaR out {vout}, ES out {eout}, corr_distance {corr:.4f}, ks_mean {ks:.4f}")
    r = np.array(results)
    print(f"{len(r)} files: kurtosis passes {int((r[:, 0] == 0).sum())} (mean series out {r[:, 0].mean():.1f}), "
          f"VaR {int((r[:, 1] == 0).sum())}, ES {int((r[:, 2] == 0).sum())}, corr_distance <= 0.05 {int((r[:, 3] <= 0.05).sum())} "
          f"(mean {r[:, 3].mean():.4f}), mean ks_mean {r[:, 4].mean():.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "floors":
        floors(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100)
    else:
        csvs(sys.argv[2])
