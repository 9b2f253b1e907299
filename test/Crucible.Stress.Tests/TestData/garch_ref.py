"""Reference for Garch11StudentT: simulate a GARCH(1,1)-t series, then maximise the same log-likelihood with scipy.

Model (as the C# doc states): r_t = mu + e_t, e_t = s_t z_t, s2_t = omega + alpha e_{t-1}^2 + beta s2_{t-1},
z ~ t_nu scaled to unit variance, s2_1 = sample variance of r (ddof 1).
Writes garch_series.csv (one column r) and garch_ref.json (the MLE from several scipy starts, and the
log-likelihood at fixed parameters). Run: /usr/bin/python3 garch_ref.py
"""
import json

import numpy as np
from scipy import optimize, special

rng = np.random.default_rng(7)
n, mu, omega, alpha, beta, nu = 2000, 0.0004, 2e-6, 0.08, 0.90, 6.0
r = np.empty(n)
s2 = omega / (1 - alpha - beta)
for t in range(n):
    z = rng.standard_t(nu) * np.sqrt((nu - 2) / nu)
    e = np.sqrt(s2) * z
    r[t] = mu + e
    s2 = omega + alpha * e * e + beta * s2
np.savetxt("garch_series.csv", r, fmt="%.17g", header="r", comments="")
r = np.loadtxt("garch_series.csv", skiprows=1)


def loglik(p, x):
    m, w, a, b, v = p
    if not (w > 0 and a >= 0 and b >= 0 and a + b < 1 and v > 2):
        return -np.inf
    c = special.gammaln((v + 1) / 2) - special.gammaln(v / 2) - 0.5 * np.log(np.pi * (v - 2))
    s2 = np.var(x, ddof=1)
    ll = 0.0
    for xt in x:
        e = xt - m
        ll += -0.5 * np.log(s2) - (v + 1) / 2 * np.log1p(e * e / ((v - 2) * s2))
        s2 = w + a * e * e + b * s2
    return len(x) * c + ll


sd = np.std(r, ddof=1)
x = r / sd
best = None
for a0, b0, v0 in [(0.05, 0.9, 8), (0.1, 0.85, 5), (0.03, 0.95, 12), (0.15, 0.7, 4)]:
    w0 = (1 - a0 - b0)
    res = optimize.minimize(lambda p: -loglik(p, x), [x.mean(), w0, a0, b0, v0], method="L-BFGS-B",
                            bounds=[(-1, 1), (1e-8, 10), (0, 0.999), (0, 0.999), (2.05, 200)])
    res = optimize.minimize(lambda p: -loglik(p, x), res.x, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000})
    if best is None or res.fun < best.fun:
        best = res
m, w, a, b, v = best.x
params = {"mu": m * sd, "omega": w * sd * sd, "alpha": a, "beta": b, "nu": v}
out = {
    "mle": params,
    "mle_loglik": loglik([params[k] for k in ["mu", "omega", "alpha", "beta", "nu"]], r),
    "fixed": {"mu": 0.0003, "omega": 3e-6, "alpha": 0.07, "beta": 0.91, "nu": 5.0},
}
out["fixed_loglik"] = loglik([out["fixed"][k] for k in ["mu", "omega", "alpha", "beta", "nu"]], r)
with open("garch_ref.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
