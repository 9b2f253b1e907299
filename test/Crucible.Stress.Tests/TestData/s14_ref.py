"""Independent numpy/scipy references for the session-14 QA of the stress layer (Crucible.Stress.Tests/References).

Writes s14_ref.json. Run: /usr/bin/python3 s14_ref.py  (from this folder). Every value is computed from the textbook
formula, not from the C# code:

levered: a long/short, levered book (weights A 1.2, B 0.6, C -0.3; leverage 1.5; capital 1e6) on 200 scenarios x 5
  steps, with a block of tied horizon losses at the tail boundary. Step P&L is the simple return of a book rebalanced to
  its weights every step, u = sum_i w_i (e^{r_i} - 1) (cash 1 - sum w earns nothing), step log return ln(1 + u);
  horizon log return = sum over steps; loss L = -horizon. k = ceil(n (1 - alpha)) (exact, with Decimal);
  VaR = k-th largest L; ES = mean of the k largest L; CDaR = mean of the k worst per-scenario max drawdowns of
  P = exp(cumsum p) with P_0 = 1; money: C (1 - e^{-VaR}) and the mean of C (1 - e^{-L}) over the tail.
  Euler parts: series i's part of a step's log return is w_i x_i ln(1+u)/u; the contributions average the tail
  scenarios' summed parts (tail = k largest losses, ties broken by scenario order), and sum to ES.
small: VaR, ES and one path's CDaR (mean of the k worst values of the drawdown series 1 - P_t / max_{s<=t} P_s,
  t = 1..n) on tiny, tied samples (n = 1..100, n (1 - alpha) below 1 included), with k from the exact decimal alpha;
  "numpy_var" is -np.quantile(r, 1 - alpha, method="inverted_cdf"), which equals VaR in exact arithmetic but takes
  one observation less in the tail where n (1 - alpha) is an integer that floats round up (20 x 0.05 = 1.0000000000000009).
kupiec: LR_POF and scipy chi2.sf(LR, 1) for x = 0..T exceedances incl. x = T, several (T, alpha).
christoffersen: independence and conditional coverage (Christoffersen 1998) with scipy.special.xlogy and
  chi2.sf(., 1) / chi2.sf(., 2), on i.i.d., clustered, empty, full, last-day-only and two-day sequences.
wasserstein: scipy.stats.wasserstein_distance on samples of unequal sizes.
ensemble: three members (the levered scenarios, the same scaled by 1.6, and a shifted copy) at alpha 0.95:
  ES spread (max - min)/max(|median|, scale), pairwise W1 / scale, scale = the median of the members' horizon-P&L
  standard deviations (ddof 1).
reverse: 3000 one-step candidates of 3 series spread around the closed form below, book w = (0.5, 0.3, 0.2), loss threshold 3 %;
  breaching = 1 - e^{R} >= 0.03; plausibility = the Gaussian log density; the top 5 by density (brute force); and the
  exact most likely breaching point (scipy SLSQP on the exact P&L) and the linear closed form x* = -l S w / (w'S w).
"""
import json
from decimal import Decimal, ROUND_CEILING

import numpy as np
from scipy import optimize, stats


def tail_count(n, alpha):
    return max(1, int((Decimal(n) * (1 - Decimal(repr(alpha)))).to_integral_value(rounding=ROUND_CEILING)))


rng = np.random.default_rng(1414)
cols = ["A", "B", "C"]
n_scen, steps = 200, 5
cov = np.array([[1.0, 0.5, -0.2], [0.5, 1.0, 0.1], [-0.2, 0.1, 1.0]]) * 0.015 ** 2
r = rng.multivariate_normal([0.0, 0.0, 0.0], cov, size=(n_scen, steps))
r *= rng.standard_t(5, size=(n_scen, steps, 1)) / np.sqrt(5 / 3)
# ties at the tail boundary: scenarios 10..13 copy scenario 3's path
worst = int(np.argmin([np.log1p(np.expm1(r[s]) @ np.array([1.2, 0.6, -0.3])).sum() for s in range(n_scen)]))
for s in range(10, 14):
    r[s] = r[worst]
