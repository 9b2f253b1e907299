"""Reference values for the learned Stocks-protocol metrics (Crucible.Evaluation.Learned), written to
expected_learned.json. Usage: /usr/bin/python3 reference_learned.py > expected_learned.json

- discriminative / predictive: the training loops of Diffusion-TS's Utils/discriminative_metric.py and
  Utils/predictive_metric.py on tiny random data, with TensorFlow 1's GRUCell equations (reset gate applied to the
  state before the candidate's matrix product; [x, h] times one kernel per block) and tf.compat.v1.train.AdamOptimizer's
  update, written out in torch float64 (torch's autograd differentiates them). The random parts (initial weights,
  train/test split, batches) are drawn here with numpy and written to the file, so the C# test replays exactly
  these; the outputs are every iteration's loss, the final weights, the test probabilities and the scores.
- correlational: Diffusion-TS's cacf_torch / CrossCorrelLoss (lag 0, torch.tril_indices, unbiased std over batch
  and time, Σ|Δ|/10) in torch float64, on two fixed batches.
- Student t: quantiles by mpmath at 40 digits (findroot on the regularised incomplete beta; scipy 1.10's t.ppf is
  off by up to 4e-10 relative, e.g. 2.5705818366 for ν = 5 where the quantile is 2.5705818356), scipy's t.cdf, and
  display_scores (scipy sem × t.ppf(0.975, 4)) for the 95 % CI half-widths.
All inputs are rounded to float32 first, since the C# engine trains in float32."""
import json
import mpmath
import numpy as np
import torch
from scipy import stats

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20240611)

def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)

def windows(n, t, d, shift):
    base = rng.uniform(0, 1, size=(n, 1, d)) * 0.6 + 0.2
    noise = rng.normal(0, 0.08, size=(n, t, d)) + shift * np.linspace(0, 1, t)[None, :, None]
    return f32(np.clip(base + np.cumsum(noise, axis=1) * 0.3, 0, 1))

def init_params(inp, h):
    g = np.sqrt(6 / (inp + h + 2 * h)); c = np.sqrt(6 / (inp + h + h)); dn = np.sqrt(6 / (h + 1))
    return {
        "gates_kernel_x": f32(rng.uniform(-g, g, (2 * h, inp))), "gates_kernel_h": f32(rng.uniform(-g, g, (2 * h, h))),
        "gates_bias": f32(np.ones(2 * h)),
        "candidate_kernel_x": f32(rng.uniform(-c, c, (h, inp))), "candidate_kernel_h": f32(rng.uniform(-c, c, (h, h))),
        "candidate_bias": f32(np.zeros(h)),
        "dense_kernel": f32(rng.uniform(-dn, dn, (1, h))), "dense_bias": f32(np.zeros(1)),
    }

def tf_gru(P, x):
    """x: (B, T, in) -> list of states (B, H); TensorFlow 1 GRUCell with concatenated kernels."""
    kg = torch.cat([P["gates_kernel_x"].T, P["gates_kernel_h"].T], 0)          # (in + H, 2H)
    kc = torch.cat([P["candidate_kernel_x"].T, P["candidate_kernel_h"].T], 0)  # (in + H, H)
    H = P["candidate_bias"].shape[0]
    h = torch.zeros(x.shape[0], H)
    states = []
    for t in range(x.shape[1]):
        value = torch.sigmoid(torch.cat([x[:, t], h], 1) @ kg + P["gates_bias"])
        r, u = value[:, :H], value[:, H:]
        c = torch.tanh(torch.cat([x[:, t], r * h], 1) @ kc + P["candidate_bias"])
        h = u * h + (1 - u) * c
        states.append(h)
    return states

def dense(P, s):
    return s @ P["dense_kernel"].T + P["dense_bias"]

class TfAdam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [torch.zeros_like(q) for q in params]; self.v = [torch.zeros_like(q) for q in params]
    def step(self):
        self.t += 1
        lr_t = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        with torch.no_grad():
            for q, m, v in zip(self.p, self.m, self.v):
                m += (q.grad - m) * (1 - self.b1); v += (q.grad * q.grad - v) * (1 - self.b2)
                q -= lr_t * m / (torch.sqrt(v) + self.eps)

def tensors(P):
    return {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}

def lists(P):
    return {k: np.asarray(v).tolist() for k, v in P.items()}

