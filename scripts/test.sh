#!/usr/bin/env bash
# The whole test suite, with every set-up step a fresh machine needs.
# Usage: bash scripts/test.sh        (the README's test command; .ci/run calls exactly this)
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- set-up: system packages the tests need (idempotent; skipped when present) --------------------
bash "$root/scripts/setup.sh" || { echo "set-up failed"; echo "0 passed, 1 failed"; exit 1; }
# the PostgreSQL store tests' server: a private throw-away cluster (they fail, never skip, without it)
CRUCIBLE_TEST_POSTGRES=$(bash "$root/scripts/test-postgres.sh") || { echo "PostgreSQL set-up failed"; echo "0 passed, 1 failed"; exit 1; }
export CRUCIBLE_TEST_POSTGRES   # left running for the next run (stop: bash scripts/test-postgres.sh stop)

# --- build once, then run every test project -------------------------------------------------------
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
if ! dotnet build Crucible.slnx -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
dotnet test Crucible.slnx -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results"
status=$?

# --- one summary line from the trx counters --------------------------------------------------------
passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  executed=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a crashed test host counts as a failure
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
