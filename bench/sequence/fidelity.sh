#!/usr/bin/env bash
# Reproduces the conditional sequence generator's multi-asset figures of issue #7 (README "Quality figures";
# settings, rules and the experiment log in bench/sequence/README.md).
# Usage: [SEED=S] bash bench/sequence/fidelity.sh [STEPS] [OUT_DIR]
#   Trains once with the default SequenceGeneratorOptions (condition noise 1.5; 4000 steps, seed 1 unless SEED is
#   set, 2 threads) on ../shared/data/multi_asset_daily_prices.csv as daily log returns, windows of 20 days starting
#   2007-04-12..2019-12-03 (train rows up to 2019-12-31), conditioned on the economic state of
#   ../shared/data/us_conditioning_daily.csv lagged one day (VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2, RV20); sets
#   the model's guidance by the regime rule on its own training data (--calibrate --calibration-rule regime, as
#   `crucible train --calibrate-guidance gfc-2008` does: classifier-free guidance w = 2 and the regime guidance a that
#   brings the ES under the state of the gfc-2008 record VIX close to the episode's realised ES) and saves it; then:
#   1. sequence-fidelity.json: 4,000 unconditional DPM-Solver++(2M)-50 windows against the training windows; the 20-day
#      equal-weight portfolio ES 97.5% of 4,000 windows conditioned on the state of 2020-03-16 at guidance 1..5 against
#      the realised ES of 2020-02-20..2020-04-30; the ES under VIXCLS = 15, 25, 35, 45, 60 alone; every criterion judged
#      at the calibrated guidance (the JSON's guidance_calibration holds the rule's table);
#   2. guidance-rule.json: the session-4 evidence, from the training period only: the same model under the state of
#      2008-11-20 at guidance 1..6 (with its regime guidance) against the realised ES of the gfc-2008 episode
#      (2008-09-15..2009-03-09).
#   Prints the load average (the figures do not depend on it).
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-4000}
out=${2:-artifacts/sequence-fidelity}
seed=${SEED:-1}
data=${DATA:-../shared/data/multi_asset_daily_prices.csv}
state=${STATE:-../shared/data/us_conditioning_daily.csv}
[ -f "$data" ] || data=/work/shared/data/multi_asset_daily_prices.csv
[ -f "$state" ] || state=/work/shared/data/us_conditioning_daily.csv
mkdir -p "$out"
dotnet build bench/Crucible.Benchmarks -c Release -nologo -clp:ErrorsOnly
bench=bench/Crucible.Benchmarks/bin/Release/net10.0/Crucible.Benchmarks.dll
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
dotnet "$bench" sequence-fidelity --data "$data" --state "$state" --steps "$steps" --seed "$seed" --threads 2 \
  --guidance 1,2,3,4,5 --calibrate --calibration-rule regime --sampler dpm2m --model "$out/model" > "$out/sequence-fidelity.json" || true
echo "wrote $out/sequence-fidelity.json (exit 3 means a criterion failed; see its pass keys)"
dotnet "$bench" sequence-fidelity --data "$data" --state "$state" --seed "$seed" --threads 2 --model "$out/model" --reuse \
  --crisis-date 2008-11-20 --crisis-window 2008-09-15..2009-03-09 --guidance 1,2,3,4,5,6 --no-vix --samples 500 --sampler dpm2m \
  > "$out/guidance-rule.json" || true
echo "wrote $out/guidance-rule.json (the calibration table itself is sequence-fidelity.json's guidance_calibration)"
