#!/usr/bin/python3
"""Null simulation of the PRIV-7 / DP-12 membership gates (crucible evaluate).

Member and non-member attack scores are drawn i.i.d. from one distribution (an attack no better than chance), the
ROC statistic is computed exactly as MembershipInference.Roc does (a ROC point after each group of equal scores, the
highest TPR with FPR <= 0.1 / 0.01), and the gate's verdict is counted. Also: the DP-12 check at a given epsilon
against an attack sitting exactly on the (epsilon, 0)-DP trade-off curve, and the empirical-epsilon helper of
SequenceMembershipAuditTests under the chance null.

usage: /usr/bin/python3 bench/privacy/membership_gate_null.py [--reps 20000] [--seed 1]
"""
import argparse
import math

import numpy as np
from scipy import stats

Z = 1.959963984540054


def wilson_half(n, p):
    k = p * n
    return Z / (n + Z * Z) * math.sqrt(k * (n - k) / n + Z * Z / 4)


def wilson_count(n, k):
    c = (k + Z * Z / 2) / (n + Z * Z)
    h = Z / (n + Z * Z) * np.sqrt(k * (n - k) / n + Z * Z / 4)
    return c, h


def max_k(m, fpr):
    k = int(math.floor(fpr * m))
    while (k + 1) / m <= fpr:
        k += 1
    while k / m > fpr:
        k -= 1
    return k


def roc_counts(pos, neg, ks):
    """Members counted at the last ROC point (group end) with fp <= k, for each k (vectorised over rows)."""
    reps, n = pos.shape
    all_ = np.concatenate([pos, neg], axis=1)
    lab = np.concatenate([np.ones_like(pos, dtype=np.int32), np.zeros_like(neg, dtype=np.int32)], axis=1)
    order = np.argsort(-all_, axis=1, kind="stable")
    s = np.take_along_axis(all_, order, axis=1)
    l = np.take_along_axis(lab, order, axis=1)
    tp = np.cumsum(l, axis=1)
    fp = np.cumsum(1 - l, axis=1)
    end = np.ones_like(s, dtype=bool)
    end[:, :-1] = s[:, 1:] != s[:, :-1]
    out = []
    for k in ks:
        ok = end & (fp <= k)
        out.append(np.where(ok, tp, 0).max(axis=1))
    return out


def old_gate_fail(x10, n):
    return x10 / n > 0.1 + wilson_half(n, 0.1)


def dp_bound_old(eps, delta, fpr, n):
    b = min(math.exp(eps) * fpr + delta, 1.0)
    return b + wilson_half(n, b)


def tradeoff(eps, delta, f):
    return np.minimum(1.0, np.minimum(math.exp(eps) * f + delta, 1 - math.exp(-eps) * (1 - delta - f)))


def crit_chance(n, m, alpha=0.025):
    """The new chance bound's critical count: least c with P(X > c) <= alpha, X ~ betabinom(n, k+1, m-k)."""
    k = max_k(m, 0.1)
    bb = stats.betabinom(n, k + 1, m - k)
    c = int(bb.ppf(1 - alpha))
    while c > 0 and bb.sf(c - 1) <= alpha:
        c -= 1
    while bb.sf(c) > alpha:
        c += 1
    return c


def mix_sf(n, m, fpr, eps, delta, c):
    """P(X > c) for X | F ~ Binomial(n, tradeoff(F)), F ~ Beta(k+1, m-k) (scipy quad; independent of the C# Simpson)."""
    from scipy import integrate
    k = max_k(m, fpr)
    beta = stats.beta(k + 1, m - k)
    g = lambda f: stats.binom(n, float(tradeoff(eps, delta, f))).sf(c) * beta.pdf(f)
    lo, hi = beta.ppf(1e-14), beta.isf(1e-14)
    kink = 1 / (1 + math.exp(eps))
    return integrate.quad(g, lo, hi, limit=500, points=[kink] if lo < kink < hi else None)[0]


def crit_dp(n, m, fpr, eps, delta, alpha=0.0125):
    k = max_k(m, fpr)
    c = int(n * float(tradeoff(eps, delta, (k + 1) / (m + 1))))
    while c > 0 and mix_sf(n, m, fpr, eps, delta, c - 1) <= alpha:
        c -= 1
    while c < n and mix_sf(n, m, fpr, eps, delta, c) > alpha:
        c += 1
    return c


def boundary_scores(rng, eps, reps, n, m):
    """Scores whose ROC is exactly the (eps, 0)-DP trade-off curve: non-members U(0,1); members with likelihood ratio
    e^eps above 1 - a*, e^-eps below, a* = 1/(1 + e^eps)."""
    a = 1 / (1 + math.exp(eps))
    neg = rng.random((reps, m))
    # member: P(u > 1-a) = e^eps * a, uniform inside each piece
    top = rng.random((reps, n)) < math.exp(eps) * a
    pos = np.where(top, 1 - a + a * rng.random((reps, n)), (1 - a) * rng.random((reps, n)))
    return pos, neg


def empirical_eps(pos, neg, delta):
    """SequenceMembershipAuditTests.EmpiricalEpsilon: max over member-score thresholds of ln((TPR_lo - delta)/FPR_hi)."""
    reps, n = pos.shape
    m = neg.shape[1]
    res = np.full(reps, -np.inf)
    for r in range(reps):
        t = np.sort(pos[r])[::-1]
        tp = np.arange(1, n + 1)  # distinct continuous scores: tp at threshold t[i] is i+1
        fp = m - np.searchsorted(np.sort(neg[r]), t, side="left")
        ct, ht = wilson_count(n, tp)
        cf, hf = wilson_count(m, fp)
        lo, hi = ct - ht, cf + hf
        ok = lo > delta
        if ok.any():
            res[r] = np.max(np.log((lo[ok] - delta) / hi[ok]))
    return res