def discriminative(iters=30, batch=8, lr=1e-3):
    X, Y = windows(24, 5, 4, 0.0), windows(20, 5, 4, 0.4)
    P0 = init_params(4, 2)
    pr, ps = rng.permutation(len(X)), rng.permutation(len(Y))
    rtr, rte = pr[: int(len(X) * 0.8)], pr[int(len(X) * 0.8):]
    str_, ste = ps[: int(len(Y) * 0.8)], ps[int(len(Y) * 0.8):]
    batches = [(rng.permutation(rtr)[:batch].tolist(), rng.permutation(str_)[:batch].tolist()) for _ in range(iters)]
    P = tensors(P0); opt = TfAdam(list(P.values()), lr)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    losses = []
    for rb, sb in batches:
        lr_ = dense(P, tf_gru(P, torch.tensor(X[rb]))[-1]); ls_ = dense(P, tf_gru(P, torch.tensor(Y[sb]))[-1])
        loss = bce(lr_, torch.ones_like(lr_)) + bce(ls_, torch.zeros_like(ls_))
        for q in P.values(): q.grad = None
        loss.backward(); opt.step(); losses.append(loss.item())
    with torch.no_grad():
        pr_ = torch.sigmoid(dense(P, tf_gru(P, torch.tensor(X[rte]))[-1]))[:, 0].numpy()
        ps_ = torch.sigmoid(dense(P, tf_gru(P, torch.tensor(Y[ste]))[-1]))[:, 0].numpy()
    acc = (np.sum(pr_ > 0.5) + np.sum(~(ps_ > 0.5))) / (len(pr_) + len(ps_))
    return {"real": X.ravel().tolist(), "real_shape": list(X.shape), "synthetic": Y.ravel().tolist(), "synthetic_shape": list(Y.shape),
            "iterations": iters, "learning_rate": lr, "initial": lists(P0),
            "real_test": rte.tolist(), "synthetic_test": ste.tolist(), "batches": batches,
            "losses": losses, "final": lists({k: v.detach().numpy() for k, v in P.items()}),
            "real_probabilities": pr_.tolist(), "synthetic_probabilities": ps_.tolist(),
            "accuracy": float(acc), "score": float(abs(0.5 - acc))}

def predictive(iters=30, batch=8, lr=1e-3):
    X, Y = windows(15, 6, 4, 0.1), windows(18, 6, 4, 0.3)   # X real (test), Y synthetic (train)
    D = X.shape[2]
    P0 = init_params(D - 1, D // 2)
    batches = [rng.permutation(len(Y))[:batch].tolist() for _ in range(iters)]
    P = tensors(P0); opt = TfAdam(list(P.values()), lr)
    def predict(Z):
        s = torch.stack(tf_gru(P, torch.tensor(Z[:, :-1, : D - 1])), 1)   # (B, T-1, H)
        return torch.sigmoid(dense(P, s))                                # (B, T-1, 1)
    losses = []
    for b in batches:
        target = torch.tensor(Y[b][:, 1:, D - 1:])
        loss = torch.mean(torch.abs(target - predict(Y[b])))
        for q in P.values(): q.grad = None
        loss.backward(); opt.step(); losses.append(loss.item())
    with torch.no_grad():
        pred = predict(X).numpy()
    mae = float(np.mean([np.mean(np.abs(X[i, 1:, D - 1:] - pred[i])) for i in range(len(X))]))
    return {"real": X.ravel().tolist(), "real_shape": list(X.shape), "synthetic": Y.ravel().tolist(), "synthetic_shape": list(Y.shape),
            "iterations": iters, "learning_rate": lr, "initial": lists(P0), "batches": batches, "losses": losses,
            "final": lists({k: v.detach().numpy() for k, v in P.items()}), "score": mae}

def cacf(x):
    """Diffusion-TS cacf_torch at lag 0: x (B, T, D) -> (P,) with P = D(D+1)/2 in tril_indices order."""
    ind = torch.tril_indices(x.shape[2], x.shape[2])
    x = (x - x.mean((0, 1), keepdim=True)) / x.std((0, 1), keepdim=True)
    return torch.mean(x[..., ind[0]] * x[..., ind[1]], 1).mean(0)

def correlational():
    X = rng.normal(size=(30, 7, 4)); X[..., 1] += 0.7 * X[..., 0]; X[..., 3] -= 0.4 * X[..., 2]
    Y = rng.normal(size=(25, 7, 4)); Y[..., 1] += 0.2 * Y[..., 0]
    cx, cy = cacf(torch.tensor(X)), cacf(torch.tensor(Y))
    return {"real": X.ravel().tolist(), "real_shape": list(X.shape), "synthetic": Y.ravel().tolist(), "synthetic_shape": list(Y.shape),
            "real_c": cx.tolist(), "synthetic_c": cy.tolist(), "score": float(torch.abs(cy - cx).sum() / 10.0)}

def t_ppf(p, v):
    mpmath.mp.dps = 40
    def cdf(t):
        x = v / (v + t * t); tail = mpmath.betainc(mpmath.mpf(v) / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2
        return 1 - tail if t >= 0 else tail
    return float(mpmath.findroot(lambda t: cdf(t) - mpmath.mpf(p), float(stats.t.ppf(float(p), v))))

def student_t():
    dfs = [1, 2, 3, 4, 5, 9, 30, 250]
    return {"df": dfs,
            "ppf_0975": [t_ppf("0.975", v) for v in dfs],
            "ppf_0995": [t_ppf("0.995", v) for v in dfs],
            "ppf_01": [t_ppf("0.1", v) for v in dfs],
            "cdf_at_1_5": [float(stats.t.cdf(1.5, v)) for v in dfs],
            "cdf_at_minus_3": [float(stats.t.cdf(-3.0, v)) for v in dfs],
            "display_scores": {"runs": [0.061, 0.072, 0.055, 0.081, 0.066],
                               "mean": float(np.mean([0.061, 0.072, 0.055, 0.081, 0.066])),
                               "half_width": float(stats.sem([0.061, 0.072, 0.055, 0.081, 0.066]) * stats.t.ppf(0.975, 4))}}

print(json.dumps({"discriminative": discriminative(), "predictive": predictive(),
                  "correlational": correlational(), "student_t": student_t()}))
