"""Reference values for the DOMIAS-style membership-inference attack (Crucible.Evaluation.Privacy.MembershipInference).
Usage: /usr/bin/python3 reference_mia.py REAL.csv SYNTH.csv TRAIN.csv > expected_mia.json
The random parts are drawn here with numpy and written to the file: the holdout (REAL) permutation whose first half
are the non-members and second half the reference set, the members (rows of TRAIN, as many as non-members) and the
synthetic rows the synthetic density is fitted on (at most 300 here, so that subsampling is exercised).
Densities: scipy.stats.gaussian_kde (Scott's rule) logpdf; score = log p_synth - log p_reference; AUC: sklearn
roc_auc_score (members positive); TPR at FPR <= f: the highest tpr of sklearn roc_curve(drop_intermediate=False)
with fpr <= f."""
import json, sys
import numpy as np
from scipy.stats import gaussian_kde
from sklearn.metrics import roc_auc_score, roc_curve

def load(path):
    arr = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    try:
        float(arr[0, 0]); start = 0
    except ValueError:
        start = 1
    return arr[:, start:].astype(np.float64)

R, S, T = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
rng = np.random.default_rng(20240613)
hold = rng.permutation(len(R)); half = len(R) // 2
non_members, reference = hold[:half], hold[half:]
members = rng.permutation(len(T))[:min(len(T), half)]
syn_rows = np.sort(rng.permutation(len(S))[:min(len(S), 300)])
pG, pR = gaussian_kde(S[syn_rows].T), gaussian_kde(R[reference].T)
def score(X):
    return pG.logpdf(X.T) - pR.logpdf(X.T)
m, n = score(T[members]), score(R[non_members])
labels = np.concatenate([np.ones(len(m)), np.zeros(len(n))]); scores = np.concatenate([m, n])
fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
print(json.dumps({
    "members": members.tolist(), "non_members": non_members.tolist(), "reference": reference.tolist(), "synthetic_rows": syn_rows.tolist(),
    "log_p_synthetic_at_members": pG.logpdf(T[members].T).tolist(), "log_p_reference_at_non_members": pR.logpdf(R[non_members].T).tolist(),
    "auc": float(roc_auc_score(labels, scores)),
    "tpr_at_fpr_10pct": float(tpr[fpr <= 0.1].max()), "tpr_at_fpr_1pct": float(tpr[fpr <= 0.01].max())}))
