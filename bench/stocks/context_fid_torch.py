"""Scale check of Crucible's Context-FID: an independent PyTorch TS2Vec written from the paper's definition
(PEERS.md c3; Yue et al. 2022), scoring two random halves of the Stocks windows (the `stocks-floor` setting).

Not a transcription of TS2Vec's code: same architecture and training recipe (input projection D -> 64, Bernoulli(1/2)
timestamp masking, 11 dilated residual conv blocks, 320 outputs, dropout 0.1, two overlapping random crops,
hierarchical contrastive loss, AdamW 1e-3, batch 8, 600 iterations, weights averaged over iterations), PyTorch's
initialisation and random streams. Usage: python3 bench/stocks/context_fid_torch.py [DATA] [RUNS]
"""
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.linalg import sqrtm


def load(path, length=24):
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(1, 7))
    scaled = (raw - raw.min(0)) / (raw.max(0) - raw.min(0))
    return np.stack([scaled[i:i + length] for i in range(len(scaled) - length + 1)]).astype(np.float32)


class Block(nn.Module):
    def __init__(self, cin, cout, dilation, final):
        super().__init__()
        self.c1 = nn.Conv1d(cin, cout, 3, padding=dilation, dilation=dilation)
        self.c2 = nn.Conv1d(cout, cout, 3, padding=dilation, dilation=dilation)
        self.proj = nn.Conv1d(cin, cout, 1) if cin != cout or final else None

    def forward(self, x):
        r = x if self.proj is None else self.proj(x)
        return self.c2(F.gelu(self.c1(F.gelu(x)))) + r


class Encoder(nn.Module):
    def __init__(self, d, hidden=64, out=320, depth=10):
        super().__init__()
        self.fc = nn.Linear(d, hidden)
        self.blocks = nn.Sequential(*[Block(hidden, out if i == depth else hidden, 2 ** i, i == depth) for i in range(depth + 1)])
        self.drop = nn.Dropout(0.1)

    def forward(self, x, mask):  # x (B, T, D)
        h = self.fc(x)
        if mask:
            h = h * (torch.rand(h.shape[0], h.shape[1], 1) < 0.5)
        return self.drop(self.blocks(h.transpose(1, 2))).transpose(1, 2)


def contrast(z):  # (G, 2n, C): vectors i and i +- n are positives; diagonal excluded
    m = z.shape[1]
    sim = z @ z.transpose(1, 2)
    sim = sim.masked_fill(torch.eye(m, dtype=torch.bool), float("-inf"))
    logp = F.log_softmax(sim, dim=-1)
    partner = (torch.arange(m) + m // 2) % m
    return -logp[:, torch.arange(m), partner].mean()


def hierarchical(z1, z2):
    loss, levels = 0.0, 0
    while z1.shape[1] > 1:
        inst = contrast(torch.cat([z1, z2], 0).transpose(0, 1)) if z1.shape[0] > 1 else 0.0
        loss = loss + 0.5 * inst + 0.5 * contrast(torch.cat([z1, z2], 1))
        levels += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), 2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), 2).transpose(1, 2)
    loss = loss + 0.5 * (contrast(torch.cat([z1, z2], 0).transpose(0, 1)) if z1.shape[0] > 1 else 0.0)
    return loss / (levels + 1)


def train(x, rng, iters):
    net = Encoder(x.shape[2])
    avg = torch.optim.swa_utils.AveragedModel(net)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    n, t = x.shape[0], x.shape[1]
    data = torch.from_numpy(x)
    it, order = 0, []
    while it < iters:
        order = rng.permutation(n)
        for s in range(0, n - 7, 8):
            if it >= iters:
                break
            b = data[order[s:s + 8]]
            l = rng.integers(2, t + 1)
            a = rng.integers(0, t - l + 1)
            a1 = rng.integers(0, a + 1)
            b2 = rng.integers(a + l, t + 1)
            off = rng.integers(-a1, t - b2 + 1, size=8)
            v1 = torch.stack([b[i, off[i] + a1:off[i] + a + l] for i in range(8)])
            v2 = torch.stack([b[i, off[i] + a:off[i] + b2] for i in range(8)])
            out1 = net(v1, True)[:, -l:]
            out2 = net(v2, True)[:, :l]
            opt.zero_grad()
            hierarchical(out1, out2).backward()
            opt.step()
            avg.update_parameters(net)
            it += 1
    return avg.module.eval()


def fid(x, y):
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    cm = sqrtm(s1 @ s2)
    cm = cm.real if np.iscomplexobj(cm) else cm
    return float(np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(s1 + s2 - 2 * cm))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/stocks_goog_timegan.csv"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    w = load(path)
    scores = []
    for r in range(runs):
        rng = np.random.default_rng(r)
        torch.manual_seed(r)
        p = rng.permutation(len(w))
        syn, real = w[p[:len(w) // 2]], w[p[len(w) // 2:]]
        enc = train(real, rng, 200 if real.size <= 100_000 else 600)
        with torch.no_grad():
            ex = enc(torch.from_numpy(real), False).max(1).values.numpy().astype(np.float64)
            ey = enc(torch.from_numpy(syn), False).max(1).values.numpy().astype(np.float64)
        scores.append(fid(ex, ey))
        print(f"run {r}: {scores[-1]:.6f}", flush=True)
    print(f"mean {np.mean(scores):.6f}")


if __name__ == "__main__":
    main()
