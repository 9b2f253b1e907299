"""Reference values for the copy metrics (Crucible.Evaluation.Privacy.IdenticalMatch, NearestNeighborRatio).
Usage: /usr/bin/python3 reference_copy_metrics.py REAL.csv SYNTH.csv TRAIN.csv > expected_copy_metrics.json
Queries: the first 100 TRAIN rows made into near copies (even rows: every value times 1.004, inside the 1% tolerance;
odd rows: the first value times 1.03, outside it, the others times 1.004), then every SYNTH row.
IMS (SDMetrics NewRowSynthesis rule): query q matches reference r when |r_j - q_j| <= 0.01*|q_j| for every column j,
on raw values; numpy broadcasting. NNDR: rows standardised with TRAIN's mean and ddof=1 standard deviation (0 -> 1);
scipy cKDTree k=2 distances d1, d2; ratio d1/d2 (0 when d2 = 0); the 10th-smallest ratio (sorted[9])."""
import json, sys
import numpy as np
from scipy.spatial import cKDTree

def load(path):
    arr = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    try:
        float(arr[0, 0]); start = 0
    except ValueError:
        start = 1
    return arr[:, start:].astype(np.float64)

R, S, T = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
C = T[:100].copy()
C[0::2] = C[0::2] * 1.004
C[1::2, 1:] = C[1::2, 1:] * 1.004
C[1::2, 0] = C[1::2, 0] * 1.03
Q = np.vstack([C, S])

def matches(q, ref):
    return [bool(np.any(np.all(np.abs(ref - row) <= 0.01 * np.abs(row), axis=1))) for row in q]

mu, sd = T.mean(0), T.std(0, ddof=1); sd[sd == 0] = 1
z = lambda X: (X - mu) / sd
def ratios(q, ref):
    d, _ = cKDTree(z(ref)).query(z(q), k=2)
    return np.where(d[:, 1] == 0, 0.0, d[:, 0] / np.where(d[:, 1] == 0, 1.0, d[:, 1]))

m_train, m_hold = matches(Q, T), matches(Q, R)
r_st, r_sh, r_th = ratios(Q, T), ratios(Q, R), ratios(T, R)
print(json.dumps({
    "ims_train_matches": [i for i, v in enumerate(m_train) if v],
    "ims_holdout_matches": [i for i, v in enumerate(m_hold) if v],
    "ims_train": float(np.mean(m_train)), "ims_holdout": float(np.mean(m_hold)),
    "nndr_synthetic_to_training": r_st.tolist(), "nndr_synthetic_to_holdout": r_sh.tolist(), "nndr_training_to_holdout": r_th.tolist(),
    "nndr10_synthetic_to_training": float(np.sort(r_st)[9]), "nndr10_synthetic_to_holdout": float(np.sort(r_sh)[9]),
    "nndr10_training_to_holdout": float(np.sort(r_th)[9]),
}, indent=1))
