#!/usr/bin/env bash
# Reproduces the README's figures for DP-SGD on a conditional sequence model whose economic state is declared public
# (--dp-public-state): what privacy costs in fidelity, and whether the conditioning still steers the tail.
# Usage: [SEEDS="1 2"] [STEPS=N] [BATCH=B] [LR=L] [RUNS="nodp dp"] [STATE=FILE] [DP_ARGS="--dp-epsilon 3 --dp-delta 1e-5"]
#        [STATE_COLUMNS=VIXCLS,DFF,...] [GUIDANCE="4 8"] [EXTRA='"state_scale": "VIXCLS"'] [CLI=path/to/crucible]
#        bash bench/sequence/dp_conditional.sh [OUT_DIR]
#   STATE_COLUMNS: the condition features; GUIDANCE: the w of the VIX 15 / VIX 45 draws (one line per w); EXTRA: more
#   config keys (JSON members, e.g. the public-state volatility scaling of session 16); CLI: a built crucible (no build).
#   Data: the bundled demo set (data/demo/ff10_treasury_demo.csv, daily simple returns in percent), series NoDur, HiTec,
#   Enrgy, Utils; train on 2000-01-03..2017-12-29 (4,528 days, 4,519 windows of W = 10), holdout 2018-01-01..2021-12-31 as
#   log returns, as bench/sequence/dp.sh. State: ../shared/data/us_conditioning_daily.csv (FRED; public data), features
#   VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2 lagged one day (RV20, from the returns, is refused under DP). The TCN of dp.sh
#   (hidden 16, 2 layers, time embedding 16, T = 1000) with the condition tokens, batch 64, learning rate 0.01, 3,000
#   steps; two runs per seed:
#     nodp  conditional, without DP-SGD (the default transform and volatility-adaptive schedule);
#     dp    conditional, DP-SGD with the state declared public, target (ε = 3, δ = 1e-5) per window (--dp-unit window).
#   Each model generates 500 unconditioned windows (DDIM-50, seed 7) that `crucible evaluate` compares with the holdout
#   (ks_mean, corr_distance), and 2,000 windows under VIXCLS = 15 (calm) and VIXCLS = 45 (stressed), the other features
#   absent, at the model's default guidance (w = 4), seed 8: the 10-day equal-weight (daily rebalanced) portfolio's
#   expected shortfall at 97.5% (a positive loss, log return) of each, and their ratio stressed / calm.
#   Prints one line per run; the training seconds depend on the load.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=bench/sequence/demo_holdout.sh
. bench/sequence/demo_holdout.sh
out=${1:-artifacts/sequence-dp-conditional}
steps=${STEPS:-3000}
batch=${BATCH:-64}
lr=${LR:-0.01}
seeds=${SEEDS:-1 2}
runs=${RUNS:-nodp dp}
state=${STATE:-../shared/data/us_conditioning_daily.csv}
state_columns=${STATE_COLUMNS:-VIXCLS,DFF,TERM,BAA10Y,BAMLH0A0HYM2}
guidance=${GUIDANCE:-4}
extra=${EXTRA:+, $EXTRA}
[ -f "$state" ] || state=/work/shared/data/us_conditioning_daily.csv
mkdir -p "$out"
if [ -n "${CLI:-}" ]; then cli=$CLI; else
  dotnet build src/Crucible.Cli -c Release -nologo -clp:ErrorsOnly
  cli=src/Crucible.Cli/bin/Release/net10.0/crucible
fi
data=data/demo/ff10_treasury_demo.csv
export CRUCIBLE_HOME="$out/home"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; state $state ($(sha256sum "$state" | cut -c1-16)…)"

demo_holdout "$data" "$out/holdout.csv"

cat > "$out/config.json" <<JSON
{"window": 10, "hidden": 16, "layers": 2, "time_embedding": 16,
 "training": {"steps": $steps, "batch_size": $batch, "learning_rate": $lr, "warmup_steps": 100}$extra}
