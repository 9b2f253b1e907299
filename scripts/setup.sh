#!/usr/bin/env bash
# Installs what the tests and benchmarks need on a bare Debian machine. Idempotent.
set -euo pipefail
need=(
  python3-numpy   # test/Crucible.Tensors.Tests/Serialization/PythonReaderTests.cs: independent safetensors reader
  chromium        # the headless-browser check of report.html (Crucible.Evaluation.Tests)
  python3-torch   # test/Crucible.Diffusion.Tests/Tabular/PyTorchLoadTests.cs: a saved model loads in PyTorch
  postgresql      # the PostgreSQL store tests (several service replicas): scripts/test-postgres.sh starts a private cluster
)
# (system packages are added here as the test suite comes to need them)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
