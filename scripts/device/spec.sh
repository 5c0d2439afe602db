#!/usr/bin/env bash
# One device call (or part of one): n-gram speculation vs direct decoding on the GPU
# (scripts/bench/spec_ngram.py --backend cuda), demo model and stories260K, concurrency
# 1 and 8. Carry .cuda-carry (scripts/device/pack.sh). Writes $OUT/cuda-spec-ngram.json
# (commit it under benchmarks/results/<date>/).
set -uo pipefail
source scripts/device/env.sh
timeout "${SPEC_TIMEOUT:-240}" python3 scripts/bench/spec_ngram.py --backend cuda --bench "$BIN/ax-engine-bench" \
  --stories "$CARRY/stories260K" --reps "${REPS:-2}" --out "$OUT/cuda-spec-ngram.json"