r = np.round(r, 12)
w = np.array([1.2, 0.6, -0.3])
capital = 1e6
alphas = [0.9, 0.95, 0.975, 0.99]

x = w * np.expm1(r)                      # (S, T, D) simple P&L parts
u = x.sum(axis=2)
p = np.log1p(u)
horizon = p.sum(axis=1)
loss = -horizon
phi = np.where(u == 0, 1.0, np.log1p(u) / np.where(u == 0, 1.0, u))
parts = -(x * phi[:, :, None]).sum(axis=1)  # (S, D), rows sum to the loss
mdd = []
for s in range(n_scen):
    path = np.exp(np.concatenate([[0.0], np.cumsum(p[s])]))
    mdd.append(float(np.max(1 - path / np.maximum.accumulate(path))))
mdd = np.array(mdd)
order = sorted(range(n_scen), key=lambda s: (-loss[s], s))
levels = []
for a in alphas:
    k = tail_count(n_scen, a)
    tail = order[:k]
    levels.append({
        "alpha": a, "k": k,
        "var": float(np.sort(loss)[::-1][k - 1]),
        "es": float(np.mean(np.sort(loss)[::-1][:k])),
        "cdar": float(np.mean(np.sort(mdd)[::-1][:k])),
        "var_amount": float(capital * (1 - np.exp(-np.sort(loss)[::-1][k - 1]))),
        "es_amount": float(np.mean(capital * (1 - np.exp(-loss[tail])))),
        "contributions": [float(v) for v in parts[tail].mean(axis=0)],
    })
levered = {
    "columns": cols, "weights": w.tolist(), "leverage": 1.5, "capital": capital,
    "returns": r.reshape(-1, 3).tolist(), "scenarios": n_scen, "steps": steps,
    "horizon": horizon.tolist(), "max_drawdowns": mdd.tolist(), "levels": levels,
}