JSON

run() {
  local name=$1 seed=$2; shift 2
  local start end
  start=$(date +%s.%N)
  "$cli" train --data "$data" --input percent --columns NoDur,HiTec,Enrgy,Utils --train-end 2017-12-31 --kind sequence \
    --state "$state" --state-columns "$state_columns" \
    --config "$out/config.json" --seed "$seed" --out "$out/$name" "$@" > "$out/$name.train.txt"
  end=$(date +%s.%N)
  "$cli" generate --model "$out/$name" --count 500 --seed 7 --out "$out/$name.csv" > /dev/null
  "$cli" evaluate --real "$out/holdout.csv" --synthetic "$out/$name.csv" --out "$out/$name.report.json" > /dev/null
  local sigma g
  sigma=$(grep -o 'σ = [0-9.]*' "$out/$name.train.txt" | head -1 | cut -d' ' -f3 || true)
  for g in $guidance; do
  "$cli" generate --model "$out/$name" --count 2000 --seed 8 --condition VIXCLS=15 --guidance "$g" --out "$out/$name.calm.csv" > /dev/null
  "$cli" generate --model "$out/$name" --count 2000 --seed 8 --condition VIXCLS=45 --guidance "$g" --out "$out/$name.stressed.csv" > /dev/null
  /usr/bin/env python3 - "$out/$name" "${sigma:-none}" "$start" "$end" "$g" <<'PY'
import csv, json, math, sys
base = sys.argv[1]
r = json.load(open(base + ".report.json"))

def es(path, alpha=0.975):
    totals = {}
    with open(path) as f:
        rows = csv.reader(f)
        header = next(rows)
        series = [i for i, h in enumerate(header) if h not in ("scenario", "step")]
        for row in rows:
            p = math.log(sum(math.exp(float(row[i])) for i in series) / len(series))
            totals[row[0]] = totals.get(row[0], 0.0) + p
    losses = sorted(totals.values())
    k = max(1, math.ceil(len(losses) * (1 - alpha) - 1e-9))
    return -sum(losses[:k]) / k

calm, stressed = es(base + ".calm.csv"), es(base + ".stressed.csv")
name = base.rsplit("/", 1)[1]
print(f"{name:9s} sigma {sys.argv[2]:>6s}  ks_mean {r['ks_mean']:.3f}  corr_distance {r['corr_distance']:.3f}  w {sys.argv[5]:>3s}  "
      f"ES97.5(10d) VIX15 {calm:.4f}  VIX45 {stressed:.4f}  ratio {stressed / calm:.2f}  train {float(sys.argv[4]) - float(sys.argv[3]):.0f} s")
PY
  done
}

# the holdout's own 10-day ES at 97.5% over its stride-1 windows, for scale
/usr/bin/env python3 - "$out/holdout.csv" <<'PY'
import csv, math, sys
rows = list(csv.reader(open(sys.argv[1])))[1:]
p = [math.log(sum(math.exp(float(v)) for v in r[1:]) / (len(r) - 1)) for r in rows]
totals = sorted(sum(p[b:b + 10]) for b in range(len(p) - 9))
k = max(1, math.ceil(len(totals) * 0.025 - 1e-9))
print(f"holdout 2018-2021: ES97.5(10d) {-sum(totals[:k]) / k:.4f} over {len(totals)} windows")
PY

for seed in $seeds; do
  for run_name in $runs; do
    case $run_name in
      nodp) run "nodp-s$seed" "$seed" ;;
      # shellcheck disable=SC2086
      dp) run "dp-s$seed" "$seed" --dp-public-state ${DP_ARGS:---dp-epsilon 3 --dp-delta 1e-5} --dp-unit window ;;
    esac
  done
done
grep -h -o '[0-9]* parameters' "$out"/*.train.txt | sort -u
grep -h 'privacy:' "$out"/*.train.txt || true
