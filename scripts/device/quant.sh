#!/usr/bin/env bash
# One device call for quantized weights (the quantized-weights issue):
#   1. references for the quantized fixtures (numpy dequantization + transformers
#      float64), packed to $OUT/quant_fixtures.tar.gz to commit;
#   2. test_cuda: the affine kernels against kernels/ref, the quantized fixtures, a
#      quantized fixture against the CPU backend;
#   3. (BENCH=1) the synth Qwen3-8B in bf16 quantized by our command to 4 and 8 bits
#      (group 64; quantize time), then batch-1 decode and prefill of each at prompts of
#      128 and 512 tokens x 128 generated, against the copy-bandwidth ceiling
#      (scripts/device/bench.py): $OUT/bench_{bf16,q8,q4}.json.
# Built here by scripts/device/pack.sh (carry .cuda-carry).
#   TESTS=0 skips 1 and 2 (a carry without test_cuda).
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
if [ "${TESTS:-1}" = 1 ]; then
python3 scripts/fixtures/make_quant_models.py --reference --fixtures tests/fixtures/models > "$OUT/quant_fixtures.log" 2>&1
tail -4 "$OUT/quant_fixtures.log"
tar czf "$OUT/quant_fixtures.tar.gz" tests/fixtures/models/tiny-*-q*/reference.json
AX_SOURCE_DIR=$ROOT AX_STORIES_DIR=$CARRY/stories260K timeout 200 "$BIN/test_cuda" \
  --gtest_filter='*CudaAffine*:CudaModels.Quantized*:Quantized/CudaFixture.*' > "$OUT/quant_cuda.log" 2>&1
echo "test_cuda (affine) exit $?"
grep -E '^\[fixture|FAILED|Failure|Expected|Which is|SKIPPED' "$OUT/quant_cuda.log" | head -40
fi
[ "${BENCH:-0}" = 1 ] || exit 0
if [ ! -e /tmp/q8/config.json ]; then
  t0=$(date +%s)
  timeout 240 "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 --out /tmp/q8 > /dev/null || exit 1
  echo "synth qwen3-8b: $(( $(date +%s) - t0 )) s"
fi
for bits in ${QUANT_BITS:-4 8}; do
  if [ ! -e /tmp/q8_a$bits/config.json ]; then
    t0=$(date +%s)
    timeout 200 "$BIN/ax-engine-bench" quantize --bits $bits --group-size 64 /tmp/q8 /tmp/q8_a$bits || exit 1
    echo "quantize $bits-bit: $(( $(date +%s) - t0 )) s"
  fi
done
for m in ${MODELS:-a4 a8 bf16}; do
  dir=/tmp/q8_$m; [ $m = bf16 ] && dir=/tmp/q8
  timeout 200 python3 scripts/device/bench.py --bin "$BIN/ax-engine-bench" --model $dir --out "$OUT/bench_$m.json" \
    --reps 2 --hf none --deadline 150 > "$OUT/bench_$m.log" 2>&1
  echo "== $m (exit $?)"
  grep -v "Loading weights" "$OUT/bench_$m.log" | tail -12
done
