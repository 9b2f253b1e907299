# Regenerates pacf_statsmodels.json: /usr/bin/python3 make_pacf_fixture.py > pacf_statsmodels.json
# Series: an AR(2) path of 24 and of 200 steps, a random walk of 24 steps, and white noise of 24 steps (numpy seed 7).
import json, numpy as np, statsmodels
from statsmodels.tsa.stattools import pacf
rng = np.random.default_rng(7)
def ar2(n):
    x = np.zeros(n + 50)
    e = rng.standard_normal(n + 50)
    for t in range(2, n + 50): x[t] = 0.5 * x[t - 1] - 0.3 * x[t - 2] + e[t]
    return x[50:]
series = [ar2(24), ar2(200), np.cumsum(rng.standard_normal(24)), rng.standard_normal(24)]
cases = []
for x in series:
    cases.append({
        "x": [float(v) for v in x],
        "ldb": [float(v) for v in pacf(x, nlags=10, method="ldb")[1:]],
        "ywm": [float(v) for v in pacf(x, nlags=10, method="ywm")[1:]],
        "yw": [float(v) for v in pacf(x, nlags=10, method="yw")[1:]],
    })
print(json.dumps({"statsmodels": statsmodels.__version__, "lags": 10, "cases": cases}, indent=1))
