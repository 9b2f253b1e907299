#!/usr/bin/env bash
# Crucible against its peers on this machine, in one run: for each benchmark ours first, then the peer right after.
#   gemm        SGEMM GFLOP/s at 64^3, 256^3, 1024^3      vs OpenBLAS through numpy   (../shared/peers/gemm_ref.py)
#   train-mlp   steps/s, the peer's MLP (306,708 params)   vs PyTorch, 2 threads        (torch_ddpm.py --kind mlp)
#   train-tcn   steps/s, the peer's TCN (64,468 params)    vs PyTorch, 2 threads        (torch_ddpm.py --kind tcn --hidden 64 --layers 4)
#   sample-ddim samples/s, 10,000 samples x 50 DDIM steps, both networks (the peer prints it in the same runs)
# The peer's TCN needs --hidden 64 --layers 4: its defaults (hidden 256, 3 layers) are another network (699,924
# parameters). Prints each JSON line and a table of ratios (ours / peer). Run from anywhere; needs the peer stack
# (../shared/peers/setup.sh installs it, root only when a Debian package is missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
PY=/usr/bin/python3
bash "$PEERS/setup.sh"
dotnet build -c Release "$ROOT/bench/Crucible.Benchmarks" -nologo -v q > /dev/null
OURS="$ROOT/bench/Crucible.Benchmarks/bin/Release/net10.0/Crucible.Benchmarks"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run() { # name command...: runs it, echoes and keeps its last line (the JSON)
  local name=$1; shift
  "$@" | tail -n 1 | tee "$OUT/$name.json"
}

echo "machine: $(nproc) cores, load average before the run:$(uptime | sed -E 's/.*load average://')"
run gemm.ours "$OURS" gemm
run gemm.peer "$PY" "$PEERS/gemm_ref.py"
run mlp.ours "$OURS" train-mlp
run mlp.peer "$PY" "$PEERS/torch_ddpm.py" --kind mlp --threads 2
run tcn.ours "$OURS" train-tcn
run tcn.peer "$PY" "$PEERS/torch_ddpm.py" --kind tcn --threads 2 --hidden 64 --layers 4
run sample.ours "$OURS" sample-ddim
echo "(the peer's samples/s come from the two torch_ddpm.py runs above)"
echo "load average after the run:$(uptime | sed -E 's/.*load average://')"

"$PY" - "$OUT" <<'PYEOF'
import json, os, sys
d = sys.argv[1]
j = {n[:-5]: json.load(open(os.path.join(d, n))) for n in os.listdir(d)}
rows = []
for n in ("64", "256", "1024"):
    rows.append((f"gemm {n}^3 GFLOP/s", j["gemm.ours"]["gflops"][n], j["gemm.peer"]["gflops"][n]))
for kind in ("mlp", "tcn"):
    ours, peer = j[f"{kind}.ours"], j[f"{kind}.peer"]
    if ours["params"] != peer["params"]:
        print(f"WARNING: {kind} parameter counts differ: ours {ours['params']}, peer {peer['params']}")
    rows.append((f"train-{kind} steps/s ({ours['params']} params)", ours["train_steps_per_s"], peer["train_steps_per_s"]))
for kind in ("mlp", "tcn"):
    rows.append((f"sample-ddim {kind} samples/s", j["sample.ours"][kind]["samples_per_s"], j[f"{kind}.peer"]["samples_per_s"]))
print(f"\n{'benchmark':<38} {'crucible':>10} {'peer':>10} {'ratio':>7}")
for name, ours, peer in rows:
    print(f"{name:<38} {ours:>10.1f} {peer:>10.1f} {ours / peer:>6.2f}x")
PYEOF
