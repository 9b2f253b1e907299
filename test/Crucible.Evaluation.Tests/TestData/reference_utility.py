"""Reference values for the utility section of the report (Crucible.Evaluation.Utility), with scikit-learn.
Usage: /usr/bin/python3 reference_utility.py REAL.csv SYNTH.csv TRAIN.csv [--lags 5] [--repeats 3] > expected.json

For each target (next-step return; next-step |return|), the design is built within each path (a `scenario` column
groups rows): at step t the features are the target transform (r or |r|) of every series at t, t-1, ..., t-L+1
(lag-major: lag 1's series first), and the targets are that transform of every series at t+1.
- tstr: LinearRegression fitted on synthetic, scored on real; trtr: fitted on train, scored on real;
  trts: fitted on train, scored on synthetic. r2 = r2_score (uniform average over targets), mse = mean_squared_error.
- mse_ratio = tstr.mse / trtr.mse, r2_ratio = tstr.r2 / trtr.r2 when trtr.r2 > 0, else null (a ratio of two R² <= 0
  reads backwards: below 1 would mean better).
- importance_check: numpy permutations of the real samples, one per (series, repeat), written to the file; the
  importance of series i is r2 on real minus the mean r2 after permuting all of series i's lag columns together with
  that permutation; for the tstr and the trtr model; and scipy's spearmanr of the two vectors.
NaN is written as null."""
import argparse, json, math
import numpy as np
from scipy import stats
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error, r2_score

def load(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
    arr = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    if head[0] == "scenario":
        sc = arr[:, 0].astype(np.int64); start = 2 if head[1] == "step" else 1
        return arr[:, start:].astype(np.float64), sc
    try:
        float(arr[0, 0]); start = 0
    except ValueError:
        start = 1
    return arr[:, start:].astype(np.float64), None

def paths(X, sc):
    if sc is None:
        return [X]
    return [X[sc == s] for s in dict.fromkeys(sc.tolist())]

def design(X, sc, lags, target):
    xs, ys = [], []
    for P in paths(X, sc):
        F = np.abs(P) if target == "volatility" else P
        for t in range(lags - 1, len(F) - 1):
            xs.append(np.concatenate([F[t - l + 1] for l in range(1, lags + 1)]))
            ys.append(F[t + 1])
    return np.array(xs), np.array(ys)

def score(model, X, Y):
    p = model.predict(X)
    return {"r2": float(r2_score(Y, p)), "mse": float(mean_squared_error(Y, p))}

ap = argparse.ArgumentParser()
ap.add_argument("real"); ap.add_argument("synth"); ap.add_argument("train")
ap.add_argument("--lags", type=int, default=5); ap.add_argument("--repeats", type=int, default=3)
a = ap.parse_args()
R, T, S = load(a.real), load(a.train), load(a.synth)
rng = np.random.default_rng(20240612)
out = {"utility": {"lags": a.lags}, "importance_check": {}}
for target in ("return", "volatility"):
    Xr, Yr = design(*R, a.lags, target); Xs, Ys = design(*S, a.lags, target); Xt, Yt = design(*T, a.lags, target)
    D = Yr.shape[1]
    on_syn = LinearRegression().fit(Xs, Ys); on_train = LinearRegression().fit(Xt, Yt)
    tstr, trtr, trts = score(on_syn, Xr, Yr), score(on_train, Xr, Yr), score(on_train, Xs, Ys)
    out["utility"]["samples"] = {"synthetic": len(Xs), "train": len(Xt), "real": len(Xr)}
    out["utility"][target] = {"tstr": tstr, "trtr": trtr, "trts": trts,
                              "mse_ratio": tstr["mse"] / trtr["mse"], "r2_ratio": tstr["r2"] / trtr["r2"] if trtr["r2"] > 0 else None}
    perms = [[rng.permutation(len(Xr)).tolist() for _ in range(a.repeats)] for _ in range(D)]
    def importance(model):
        base = r2_score(Yr, model.predict(Xr)); result = []
        for i in range(D):
            cols = [(l * D) + i for l in range(a.lags)]
            scores = []
            for p in perms[i]:
                Xp = Xr.copy(); Xp[:, cols] = Xr[np.array(p)][:, cols]
                scores.append(r2_score(Yr, model.predict(Xp)))
            result.append(float(base - np.mean(scores)))
        return result
    it, ir = importance(on_syn), importance(on_train)
    out["importance_check"][target] = {"permutations": perms, "tstr": it, "trtr": ir,
                                       "spearman": float(stats.spearmanr(it, ir).correlation)}

def clean(o):
    if isinstance(o, float) and math.isnan(o): return None
    if isinstance(o, dict): return {k: clean(v) for k, v in o.items()}
    if isinstance(o, list): return [clean(v) for v in o]
    return o
print(json.dumps(clean(out)))
