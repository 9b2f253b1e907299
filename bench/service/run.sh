#!/usr/bin/env bash
# The scenario service's load benchmark (issue #10, RELIABILITY.md SVC-11; bench/service/README.md explains it).
#   bash bench/service/run.sh [OUT_DIR]
# Environment (defaults in brackets):
#   MODEL_DIR       a trained sequence model folder; unset: `crucible demo --steps $DEMO_STEPS` trains the demo model
#   DEMO_STEPS      training steps of that demo model [1500, the demo's own]; sampling cost does not depend on it
#   COUNT SAMPLER STEPS FORMAT   the request [100 dpm2m 50 csv]
#   CONCURRENCY     the service's MaxConcurrentGenerations and the library's workers [1: one request at a time, on every core]
#   ENGINE_THREADS  threads per kernel call, service and library alike [cores / CONCURRENCY, at least 1]
#   QUEUE           the service's GenerationQueue [2]
#   SECONDS_OPEN    length of each open-loop phase [60]; SECONDS_CAP: length of each capacity phase [15]
#   SVC11_RATE      the rate of the two SVC-11 phases [50]: the request replayed from the idempotency store, and fresh
#                   requests of SMALL_COUNT scenarios [1]; SVC11_SECONDS: their length [SECONDS_OPEN] (from 120 s on, the
#                   RSS growth is measured from the second minute, as SVC-11 asks: "between minutes 1 and 5" at 300)
#   ROUNDS          alternating library / service-saturation rounds [3]
#   NO_BUILD=1      use the existing Release builds
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/artifacts/bench/service}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CORES=$(nproc)
COUNT=${COUNT:-100}; SAMPLER=${SAMPLER:-dpm2m}; STEPS=${STEPS:-50}; FORMAT=${FORMAT:-csv}
CONCURRENCY=${CONCURRENCY:-1}
ENGINE_THREADS=${ENGINE_THREADS:-$(( CORES / CONCURRENCY > 0 ? CORES / CONCURRENCY : 1 ))}
QUEUE=${QUEUE:-2}
SECONDS_OPEN=${SECONDS_OPEN:-60}; SECONDS_CAP=${SECONDS_CAP:-15}; ROUNDS=${ROUNDS:-3}
SVC11_RATE=${SVC11_RATE:-50}; SMALL_COUNT=${SMALL_COUNT:-1}; SVC11_SECONDS=${SVC11_SECONDS:-$SECONDS_OPEN}
REQ=(--count "$COUNT" --sampler "$SAMPLER" --steps "$STEPS" --format "$FORMAT")

if [[ "${NO_BUILD:-0}" != 1 ]]; then
  dotnet build "$ROOT/src/Crucible.Cli" -c Release -v q -nologo >/dev/null
  dotnet build "$ROOT/bench/service" -c Release -v q -nologo >/dev/null
fi
CRUCIBLE=(dotnet "$ROOT/src/Crucible.Cli/bin/Release/net10.0/crucible.dll")
BENCH=(dotnet "$ROOT/bench/service/bin/Release/net10.0/crucible-loadbench.dll")

