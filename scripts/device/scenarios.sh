#!/usr/bin/env bash
# Every GPU scenario manifest (benchmarks/manifests/scenario/*cuda*.json, or those named
# in MANIFESTS) through ax-engine-bench scenario in one device call; the artifacts come
# back under $OUT/scenario (commit them under benchmarks/results/scenario). Synth models
# are made under /tmp/ax-scenario/models and stay on the warm machine.
# Built here by scripts/device/pack.sh (carry .cuda-carry).
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
mkdir -p "$OUT/scenario" /tmp/ax-scenario
failed=0
for m in ${MANIFESTS:-benchmarks/manifests/scenario/*cuda*.json}; do
  timeout 500 "$BIN/ax-engine-bench" scenario --manifest "$m" --output-root /tmp/ax-scenario --quiet \
    2> "$OUT/scenario/$(basename "$m" .json).err" || failed=$((failed + 1))
  cp /tmp/ax-scenario/"$(basename "$m" .json)".json "$OUT/scenario/" 2>/dev/null
done
echo "scenarios with a failed contract or error: $failed"
