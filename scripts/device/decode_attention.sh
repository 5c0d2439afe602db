#!/usr/bin/env bash
# Issue 15's decode attention on the GPU machine, one call: its tests (every schedule's
# bits against kernels/ref and against each other; ATTN_TESTS=0 skips them),
# bench_cuda_ops' decode attention rows (batch 1 at several positions, 32 and 128 rows at
# positions 191 and 639) under each schedule of SCHEDULES (default, or forced with
# AX_CUDA_DECODE_WARPS / AX_CUDA_DECODE_SPLITS; empty: none), then the whole test_cuda
# when FULL=1 (FULL_FILTER: a --gtest_filter, FULL_TIMEOUT: seconds). Carry .cuda-carry
# (scripts/device/pack.sh with BINS="test_cuda bench_cuda_ops"). Writes
# $OUT/ops_<schedule>.json and the test logs.
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv,noheader | tee "$OUT/gpu.txt"
tests=(env AX_SOURCE_DIR="$ROOT" AX_STORIES_DIR="$CARRY/stories260K" "$BIN/test_cuda")
if [ "${ATTN_TESTS:-1}" = 1 ]; then
  timeout 240 "${tests[@]}" --gtest_filter='*Attention*' > "$OUT/test_attention.log" 2>&1
  echo "attention tests exit $?"
  grep -E "FAILED|Failure|Expected|Which is|PASSED|tests ran" "$OUT/test_attention.log" | head -30
fi
for cfg in ${SCHEDULES-default AX_CUDA_DECODE_WARPS=4 AX_CUDA_DECODE_WARPS=16}; do
  name=$(echo "$cfg" | tr ' =' '_-')
  # shellcheck disable=SC2086
  env ${cfg/default/} timeout 120 "$BIN/bench_cuda_ops" --no-matmuls --reps 100 --json "$OUT/ops_$name.json" \
    > "$OUT/ops_$name.txt" 2>&1
  echo "== $cfg (exit $?)"
  grep -E "attention decode" "$OUT/ops_$name.txt"
done
if [ "${FULL:-0}" = 1 ]; then
  # shellcheck disable=SC2086
  timeout "${FULL_TIMEOUT:-300}" "${tests[@]}" ${FULL_FILTER:-} --gtest_output=json:"$OUT/test_cuda.json" \
    > "$OUT/test_cuda.log" 2>&1
  echo "test_cuda exit $?"
  grep -E "FAILED|Failure|PASSED|tests ran" "$OUT/test_cuda.log" | head -40
fi