def power(rng, reps):
    """How often each rule fails a real leak: member scores N(shift, 1) against non-member scores N(0, 1)."""
    print("# power of the chance gate: members N(shift, 1), non-members N(0, 1)")
    for n, m in [(462, 462), (300, 600)]:
        k = max_k(m, 0.1)
        c_new, b_old = crit_chance(n, m), 0.1 + wilson_half(n, 0.1)
        for mu in (0.2, 0.3, 0.5, 0.8):
            tpr = 1 - stats.norm.cdf(stats.norm.ppf(0.9) - mu)
            (x,) = roc_counts(rng.normal(mu, 1, (reps, n)), rng.normal(0, 1, (reps, m)), [k])
            print(f"n={n} m={m} shift {mu} (AUC {stats.norm.cdf(mu / math.sqrt(2)):.3f}, true TPR@0.1 {tpr:.3f}):"
                  f" P(fail) old {np.mean(x / n > b_old):.3f}, new {np.mean(x > c_new):.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--power", action="store_true", help="only the power of the chance gate against binormal attacks")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    reps = args.reps
    if args.power:
        power(rng, min(reps, 4000))
        return
    print(f"reps per case {reps}; 95% binomial half-width of a rate near 0.1: {1.96*math.sqrt(0.09/reps):.4f}")
    print("\n# PRIV-7 chance gate under the null (old rule: TPR@FPR0.1 > 0.1 + Wilson h(n, 0.1); new: X > the 97.5% quantile of betabinom(n, k+1, m-k))")
    print("n members, m non-members, scores, old false-fail rate, exact law P(X > bound*n) (beta-binomial)")
    cases = [(100, 100), (200, 200), (462, 462), (500, 500), (1000, 1000), (2000, 2000), (300, 500), (500, 200)]
    for n, m in cases:
        k10 = max_k(m, 0.1)
        bound = 0.1 + wilson_half(n, 0.1)
        c_old = math.floor(bound * n + 1e-9)
        exact = stats.betabinom(n, k10 + 1, m - k10).sf(c_old)
        c_new = crit_chance(n, m)
        for kind in ("continuous", "ties(20 levels)"):
            done, fails, new_fails = 0, 0, 0
            while done < reps:
                b = min(2000, reps - done)
                if kind == "continuous":
                    pos, neg = rng.random((b, n)), rng.random((b, m))
                else:
                    pos, neg = rng.integers(0, 20, (b, n)).astype(float), rng.integers(0, 20, (b, m)).astype(float)
                (x10,) = roc_counts(pos, neg, [k10])
                fails += int(old_gate_fail(x10, n).sum())
                new_fails += int((x10 > c_new).sum())
                done += b
            print(f"n={n:5d} m={m:5d} {kind:16s} old false-fail {fails/reps:.4f} (exact {exact:.4f});"
                  f" new bound {c_new}/{n} = {c_new/n:.4f}: false-fail {new_fails/reps:.4f} (exact {stats.betabinom(n, k10 + 1, m - k10).sf(c_new):.4f})")

    print("\n# DP-12 check (old rule: TPR <= e^eps*FPR + delta + h(n, b) at FPR 0.1 and 0.01), delta = 1e-5")
    print("attack on the (eps, 0)-DP boundary (a legal model), and a chance attack (true eps = 0)")
    delta = 1e-5
    for n, m in [(100, 100), (462, 462), (1000, 1000), (2000, 2000)]:
        k10, k01 = max_k(m, 0.1), max_k(m, 0.01)
        for eps in (0.5, 1.0, 3.0):
            b10, b01 = dp_bound_old(eps, delta, 0.1, n), dp_bound_old(eps, delta, 0.01, n)
            c10, c01 = crit_dp(n, m, 0.1, eps, delta), crit_dp(n, m, 0.01, eps, delta)
            rb = min(reps, 5000)
            pos, neg = boundary_scores(rng, eps, rb, n, m)
            x10, x01 = roc_counts(pos, neg, [k10, k01])
            fb = ((x10 / n > b10) | (x01 / n > b01)).mean()
            f10, f01 = (x10 / n > b10).mean(), (x01 / n > b01).mean()
            fnew = ((x10 > c10) | (x01 > c01)).mean()
            pos, neg = rng.random((rb, n)), rng.random((rb, m))
            x10, x01 = roc_counts(pos, neg, [k10, k01])
            fc = ((x10 / n > b10) | (x01 / n > b01)).mean()
            print(f"n={n:5d} m={m:5d} eps={eps:3.1f}: old rule: boundary attack false-fail {fb:.4f} (at 0.1: {f10:.4f}, at 0.01: {f01:.4f}), chance attack {fc:.4f};"
                  f" new bounds {c10}/{n}, {c01}/{n}: boundary attack false-fail {fnew:.4f}")

    print("\n# empirical epsilon (SequenceMembershipAuditTests.EmpiricalEpsilon, delta 1e-5) under the chance null")
    for n, m in [(41, 600), (100, 100), (462, 462), (1000, 1000)]:
        rr = min(reps, 2000)
        e = empirical_eps(rng.random((rr, n)), rng.random((rr, m)), 1e-5)
        print(f"n={n:5d} m={m:5d}: P(emp eps > 0) = {(e > 0).mean():.4f}, P(> 0.5) = {(e > 0.5).mean():.4f}, median {np.median(e):.3f}, 97.5% {np.quantile(e, 0.975):.3f}")


if __name__ == "__main__":
    main()
