"""Golden fixture for Crucible's TcnDenoiser, computed with PyTorch (CPU, float32).

Run from this folder:  /usr/bin/python3 make_tcn_reference.py  (writes tcn_reference.safetensors; the tests never
run Python). The network is the peer's TCN (../shared/peers/torch_ddpm.py, `--kind tcn --hidden 64 --layers 4`),
its class and timestep embedding copied verbatim below. Its weights are not random: parameter element i (counted
over the whole state dict in order) is ((i·7919 mod 2001) − 1000)/1000 · s, computed in float32, with
s = 1/√(fan_in) for weights and 0.1 for biases, so the C# test rebuilds them exactly without storing them.
The file holds the input x (B, 20, 24), the times t/T (B), the output, a target, and the gradient of
mean((output − target)²) with respect to every parameter ("grad.<name>").
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn


# --- verbatim from torch_ddpm.py -----------------------------------------------------------------
def temb(t, d):
    half = d // 2
    f = torch.exp(-math.log(10000) * torch.arange(half) / half)
    x = t[:, None] * 1000 * f[None]
    return torch.cat([x.sin(), x.cos()], 1)


class TCN(nn.Module):
    """Residual temporal conv blocks over [B, D, W] windows, dilations 1,2,4,..."""
    def __init__(s, d, h, L):
        super().__init__()
        s.t = nn.Sequential(nn.Linear(128, h), nn.SiLU(), nn.Linear(h, h))
        s.inp = nn.Conv1d(d, h, 1)
        s.convs = nn.ModuleList([nn.Conv1d(h, h, 3, padding=2**i, dilation=2**i) for i in range(L)])
        s.out = nn.Conv1d(h, d, 1)
    def forward(s, x, t):
        h = s.inp(x) + s.t(temb(t, 128))[:, :, None]
        for c in s.convs:
            h = h + torch.nn.functional.silu(c(h))
        return s.out(h)
# -------------------------------------------------------------------------------------------------


def formula_weights(model):
    offset = 0
    with torch.no_grad():
        for name, p in model.state_dict().items():
            n = p.numel()
            i = np.arange(offset, offset + n, dtype=np.int64)
            scale = np.float32(1.0 / math.sqrt(n // p.shape[0])) if p.dim() > 1 else np.float32(0.1)
            v = ((i * 7919) % 2001 - 1000).astype(np.float32) / np.float32(1000) * scale
            p.copy_(torch.from_numpy(v.reshape(tuple(p.shape))))
            offset += n


def save_safetensors(path, tensors):
    header, blobs, at = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


torch.manual_seed(2024)
model = TCN(20, 64, 4)
assert sum(p.numel() for p in model.parameters()) == 64468
formula_weights(model)
x = torch.randn(4, 20, 24)
t = torch.tensor([0.0, 0.123, 0.5, 0.999])
target = torch.randn(4, 20, 24)
out = model(x, t)
loss = ((out - target) ** 2).mean()
loss.backward()
tensors = {"x": x, "t": t, "output": out, "target": target, "loss": loss.reshape(1)}
for name, p in model.named_parameters():
    tensors["grad." + name] = p.grad
save_safetensors("tcn_reference.safetensors", tensors)
print("loss", loss.item(), "params", sum(p.numel() for p in model.parameters()))
