#!/usr/bin/env bash
# PACF-regulariser ablation of issue #7 on Stocks: the same generator, seed and steps with λ = 0 and λ > 0; each line
# of OUT_DIR/ablation.jsonl holds the three Stocks scores (R metric runs) and pacf_error = mean over series and lags
# 1..10 of |mean PACF(synthetic) − mean PACF(real)| (biased autocovariance, statsmodels "ldb").
# Usage: bash bench/stocks/ablation.sh [OUT_DIR] [LAMBDA] [RUNS] [extra stocks-gen options, e.g. --steps 4000]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-artifacts/stocks}
lambda=${2:-1}
runs=${3:-3}
shift $(( $# < 3 ? $# : 3 )) || true
data=${DATA:-../shared/data/stocks_goog_timegan.csv}
[ -f "$data" ] || data=/work/shared/data/stocks_goog_timegan.csv
mkdir -p "$out"
dotnet build bench/Crucible.Benchmarks -c Release -nologo -clp:ErrorsOnly
bench=bench/Crucible.Benchmarks/bin/Release/net10.0/Crucible.Benchmarks.dll
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
: > "$out/ablation.jsonl"
for w in 0 "$lambda"; do
  dotnet "$bench" stocks-gen --data "$data" --runs "$runs" --seed 0 --threads 2 --pacf-weight "$w" "$@" >> "$out/ablation.jsonl"
done
echo "wrote $out/ablation.jsonl (line 1: λ = 0, line 2: λ = $lambda)"