kupiec = []
for T, a in [(250, 0.99), (1000, 0.99), (500, 0.95), (20, 0.9)]:
    pr = 1 - a
    for xx in sorted(set([0, 1, 2, int(T * pr), int(T * pr) + 3, T // 2, T - 1, T])):
        ph = xx / T
        def xlogy(c, v):
            return 0.0 if c == 0 else c * np.log(v)
        lr = -2 * (xlogy(T - xx, 1 - pr) + xlogy(xx, pr)) + 2 * (xlogy(T - xx, 1 - ph) + xlogy(xx, ph))
        lr = max(lr, 0.0)
        kupiec.append({"t": T, "alpha": a, "x": xx, "lr": float(lr), "p": float(stats.chi2.sf(lr, 1))})

from scipy.special import xlogy


def christoffersen(e, a):
    e = np.asarray(e, dtype=int)
    pairs = list(zip(e[:-1], e[1:]))
    n = {(i, j): sum(1 for p in pairs if p == (i, j)) for i in (0, 1) for j in (0, 1)}
    n00, n01, n10, n11 = n[0, 0], n[0, 1], n[1, 0], n[1, 1]
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / len(pairs)
    ind = max(0.0, -2 * (xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi))
              + 2 * (xlogy(n00, 1 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1 - pi1) + xlogy(n11, pi1)))
    T, x, p = len(e), int(e.sum()), 1 - a
    pof = max(0.0, -2 * (xlogy(T - x, 1 - p) + xlogy(x, p)) + 2 * (xlogy(T - x, 1 - x / T) + xlogy(x, x / T)))
    return {"exceptions": e.tolist(), "alpha": a, "n": [n00, n01, n10, n11], "ind": float(ind),
            "p_ind": float(stats.chi2.sf(ind, 1)), "cc": float(pof + ind), "p_cc": float(stats.chi2.sf(pof + ind, 2))}


clustered = np.zeros(250, dtype=int)
clustered[[100, 101, 102, 103, 180, 181]] = 1
last = np.zeros(250, dtype=int)
last[-1] = 1
chris = [christoffersen(rng.random(250) < 0.02, 0.99), christoffersen(clustered, 0.99),
         christoffersen(np.zeros(250), 0.99), christoffersen(np.ones(50), 0.95), christoffersen(last, 0.99),
         christoffersen([0, 1], 0.9), christoffersen(rng.random(1000) < 0.05, 0.95)]

small = []
for n in [1, 2, 3, 5, 7, 20, 40, 100]:
    rs = np.round(rng.standard_normal(n) * 0.02, 3)  # 3 decimals: ties
    if n >= 5:
        rs[1] = rs[3] = rs.min()
    ls = np.sort(-rs)[::-1]
    cum = np.exp(np.cumsum(rs))
    dd = 1 - cum / np.maximum.accumulate(np.concatenate([[1.0], cum]))[1:]
    for a in [0.5, 0.9, 0.95, 0.975, 0.99, 0.999]:
        k = tail_count(n, a)
        small.append({"returns": rs.tolist(), "alpha": a, "k": k, "var": float(ls[k - 1]), "es": float(ls[:k].mean()),
                      "cdar": float(np.sort(dd)[::-1][:k].mean()),
                      "numpy_var": float(-np.quantile(rs, 1 - a, method="inverted_cdf"))})

wa = rng.standard_normal(37)
wb = rng.standard_t(3, 91) * 1.3 + 0.2
wass = {"a": wa.tolist(), "b": wb.tolist(), "w1": float(stats.wasserstein_distance(wa, wb))}

members = [r, np.round(r * 1.6, 12), np.round(r + 0.002, 12)]
hz, es = [], []
for m in members:
    hm = np.log1p((w * np.expm1(m)).sum(axis=2)).sum(axis=1)
    hz.append(hm)
    k = tail_count(n_scen, 0.95)
    es.append(float(np.mean(np.sort(-hm)[::-1][:k])))
med = float(np.median(es))
scale = float(np.median([np.std(h, ddof=1) for h in hz]))
wmat = [[float(stats.wasserstein_distance(hz[i], hz[j]) / scale) for j in range(3)] for i in range(3)]
ensemble = {"es": es, "es_spread": (max(es) - min(es)) / max(abs(med), scale), "wasserstein": wmat,
            "max_wasserstein": max(max(row) for row in wmat),
            "members": [m.reshape(-1, 3).tolist() for m in members[1:]]}

S = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.4], [0.3, 0.4, 1.0]]) * 0.01 ** 2
wr = np.array([0.5, 0.3, 0.2])
threshold = 0.03
ell = -np.log(1 - threshold)
# candidates spread around the linear closed form (not drawn from the model: any candidate set will do), so that the
# densest breaching candidates sit close to the most likely breaching point
cand = np.round(rng.multivariate_normal(-ell * S @ wr / (wr @ S @ wr), S * 0.25, size=3000), 12)
lr_ = np.log1p(np.expm1(cand) @ wr)
breach = np.nonzero(1 - np.exp(lr_) >= threshold)[0]
logpdf = stats.multivariate_normal(np.zeros(3), S).logpdf(cand)
top = sorted(breach, key=lambda i: (-logpdf[i], i))[:5]
Si = np.linalg.inv(S)
res = optimize.minimize(lambda z: 0.5 * z @ Si @ z, -ell * S @ wr / (wr @ S @ wr), method="SLSQP",
                        constraints=[{"type": "eq", "fun": lambda z: np.log1p(np.expm1(z) @ wr) + ell}],
                        options={"ftol": 1e-15, "maxiter": 500})
reverse = {
    "cov": S.tolist(), "weights": wr.tolist(), "threshold": threshold, "candidates": cand.tolist(),
    "breaching": int(len(breach)), "top": [int(i) for i in top],
    "top_loss": [float(1 - np.exp(lr_[i])) for i in top], "top_score": [float(logpdf[i]) for i in top],
    "exact_map": res.x.tolist(), "exact_map_score": float(stats.multivariate_normal(np.zeros(3), S).logpdf(res.x)), "linear_map": (-ell * S @ wr / (wr @ S @ wr)).tolist(),
}

with open("s14_ref.json", "w") as f:
    json.dump({"levered": levered, "small": small, "kupiec": kupiec, "christoffersen": chris, "wasserstein": wass, "ensemble": ensemble, "reverse": reverse}, f)
