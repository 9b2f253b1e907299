"""Brute-force numpy/scipy/statsmodels reference for the distance-to-closest-record and attribute-inference metrics
(Crucible.Evaluation.Privacy), session-14 QA. Writes s14_privacy_ref.json. Run: /usr/bin/python3 s14_privacy_ref.py

Data: train and holdout 240 rows x 4 series (correlated Student-t), synthetic 300 rows: 60 exact copies of train rows,
60 train rows plus small noise, 180 fresh draws; train and holdout are split into two paths each (scenario ids) and
the synthetic set into 100 paths of 3 rows, for the window DCR.
DCR: standardise every set with train's per-series mean and ddof-1 std; each synthetic row's Euclidean distance to its
  nearest train row and nearest holdout row (scipy cdist, all pairs); summary: medians, numpy 5th percentile (linear),
  share strictly closer to train than to holdout. Window DCR (W = 3): each synthetic path flattened row after row, every
  stride-1 window inside each train/holdout path (never across two paths).
Attribute inference (sensitive series 2, tolerance factor 0.1): the attacker standardises the known series with the
  synthetic rows' mean and ddof-1 std, takes the nearest synthetic row on the known series (all pairs) and guesses its
  sensitive value; tolerance = 0.1 x ddof-1 std of the synthetic sensitive series; success when |guess - truth| <= tol.
  All 240 train and holdout rows are attacked (maxTargets 500 >= 240), so the result does not depend on the order.
  Rates: statsmodels proportion_confint(method="wilson"), centre and half-width.
"""
import json

import numpy as np
from scipy.spatial.distance import cdist
from statsmodels.stats.proportion import proportion_confint

rng = np.random.default_rng(1441)
C = np.array([[1, .7, .4, .1], [.7, 1, .5, .2], [.4, .5, 1, .3], [.1, .2, .3, 1.0]])
L = np.linalg.cholesky(C)
scale = np.array([0.01, 0.02, 0.015, 0.005])


def draw(n):
    return (rng.standard_t(5, size=(n, 4)) @ L.T) * scale


train = np.round(draw(240), 12)
holdout = np.round(draw(240), 12)
synthetic = np.vstack([train[rng.choice(240, 60, replace=False)],
                       train[rng.choice(240, 60, replace=False)] + rng.normal(0, 1e-4, size=(60, 4)),
                       draw(180)])
synthetic = np.round(synthetic[rng.permutation(300)], 12)
train_ids = [1] * 130 + [2] * 110
holdout_ids = [1] * 100 + [2] * 140
synthetic_ids = [1 + i // 3 for i in range(300)]

mean, sd = train.mean(axis=0), train.std(axis=0, ddof=1)
z = lambda x: (x - mean) / sd
to_train = cdist(z(synthetic), z(train)).min(axis=1)
to_holdout = cdist(z(synthetic), z(holdout)).min(axis=1)


def windows(x, ids, w):
    ids = np.array(ids)
    out = []
    for s in np.unique(ids):
        rows = x[ids == s]
        out += [rows[i:i + w].reshape(-1) for i in range(len(rows) - w + 1)]
    return np.array(out)


w_syn = z(synthetic).reshape(100, 12)
w_to_train = cdist(w_syn, windows(z(train), train_ids, 3)).min(axis=1)
w_to_holdout = cdist(w_syn, windows(z(holdout), holdout_ids, 3)).min(axis=1)

sens = 2
known = [0, 1, 3]
smean, ssd = synthetic.mean(axis=0), synthetic.std(axis=0, ddof=1)
tol = 0.1 * ssd[sens]


def attack(target):
    d = cdist((target[:, known] - smean[known]) / ssd[known], (synthetic[:, known] - smean[known]) / ssd[known])
    guess = synthetic[d.argmin(axis=1), sens]
    err = np.abs(guess - target[:, sens])
    return float(err.mean()), int((err <= tol).sum())


mae_train, hits_train = attack(train)
mae_hold, hits_hold = attack(holdout)


def wilson(k, n):
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return [(lo + hi) / 2, (hi - lo) / 2]


a, c = wilson(hits_train, 240), wilson(hits_hold, 240)
out = {
    "names": ["S0", "S1", "S2", "S3"],
    "train": train.tolist(), "holdout": holdout.tolist(), "synthetic": synthetic.tolist(),
    "train_ids": train_ids, "holdout_ids": holdout_ids, "synthetic_ids": synthetic_ids,
    "dcr": {"to_train": to_train.tolist(), "to_holdout": to_holdout.tolist(),
            "train_median": float(np.median(to_train)), "train_p05": float(np.percentile(to_train, 5)),
            "holdout_median": float(np.median(to_holdout)), "share_closer": float(np.mean(to_train < to_holdout))},
    "window_dcr": {"window": 3, "to_train": w_to_train.tolist(), "to_holdout": w_to_holdout.tolist()},
    "attribute": {"sensitive": sens, "tolerance": float(tol), "mae_train": mae_train, "mae_holdout": mae_hold,
                  "hits_train": hits_train, "hits_holdout": hits_hold, "attack": a, "control": c,
                  "risk": (a[0] - c[0]) / (1 - c[0])},
}
with open("s14_privacy_ref.json", "w") as f:
    json.dump(out, f)
