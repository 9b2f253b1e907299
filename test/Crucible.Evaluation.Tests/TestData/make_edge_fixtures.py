"""Small fixtures at the metrics' edges (ties, a constant series, monotone paths, fewer rows than 1/(1-alpha),
lags close to the length, rows copied from train) for ReferenceAgreementTests. Usage: make_edge_fixtures.py OUTDIR"""
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(20240611)

def write(name, cols, m):
    with open(f"{out}/{name}", "w") as f:
        f.write(",".join(cols) + "\n")
        for row in m:
            f.write(",".join(repr(float(v)) for v in row) + "\n")

cols = ["noise", "steps", "up", "down"]
# real: 22 rows (ACF lag 20 of 22 observations; 1 row in the 5% rank tail; VaR_0.99 on k = 1 of 22)
real = np.c_[np.round(rng.standard_t(4, 22) * 0.01, 4),       # ties from rounding
             rng.integers(-2, 3, 22) * 0.01,                   # five values only: heavy ties
             np.linspace(0.001, 0.02, 22),                     # a rising path: no drawdown
             -np.linspace(0.001, 0.02, 22)]                    # a falling path: drawdown at the last step
# synthetic: 30 rows, "up" exactly constant (0.0 is exact in any summation order)
synth = np.c_[np.round(rng.standard_t(4, 30) * 0.012, 4),
              rng.integers(-1, 2, 30) * 0.01,
              np.zeros(30),
              -np.linspace(0.02, 0.001, 30)]
# train: 20 rows; the synthetic set's first 8 rows are copies of train rows 0..7 (distance 0)
train = np.c_[np.round(rng.standard_t(4, 20) * 0.01, 4),
              rng.integers(-2, 3, 20) * 0.01,
              rng.normal(0.01, 0.005, 20),
              rng.normal(-0.01, 0.005, 20)]
train[:8, 2] = 0.0                                             # so that the copies keep "up" constant
synth[:8] = train[:8]
write("edge_real.csv", cols, real)
write("edge_synthetic.csv", cols, synth)
write("edge_train.csv", cols, train)
