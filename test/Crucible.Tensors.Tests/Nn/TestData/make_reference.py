"""Golden fixtures for the Crucible nn layer, computed with PyTorch (CPU, float32).

Run from this folder:  python3 make_reference.py  (writes reference.json; the tests never run Python).
Each case stores the module's full state dict (so the C# test loads exactly these weights through
LoadStateDict), the inputs and the outputs, plus the PyTorch state-dict keys and shapes in order.
Weights and inputs come from torch.manual_seed(1234), scaled by 0.5; biases are set nonzero on purpose.
"""
import json
import math

import torch
import torch.nn as nn

torch.manual_seed(1234)


def t2j(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def randomize(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return module


def state(module):
    return {k: t2j(v) for k, v in module.state_dict().items()}


def keys(module):
    return [[k, list(v.shape)] for k, v in module.state_dict().items()]


cases = {}

# --- GRU --------------------------------------------------------------------------------------
gru = randomize(nn.GRU(2, 3, num_layers=1, batch_first=True))
x = torch.randn(1, 2, 2)
out, hn = gru(x)
cases["gru_1layer"] = {"state": state(gru), "keys": keys(gru), "input": t2j(x), "output": t2j(out), "h_n": t2j(hn)}

gru2 = randomize(nn.GRU(3, 4, num_layers=2, batch_first=True))
x = torch.randn(2, 3, 3)
h0 = torch.randn(2, 2, 4) * 0.5
out, hn = gru2(x, h0)
cases["gru_2layer_h0"] = {"state": state(gru2), "keys": keys(gru2), "input": t2j(x), "h0": t2j(h0), "output": t2j(out), "h_n": t2j(hn)}

cell = randomize(nn.GRUCell(2, 3))
x = torch.randn(2, 2)
h = torch.randn(2, 3) * 0.5
cases["gru_cell"] = {"state": state(cell), "keys": keys(cell), "input": t2j(x), "h0": t2j(h), "output": t2j(cell(x, h))}

# --- MultiheadAttention (batch_first) ----------------------------------------------------------
def mha_case(mha, q, k, v, key_padding_mask=None, attn_mask=None):
    mha.eval()
    out, w = mha(q, k, v, key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=True, average_attn_weights=True)
    case = {"state": state(mha), "keys": keys(mha), "query": t2j(q), "key": t2j(k), "value": t2j(v), "output": t2j(out), "weights": t2j(w)}
    if key_padding_mask is not None:
        case["key_padding_mask"] = key_padding_mask.tolist()
    if attn_mask is not None:
        case["attn_mask_bool" if attn_mask.dtype == torch.bool else "attn_mask"] = (
            attn_mask.tolist() if attn_mask.dtype == torch.bool else t2j(attn_mask))
    return case


mha = randomize(nn.MultiheadAttention(4, 2, batch_first=True))
q, k, v = torch.randn(2, 2, 4), torch.randn(2, 3, 4), torch.randn(2, 3, 4)
cases["mha_self"] = mha_case(mha, q, k, v)
kpm = torch.tensor([[False, False, True], [False, True, False]])
am = torch.randn(2, 3) * 0.5
cases["mha_masks"] = mha_case(mha, q, k, v, key_padding_mask=kpm, attn_mask=am)
amb = torch.tensor([[False, True, False], [False, False, True]])
cases["mha_bool_mask"] = mha_case(mha, q, k, v, attn_mask=amb)

cross = randomize(nn.MultiheadAttention(4, 2, kdim=5, vdim=3, batch_first=True))
q, k, v = torch.randn(2, 2, 4), torch.randn(2, 3, 5), torch.randn(2, 3, 3)
cases["mha_cross"] = mha_case(cross, q, k, v, key_padding_mask=torch.tensor([[False, False, True], [False, False, False]]))

# --- simple layers ------------------------------------------------------------------------------
lin = randomize(nn.Linear(3, 2))
x = torch.randn(4, 3)
cases["linear"] = {"state": state(lin), "keys": keys(lin), "input": t2j(x), "output": t2j(lin(x))}

conv = randomize(nn.Conv1d(2, 3, 3, dilation=2, padding=1))
x = torch.randn(2, 2, 7)
cases["conv1d_pad1_dil2"] = {"state": state(conv), "keys": keys(conv), "input": t2j(x), "output": t2j(conv(x))}

ln = randomize(nn.LayerNorm(5))
x = torch.randn(2, 3, 5)
cases["layer_norm"] = {"state": state(ln), "keys": keys(ln), "input": t2j(x), "output": t2j(ln(x))}

gn = randomize(nn.GroupNorm(2, 4))
x = torch.randn(2, 4, 3)
cases["group_norm"] = {"state": state(gn), "keys": keys(gn), "input": t2j(x), "output": t2j(gn(x))}

seq = randomize(nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2), nn.GELU(), nn.Tanh()))
x = torch.randn(2, 3)
cases["sequential"] = {"state": state(seq), "keys": keys(seq), "input": t2j(x), "output": t2j(seq(x))}


# --- sinusoidal timestep embedding: the peer code, verbatim --------------------------------------
def peer_embedding(t, dim, scale):
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half) / half)
    x = t[:, None] * scale * f[None]
    return torch.cat([x.sin(), x.cos()], 1)


t01 = torch.rand(5)
cases["timestep_scale1000"] = {"input": t2j(t01), "dim": 8, "scale": 1000.0, "output": t2j(peer_embedding(t01, 8, 1000))}
tint = torch.tensor([0.0, 1.0, 7.0, 50.0, 999.0])
cases["timestep_scale1"] = {"input": t2j(tint), "dim": 6, "scale": 1.0, "output": t2j(peer_embedding(tint, 6, 1))}

with open("reference.json", "w") as fh:
    json.dump({"torch_version": torch.__version__, "cases": cases}, fh, indent=None, separators=(",", ":"))
    fh.write("\n")
print("wrote reference.json with", len(cases), "cases")