WORK="$(mktemp -d -t crucible-load-XXXXXX)"
SERVER=""
cleanup() { [[ -n "$SERVER" ]] && kill -TERM "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT

# 1. the model: the conditional sequence model `crucible demo` trains, registered in a fresh home
if [[ -z "${MODEL_DIR:-}" ]]; then
  echo "training the demo model (${DEMO_STEPS:-1500} steps) ..."
  "${CRUCIBLE[@]}" demo --out "$WORK/demo" --steps "${DEMO_STEPS:-1500}" --count 200 >"$WORK/demo.log"
  MODEL_DIR="$WORK/demo/model"
fi
HOME_DIR="$WORK/home"
MODEL_ID=$("${CRUCIBLE[@]}" model register --model "$MODEL_DIR" --home "$HOME_DIR" | sed -n 's/^registered: \([0-9a-f]*\).*/\1/p')
"${CRUCIBLE[@]}" keys new --id load --scopes generate >"$WORK/api-keys" 2>"$WORK/key.txt"
KEY=$(awk '{print $NF}' "$WORK/key.txt" | tail -1)
echo "model $MODEL_ID; request: count $COUNT, $SAMPLER-$STEPS, $FORMAT; $CONCURRENCY generations at once × $ENGINE_THREADS engine threads, queue $QUEUE; load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$OUT"/*.json

# 3. the service as its own process on loopback (the per-key rate limit raised out of the way: this measures capacity)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
Crucible__MaxConcurrentGenerations=$CONCURRENCY Crucible__GenerationQueue=$QUEUE Crucible__EngineThreads=$ENGINE_THREADS \
Crucible__RateLimitPermits=100000000 \
  "${CRUCIBLE[@]}" serve --urls "$URL" --home "$HOME_DIR" --api-keys "$WORK/api-keys" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
  curl -sf "$URL/health/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
  sleep 0.1
done
COMMON=(--url "$URL" --key "$KEY" --model "$MODEL_ID" "${REQ[@]}")

# 4. offline sampling capacity (the library: the same request, the same threads) and the service at saturation (closed
# loop, twice as many clients as slots so that a slot never waits for a client), in alternating rounds so that a
# change of the machine's load in between hits both alike; each figure is the median of its rounds
# the server's warm-up first (model load, JIT tiering, thread pool): its first seconds ran ~35% slower than later ones
"${BENCH[@]}" closed --phase warmup "${COMMON[@]}" --workers $(( 2 * CONCURRENCY )) --seconds 10 --warmup 0 --out "$WORK/warmup.json" >/dev/null
for k in $(seq 1 "$ROUNDS"); do
  "${BENCH[@]}" library --phase "library-$k" --model-dir "$MODEL_DIR" --workers "$CONCURRENCY" --engine-threads "$ENGINE_THREADS" \
    --seconds "$SECONDS_CAP" "${REQ[@]}" --out "$OUT/library-$k.json"
  "${BENCH[@]}" closed --phase "service-saturation-$k" "${COMMON[@]}" --workers $(( 2 * CONCURRENCY )) --seconds "$SECONDS_CAP" --out "$OUT/saturation-$k.json"
done
CAPACITY=$(python3 -c 'import json,sys,statistics; print(statistics.median(json.load(open(f))["requests_per_second"] for f in sys.argv[1:]))' "$OUT"/library-*.json)
echo "offline capacity (median of $ROUNDS rounds): $CAPACITY requests/s"

# 5. open loop at 70% and at 200% of the offline capacity, 60 s each, the server's RSS sampled every second
R70=$(python3 -c "print(round(0.7 * $CAPACITY, 3))"); R200=$(python3 -c "print(round(2 * $CAPACITY, 3))")
"${BENCH[@]}" open --phase open-70 "${COMMON[@]}" --rate "$R70" --seconds "$SECONDS_OPEN" --pid "$SERVER" --out "$OUT/open-70.json"
"${BENCH[@]}" open --phase open-200 "${COMMON[@]}" --rate "$R200" --seconds "$SECONDS_OPEN" --pid "$SERVER" --out "$OUT/open-200.json"

# 5b. RELIABILITY SVC-11 at its own fixed rate: "cached" requests (the same request with one Idempotency-Key, generated
# once before the clock starts and then answered from the idempotency store) and fresh "small" ones (SMALL_COUNT scenarios)
"${BENCH[@]}" open --phase svc11-cached "${COMMON[@]}" --rate "$SVC11_RATE" --seconds "$SVC11_SECONDS" --pid "$SERVER" \
  --idempotency-key svc11-cached --out "$OUT/svc11-cached.json"
"${BENCH[@]}" open --phase svc11-small "${COMMON[@]}" --count "$SMALL_COUNT" --rate "$SVC11_RATE" --seconds "$SVC11_SECONDS" --pid "$SERVER" \
  --out "$OUT/svc11-small.json"

# 6. stop the server (SIGTERM: drain, checkpoint) and check the audit log it leaves
kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=""
"${CRUCIBLE[@]}" audit verify --home "$HOME_DIR" | tail -1
set +e
"${BENCH[@]}" summary --dir "$OUT" --out "$OUT/result.json"
STATUS=$?
echo "result: $OUT/result.json"
rm -rf "$WORK"
exit $STATUS
