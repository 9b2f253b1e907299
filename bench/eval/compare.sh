#!/usr/bin/env bash
# Times Crucible's evaluation against eval_ref.py (scipy/statsmodels/sklearn) on the same files:
# 100,000 synthetic rows x 26 series against 4,500 real rows, with a 4,000-row train set (DCR included).
# Crucible computes its full report (more than eval_ref.py: PACF, leverage, CDaR, portfolio, regimes, utility,
# membership attack) and is still timed against eval_ref.py's subset.
# Prints both wall times (process start to exit, loading included), eval_ref.py's own compute time and ours,
# and the ratios. Needs the reference stack from /work/shared/peers/setup.sh (Debian /usr/bin/python3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
REF=${EVAL_REF:-/work/shared/peers/eval_ref.py}
DIR=${BENCH_DIR:-/tmp/crucible-eval-bench}
SYNTH_ROWS=${SYNTH_ROWS:-100000}
mkdir -p "$DIR"
if [ ! -f "$DIR/synthetic.csv" ] || [ "$(($(wc -l < "$DIR/synthetic.csv") - 1))" != "$SYNTH_ROWS" ]; then
  echo "generating data into $DIR ..."
  "$PY" "$ROOT/test/Crucible.Evaluation.Tests/TestData/make_fixtures.py" "$DIR" \
    --rows-real 4500 --rows-synth "$SYNTH_ROWS" --rows-train 4000 --series 26
fi
dotnet build -c Release "$ROOT/bench/Crucible.EvalBench" -nologo -v q > /dev/null
BIN="$ROOT/bench/Crucible.EvalBench/bin/Release/net10.0/Crucible.EvalBench"

now() { date +%s.%N; }
echo "machine: $(nproc) cores, load average before the run:$(uptime | sed -E "s/.*load average://")"
# eval_ref.py's metrics only (no utility, no membership attack): the like-for-like time, printed for reference
lean=$("$BIN" "$DIR/real.csv" "$DIR/synthetic.csv" --train "$DIR/train.csv" --no-utility --no-membership)
t0=$(now)
ours=$("$BIN" "$DIR/real.csv" "$DIR/synthetic.csv" --train "$DIR/train.csv" --out "$DIR/report.json")
t1=$(now)
"$PY" "$REF" "$DIR/real.csv" "$DIR/synthetic.csv" --train "$DIR/train.csv" > "$DIR/eval_ref.json"
t2=$(now)
ref_compute=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$DIR/eval_ref.json")
ours_compute=$(sed -E 's/.*evaluate_seconds=([0-9.]+).*/\1/' <<< "$ours")
echo "crucible, eval_ref.py's metrics only (no utility, no membership attack): $lean"
"$PY" - "$t0" "$t1" "$t2" "$ref_compute" "$ours_compute" <<'PYEOF'
import sys
t0, t1, t2, ref_c, ours_c = map(float, sys.argv[1:])
ours, ref = t1 - t0, t2 - t1
print(f"crucible   wall {ours:8.2f} s   (evaluate only {ours_c:.2f} s; the full report, utility and membership attack included)")
print(f"eval_ref   wall {ref:8.2f} s   (compute only {ref_c:.2f} s)")
print(f"ratio      wall {ref / ours:8.1f}x  compute {ref_c / ours_c:.1f}x")
PYEOF
# the two reports must agree on the shared keys
"$PY" - "$DIR/eval_ref.json" "$DIR/report.json" <<'PYEOF'
import json, math, sys
e, a = (json.load(open(p)) for p in sys.argv[1:])
worst = [0.0, ""]
def walk(x, y, path):
    if isinstance(x, dict):
        for k, v in x.items():
            if k not in ("seconds", "columns"): walk(v, y[k], path + "." + k)
    elif isinstance(x, list):
        for i, v in enumerate(x): walk(v, y[i], f"{path}[{i}]")
    elif isinstance(x, float) and not math.isnan(x):
        r = abs(x - y) / max(abs(x), 1e-300) if x != y else 0.0
        if r > worst[0]: worst[:] = [r, path]
walk(e, a, "$")
print(f"largest relative difference on shared keys: {worst[0]:.2e} at {worst[1] or '-'}")
PYEOF
