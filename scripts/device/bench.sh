#!/usr/bin/env bash
# One device call: batch-1 Qwen3-8B bf16 on the CUDA backend vs the memory ceiling
# (and the Hugging Face peer when time allows). Carry .cuda-carry (scripts/device/pack.sh).
#   HF=eager|eager,static+compile|none (default eager)   REPS=3
# Writes $OUT/bench.json (commit it under benchmarks/results/<date>/) and prints a table.
set -uo pipefail
source scripts/device/env.sh
if [ ! -e /tmp/q8/config.json ]; then
  t0=$(date +%s)
  timeout 240 "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 --out /tmp/q8 > /dev/null || exit 1
  echo "synth qwen3-8b: $(( $(date +%s) - t0 )) s"
fi
timeout "${BENCH_TIMEOUT:-420}" python3 scripts/device/bench.py --bin "$BIN/ax-engine-bench" --model /tmp/q8 \
  --out "$OUT/bench${TAG:-}.json" --reps "${REPS:-3}" --hf "${HF:-eager}" --deadline "${DEADLINE:-200}" \
  > "$OUT/bench${TAG:-}.log" 2>&1
rc=$?
grep -v "Loading weights" "$OUT/bench${TAG:-}.log" | tail -40
[ $rc -eq 0 ] || python3 scripts/device/bench.py --print "$OUT/bench${TAG:-}.json"  # killed: table from what was saved
exit $rc
