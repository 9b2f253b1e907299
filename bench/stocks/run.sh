#!/usr/bin/env bash
# Reproduces the Stocks benchmark figure of issue #7 (README "Stocks benchmark"):
#   one training run of the tuned window generator on all 3,662 Stocks windows, then 5 metric runs of the published
#   discriminative / predictive / correlational scores and the Context-FID (no target), mean ± 95% CI, through the CLI
#   (`crucible benchmark stocks`).
# Usage: [SEED=S] bash bench/stocks/run.sh [OUT_DIR] [extra crucible options, e.g. --steps 4000]
# Writes OUT_DIR/stocks.json (default ./artifacts/stocks) and prints the load average before and after (the figures
# in the README were measured on a 2-core machine shared with other jobs).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-artifacts/stocks}
shift || true
data=${DATA:-../shared/data/stocks_goog_timegan.csv}
[ -f "$data" ] || data=/work/shared/data/stocks_goog_timegan.csv
mkdir -p "$out"
dotnet build src/Crucible.Cli -c Release -nologo -clp:ErrorsOnly
cli=src/Crucible.Cli/bin/Release/net10.0/crucible.dll
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
status=0
dotnet "$cli" benchmark stocks --data "$data" --runs 5 --seed "${SEED:-0}" --threads 2 --out "$out/stocks.json" "$@" || status=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrote $out/stocks.json (exit 3 means a mean missed its target; see the \"passed\" keys)"
exit $status
