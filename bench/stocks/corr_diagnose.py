# Diagnoses the correlational gap of saved synthetic Stocks windows (.npy from `stocks-gen --samples-out`):
# (1) the expected score over 1,000 protocol draws with numpy randint + torch cacf (Diffusion-TS's code path), for the
#     synthetic set and for an exact copy of the real windows (an independent check of the C# `stocks-corr` figures);
# (2) the Volume marginal and its split into between-window and within-window variation, real vs synthetic, which
#     the Volume-price correlations (about -0.55) depend on.
# Usage: /usr/bin/python3 bench/stocks/corr_diagnose.py SAMPLES.npy [DATA.csv] [NUMPY_SEED]
import sys
import numpy as np
import torch

data = sys.argv[2] if len(sys.argv) > 2 else '/work/shared/data/stocks_goog_timegan.csv'
raw = np.loadtxt(data, delimiter=',', skiprows=1, usecols=range(1, 7))
mn, mx = raw.min(0), raw.max(0)
d = (raw - mn) / (mx - mn)
R = np.stack([d[i:i + 24] for i in range(len(d) - 23)])
S = np.load(sys.argv[1])[:len(R)]


def cacf(x):
    ind = torch.tril_indices(x.shape[2], x.shape[2])
    x = (x - x.mean((0, 1), keepdim=True)) / x.std((0, 1), keepdim=True)
    return torch.mean(x[..., ind[0]] * x[..., ind[1]], 1).mean(0)


np.random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
xr, xs = torch.from_numpy(R), torch.from_numpy(S)
size = len(R) // 5
ours, copy = [], []
for _ in range(1000):
    ri = np.random.randint(0, len(R), size)
    fi = np.random.randint(0, len(S), size)
    cr = cacf(xr[ri])
    ours.append(float(torch.abs(cacf(xs[fi]) - cr).sum() / 10))
    copy.append(float(torch.abs(cacf(xr[fi]) - cr).sum() / 10))
ours, copy = np.array(ours), np.array(copy)
se = lambda a: a.std(ddof=1) / np.sqrt(len(a))
print("expected score: synthetic %.5f (se %.5f), copy %.5f (se %.5f), excess %.5f (se %.5f)"
      % (ours.mean(), se(ours), copy.mean(), se(copy), (ours - copy).mean(), se(ours - copy)))
print("full-set gap (no draws): %.5f" % float(torch.abs(cacf(xs) - cacf(xr)).sum() / 10))
for name, X in (("real", R), ("synthetic", S)):
    v = X[..., 5]
    print("%-9s Volume mean %.4f sd %.4f | between-window sd %.4f within sd %.4f | q50 %.4f q99 %.4f | corr(Vol, Close) %.4f"
          % (name, v.mean(), v.std(), v.mean(1).std(), np.sqrt(v.var(1).mean()), np.quantile(v, .5), np.quantile(v, .99),
             np.corrcoef(v.ravel(), X[..., 3].ravel())[0, 1]))
    p = X[..., 3]
    print("%-9s Close  mean %.4f sd %.4f | between-window sd %.4f within sd %.4f | corr(Open, Close) %.5f corr(High, Low) %.5f"
          % (name, p.mean(), p.std(), p.mean(1).std(), np.sqrt(p.var(1).mean()),
             np.corrcoef(X[..., 0].ravel(), p.ravel())[0, 1], np.corrcoef(X[..., 1].ravel(), X[..., 2].ravel())[0, 1]))
