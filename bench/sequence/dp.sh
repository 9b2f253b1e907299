#!/usr/bin/env bash
# Reproduces the README's figures for DP-SGD on the sequence generator ("Differential privacy in training", sequence
# models): what privacy costs in fidelity, and what the unit of privacy costs.
# Usage: [SEED=S] [STEPS=N] [BATCH=B] [LR=L] [UNITS="nodp window record"] bash bench/sequence/dp.sh [OUT_DIR]
#   Data: the bundled demo set (data/demo/ff10_treasury_demo.csv, daily simple returns in percent), series NoDur,
#   HiTec, Enrgy, Utils; train on 2000-01-03..2017-12-29 (4,528 days, 4,519 windows of W = 10), holdout 2018-01-01..
#   2021-12-31 as log returns. One small TCN (hidden 16, 2 layers, time embedding 16, T = 1000; 3,396 parameters), batch 64
#   (q = 64/4,519 for DP), learning rate 0.01, 3,000 steps, seed 1 (each overridable), trained three times:
#     nodp    without DP-SGD (the default transform and volatility-adaptive schedule);
#     window  DP-SGD, target (ε = 3, δ = 1e-5) per window (--dp-unit window, k = 1);
#     record  DP-SGD, target (ε = 3, δ = 1e-5) per day (--dp-unit record, the default: group privacy over k = W = 10);
#   each model generates 500 windows (DDIM-50, seed 7) that `crucible evaluate` compares with the holdout days.
#   Prints one line per run: σ, ks_mean, corr_distance, and the training seconds (which depend on the load).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/sequence/demo_holdout.sh
. bench/sequence/demo_holdout.sh
out=${1:-artifacts/sequence-dp}
steps=${STEPS:-3000}
batch=${BATCH:-64}
lr=${LR:-0.01}
seed=${SEED:-1}
units=${UNITS:-nodp window record}
mkdir -p "$out"
dotnet build src/Crucible.Cli -c Release -nologo -clp:ErrorsOnly
cli=src/Crucible.Cli/bin/Release/net10.0/crucible
data=data/demo/ff10_treasury_demo.csv
export CRUCIBLE_HOME="$out/home"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

# the holdout as log returns of the four series (percent → log(1 + p/100)), dates 2018..2021
demo_holdout "$data" "$out/holdout.csv"

cat > "$out/config.json" <<EOF
{"window": 10, "hidden": 16, "layers": 2, "time_embedding": 16,
 "training": {"steps": $steps, "batch_size": $batch, "learning_rate": $lr, "warmup_steps": 100}}
EOF

run() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$cli" train --data "$data" --input percent --columns NoDur,HiTec,Enrgy,Utils --train-end 2017-12-31 --kind sequence \
    --config "$out/config.json" --seed "$seed" --out "$out/$name" "$@" > "$out/$name.train.txt"
  end=$(date +%s.%N)
  "$cli" generate --model "$out/$name" --count 500 --seed 7 --out "$out/$name.csv" > /dev/null
  "$cli" evaluate --real "$out/holdout.csv" --synthetic "$out/$name.csv" --out "$out/$name.report.json" > /dev/null
  local sigma
  sigma=$(grep -o 'σ = [0-9.]*' "$out/$name.train.txt" | head -1 | cut -d' ' -f3 || true)
  /usr/bin/env python3 - "$out/$name.report.json" "$name" "${sigma:-none}" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:7s} sigma {sys.argv[3]:>8s}  ks_mean {r['ks_mean']:.3f}  corr_distance {r['corr_distance']:.3f}  "
      f"train {float(sys.argv[5]) - float(sys.argv[4]):.0f} s")
PY
}

for unit in $units; do
  case $unit in
    nodp) run nodp ;;
    *) run "$unit" --dp-epsilon 3 --dp-delta 1e-5 --dp-unit "$unit" ;;
  esac
done
grep -h -o '[0-9]* parameters' "$out"/*.train.txt | head -1
grep -h 'privacy:' "$out"/*.train.txt || true
