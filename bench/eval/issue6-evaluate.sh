#!/usr/bin/env bash
# Times `crucible evaluate` at issue #6's sizes (README "Performance", session 22): 20,000 synthetic rows x 26 series
# against the 2020+ holdout (1,380 rows) with the 2007-2019 train set (3,204 rows) of multi_asset_daily_prices.csv as
# daily log returns, the README's options plus --sensitive SPY,TLT (attribute inference). The synthetic rows are a
# seeded bootstrap of the train rows plus Gaussian noise of 0.3 sd per series (Python's random, seed 7: only an input).
# Usage: bash bench/eval/issue6-evaluate.sh [REPS] [CLI...]   (default 3, src/Crucible.Cli/bin/Release/net10.0/crucible)
#   Several CLIs (e.g. a copy of a previous build's bin and this one) are run alternately, REPS rounds; each run prints
#   the CLI, wall and CPU (user + system) seconds, the load average before it and report.json's SHA-256.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
shift || true
clis=("$@")
[ ${#clis[@]} -eq 0 ] && clis=(src/Crucible.Cli/bin/Release/net10.0/crucible)
data=${DATA:-../shared/data/multi_asset_daily_prices.csv}
[ -f "$data" ] || data=/work/shared/data/multi_asset_daily_prices.csv
dir=${BENCH_DIR:-/tmp/crucible-issue6-eval}
mkdir -p "$dir"
python3 - "$data" "$dir" <<'PY'
import math, random, sys
src, out = sys.argv[1], sys.argv[2]
rows = [l.rstrip('\n').split(',') for l in open(src)]
hdr, data = rows[0], rows[1:]
rets = [(data[i][0], [math.log(float(data[i][j]) / float(data[i - 1][j])) for j in range(1, len(hdr))]) for i in range(1, len(data))]
train = [x for x in rets if x[0] <= '2019-12-31']
hold = [x for x in rets if x[0] >= '2020-01-01']
def write(name, rs):
    with open(f'{out}/{name}', 'w') as f:
        f.write(','.join(hdr) + '\n')
        for d, r in rs: f.write(d + ',' + ','.join(repr(v) for v in r) + '\n')
write('train.csv', train)
write('holdout.csv', hold)
n = len(hdr) - 1
sd = [(sum(r[j] ** 2 for _, r in train) / len(train)) ** .5 for j in range(n)]
rng = random.Random(7)
with open(f'{out}/synthetic.csv', 'w') as f:
    f.write(','.join(hdr[1:]) + '\n')
    for _ in range(20000):
        _, r = train[rng.randrange(len(train))]
        f.write(','.join('%.9g' % (r[j] + 0.3 * sd[j] * rng.gauss(0, 1)) for j in range(n)) + '\n')
PY
for ((i = 1; i <= reps; i++)); do
  for cli in "${clis[@]}"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%e %U %S" -o "$dir/time.txt" "$cli" evaluate --real "$dir/holdout.csv" --synthetic "$dir/synthetic.csv" \
      --train "$dir/train.csv" --sensitive SPY,TLT --out "$dir/report.json" --html "$dir/report.html" --home "$dir/home" > /dev/null
    read -r wall user sys < "$dir/time.txt"
    echo "$cli wall ${wall}s cpu $(echo "$user + $sys" | bc)s load $load report.json $(sha256sum "$dir/report.json" | cut -c1-16)"
  done
done
