#!/usr/bin/env bash
# Reproduces the tabular generator's figures of issue #6 (README "Tabular generator: figures").
# Usage: bash bench/tabular/fidelity.sh [STEPS] [OUT_DIR] [CONFIG]
#   Trains once (default 20000 steps, seed 1, 2 threads) on ../shared/data/multi_asset_daily_prices.csv as daily log
#   returns, 2007-04-11..2019-12-31, then evaluates 20,000 samples of DDIM-50 (the issue's sampler) and of
#   DPM-Solver++(2M)-50 against the train rows, the 2020+ holdout (privacy) and DDPM-1000 (speed, ks_mean).
#   Writes one JSON per sampler into OUT_DIR (default ./artifacts/tabular-fidelity) and prints the load average.
#   CONFIG: a generator config (JSON, any subset of the options), e.g. bench/tabular/distilled.json (sampler
#   distillation for DDIM-50 after training).
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-20000}
out=${2:-artifacts/tabular-fidelity}
config=()
[ -n "${3:-}" ] && config=(--config "$3")
data=${DATA:-../shared/data/multi_asset_daily_prices.csv}
[ -f "$data" ] || data=/work/shared/data/multi_asset_daily_prices.csv
mkdir -p "$out"
dotnet build bench/Crucible.Benchmarks -c Release -nologo -clp:ErrorsOnly
bench=bench/Crucible.Benchmarks/bin/Release/net10.0/Crucible.Benchmarks.dll
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
dotnet "$bench" tabular-fidelity --data "$data" --steps "$steps" --seed 1 --threads 2 --iid-privacy "${config[@]}" \
  --model "$out/model" --sampler ddim > "$out/ddim50.json" || true
dotnet "$bench" tabular-fidelity --data "$data" --seed 1 --threads 2 --model "$out/model" --reuse \
  --sampler dpm2m > "$out/dpm2m50.json" || true
echo "wrote $out/ddim50.json and $out/dpm2m50.json (exit 3 from a run means a criterion failed; see its pass_* keys)"
