"""Reference values for the evaluation keys that ../../../../shared/peers/eval_ref.py does not print,
computed with numpy / scipy / statsmodels exactly as written in METRICS.md and in the Crucible.Evaluation
docs (scenario averaging, PACF, leverage, CDaR, portfolio risk, regime statistics).
Usage: /usr/bin/python3 reference_extra.py REAL.csv SYNTH.csv [--train TRAIN.csv] [--alpha 0.99] [--lags 20]
A CSV whose first column is `scenario` groups rows into paths (a second column `step` is dropped);
a non-numeric first column (a date) is dropped. Prints one JSON object; NaN is written as null."""
import argparse, json, math
import numpy as np
from scipy import stats
from scipy.special import xlogy
from statsmodels.tsa.stattools import acf, pacf

def load(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
    arr = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    if head[0] == "scenario":
        sc = arr[:, 0].astype(np.int64)
        start = 2 if head[1] == "step" else 1
        return head[start:], arr[:, start:].astype(np.float64), sc
    try:
        float(arr[0, 0]); start = 0
    except ValueError:
        start = 1
    return head[start:], arr[:, start:].astype(np.float64), None

def paths(X, sc):
    """Rows of each scenario in order of first appearance; one path when there is no scenario column."""
    if sc is None:
        return [X]
    order = list(dict.fromkeys(sc.tolist()))
    return [X[sc == s] for s in order]

def var_es(r, alpha):
    L = np.sort(-r)[::-1]; k = max(1, math.ceil(len(L) * (1 - alpha) - 1e-9))
    return float(L[k - 1]), float(L[:k].mean())

def drawdown_series(r):
    p = np.exp(np.concatenate([[0.0], np.cumsum(r)]))
    return 1 - p / np.maximum.accumulate(p)

def max_drawdown(r):
    return float(np.max(drawdown_series(r)))

def worst_mean(values, alpha):
    v = np.sort(np.asarray(values))[::-1]; k = max(1, math.ceil(len(v) * (1 - alpha) - 1e-9))
    return float(v[:k].mean())

def leverage(x, lags):
    n = len(x)
    return [float(np.corrcoef(x[: n - k], x[k:] ** 2)[0, 1]) if n - k >= 2 else float("nan") for k in range(1, lags + 1)]

def pacf_or_nan(x, lags):
    """statsmodels' PACF; NaN at every lag where its Yule-Walker system is singular (a constant window)."""
    try:
        return pacf(x, nlags=lags, method="ywadjusted")[1:]
    except np.linalg.LinAlgError:
        return np.full(lags, np.nan)

def temporal(x, lags):
    return {
        "acf": acf(x, nlags=lags, fft=False)[1:],
        "acf_abs": acf(np.abs(x), nlags=lags, fft=False)[1:],
        "pacf": pacf_or_nan(x, lags),
        "leverage": np.array(leverage(x, lags)),
        "max_drawdown": max_drawdown(x),
    }

def in_range(key, lag, n):
    """Whether a window of n steps is long enough for the lag: lag < n (ACF, PACF), n - lag >= 2 pairs (leverage)."""
    return n - lag >= 2 if key == "leverage" else lag < n

def window_mean(ts, key, lengths, lags):
    """Per-lag mean over windows, leaving out a window's value that is undefined (NaN) at a lag in range for its
    length (a constant window); NaN when no window defines the lag, or when a window is too short for it."""
    out = []
    for lag in range(1, lags + 1):
        vals = [t[key][lag - 1] for t, n in zip(ts, lengths) if np.isfinite(t[key][lag - 1]) or not in_range(key, lag, n)]
        out.append(float(np.mean(vals)) if vals else float("nan"))
    return np.array(out)

def portfolio_returns(X, w):
    return np.log(np.exp(X) @ w)

def rolling_vol(p, window):
    return np.array([p[t - window + 1: t + 1].std(ddof=1) for t in range(window - 1, len(p))])

def regime_states(X, sc, w, window, threshold):
    return [rolling_vol(portfolio_returns(P, w), window) > threshold for P in paths(X, sc)]

def regime_stats(states):
    allst = np.concatenate(states)
    c2s = s2c = calm = stressed = 0
    for s in states:
        a, b = s[:-1], s[1:]
        calm += int(np.sum(~a)); stressed += int(np.sum(a))
        c2s += int(np.sum(~a & b)); s2c += int(np.sum(a & ~b))
    return (float(np.mean(allst)) if len(allst) else float("nan"),
            c2s / calm if calm else float("nan"), s2c / stressed if stressed else float("nan"))

ap = argparse.ArgumentParser()
ap.add_argument("real"); ap.add_argument("synth")
ap.add_argument("--train"); ap.add_argument("--alpha", type=float, default=0.99)
ap.add_argument("--lags", type=int, default=20); ap.add_argument("--window", type=int, default=20)
ap.add_argument("--quantile", type=float, default=80.0)
a = ap.parse_args()
cols, R, rsc = load(a.real); cols2, S, ssc = load(a.synth)
assert cols == cols2
D = len(cols); w = np.full(D, 1.0 / D)
# both sets at the synthetic horizon H: its scenarios' common length (1 without a scenario column); the real set's
# every H-step window (stride 1) of each path, and against scenarios the path statistics (per series: ACF, ACF of |r|,
# PACF and leverage within each window, averaged over the windows; mean max drawdown and CDaR; portfolio: CDaR) of
# those windows
syn_lengths = {len(P) for P in paths(S, ssc)}
H = 1 if ssc is None else (syn_lengths.pop() if len(syn_lengths) == 1 else None)
windowed = ssc is not None and H is not None
per = {}
for j, c in enumerate(cols):
    stats_rs = []
    for X, sc in ((R, rsc), (S, ssc)):
        ps = list(paths(X, sc))
        ts = [temporal(P[:, j], a.lags) for P in ps]
        stats_rs.append({k: (np.mean([t[k] for t in ts], axis=0) if k == "max_drawdown" else window_mean(ts, k, [len(P) for P in ps], a.lags))
                         for k in ts[0]})
    per[c] = {k: [np.asarray(stats_rs[0][k]).tolist(), np.asarray(stats_rs[1][k]).tolist()] for k in stats_rs[0]}
    for side, (X, sc) in enumerate(((R, rsc), (S, ssc))):
        dds = [max_drawdown(P[:, j]) for P in paths(X, sc)]
        per[c].setdefault("cdar", [None, None])[side] = (
            worst_mean(dds, a.alpha) if sc is not None else worst_mean(drawdown_series(X[:, j])[1:], a.alpha))
    if windowed:
        wts = [temporal(P[i:i + H, j], a.lags) for P in paths(R, rsc) for i in range(len(P) - H + 1)]
        for k in ("acf", "acf_abs", "pacf", "leverage"):
            per[c][k][0] = (window_mean(wts, k, [H] * len(wts), a.lags).tolist() if wts else [float("nan")] * a.lags)
        wdd = [max_drawdown(P[i:i + H, j]) for P in paths(R, rsc) for i in range(len(P) - H + 1)]
        per[c]["max_drawdown"][0] = float(np.mean(wdd)) if wdd else float("nan")
        per[c]["cdar"][0] = worst_mean(wdd, a.alpha) if wdd else float("nan")

portfolio = {"weights": w.tolist(), "var": [], "es": [], "cdar": []}
if H is not None:
    portfolio = {"weights": w.tolist(), "horizon": H, "var": [], "es": [], "cdar": []}
for X, sc, real in ((R, rsc, True), (S, ssc, False)):
    ps = [portfolio_returns(P, w) for P in paths(X, sc)]
    if real and H is not None:
        windows = [p[i:i + H] for p in ps for i in range(len(p) - H + 1)]
        v, e = var_es(np.array([q.sum() for q in windows]), a.alpha)
        cdar = (worst_mean([max_drawdown(q) for q in windows], a.alpha) if ssc is not None
                else worst_mean([max_drawdown(p) for p in ps], a.alpha) if sc is not None
                else worst_mean(drawdown_series(ps[0])[1:], a.alpha))
    else:
        horizon = np.array([p.sum() for p in ps]) if sc is not None else np.concatenate(ps)
        v, e = var_es(horizon, a.alpha)
        cdar = (worst_mean([max_drawdown(p) for p in ps], a.alpha) if sc is not None
                else worst_mean(drawdown_series(ps[0])[1:], a.alpha))
    portfolio["var"].append(v); portfolio["es"].append(e); portfolio["cdar"].append(cdar)

# VaR backtest: synthetic one-day portfolio VaR (all steps pooled) on the last 250 real portfolio steps
syn_steps = np.concatenate([portfolio_returns(P, w) for P in paths(S, ssc)])
real_steps = np.concatenate([portfolio_returns(P, w) for P in paths(R, rsc)])[-250:]
bt_var = var_es(syn_steps, a.alpha)[0]
x = int(np.sum(-real_steps > bt_var)); T_ = len(real_steps); p_ = 1 - a.alpha
lr = max(0.0, float(-2 * ((xlogy(T_ - x, 1 - p_) + xlogy(x, p_)) - (xlogy(T_ - x, 1 - x / T_) + xlogy(x, x / T_)))))
portfolio["backtest"] = {"var": bt_var, "observations": T_, "exceptions": x, "kupiec_lr": lr,
                         "kupiec_p_value": float(stats.chi2.sf(lr, 1)),
                         # Basel 1996 for T_ observations at alpha: green while P(X <= x) < 0.95, yellow while < 0.9999 (0 always green)
                         "traffic_light": "green" if x == 0 or stats.binom.cdf(x, T_, p_) < 0.95
                         else "yellow" if stats.binom.cdf(x, T_, p_) < 0.9999 else "red"}
# the zones themselves: the fewest exceptions whose P(X <= k) reaches 0.95 (yellow) and 0.9999 (red), at least 1
cdfs = stats.binom.cdf(np.arange(T_ + 1), T_, p_)
yf = max(1, int(np.argmax(cdfs >= 0.95)) if np.any(cdfs >= 0.95) else T_)
rf = max(yf, int(np.argmax(cdfs >= 0.9999)) if np.any(cdfs >= 0.9999) else T_)
green = "green 0" if yf == 1 else f"green 0\u2013{yf - 1}"
yellow = "no yellow" if rf == yf else f"yellow {yf}" if rf == yf + 1 else f"yellow {yf}\u2013{rf - 1}"
portfolio["backtest"]["zone_bounds"] = {"yellow_from": yf, "red_from": rf,
                                        "text": f"{green}, {yellow}, red \u2265{rf} for {T_} observations at {a.alpha * 100:.6g}%"}

if a.train:
    _, T, tsc = load(a.train)
else:
    T, tsc = R, rsc
fit_vol = np.concatenate([rolling_vol(portfolio_returns(P, w), a.window) for P in paths(T, tsc)])
threshold = float(np.percentile(fit_vol, a.quantile))
rr = regime_stats(regime_states(R, rsc, w, a.window, threshold))
ss = regime_stats(regime_states(S, ssc, w, a.window, threshold))
out = {"columns": cols, "alpha": a.alpha, "per_series": per, "portfolio": portfolio,
       "regimes": {"threshold": threshold, "high_vol_share": [rr[0], ss[0]],
                   "calm_to_stressed": [rr[1], ss[1]], "stressed_to_calm": [rr[2], ss[2]]}}

def clean(o):
    if isinstance(o, float) and math.isnan(o): return None
    if isinstance(o, dict): return {k: clean(v) for k, v in o.items()}
    if isinstance(o, list): return [clean(v) for v in o]
    return o
print(json.dumps(clean(out)))
