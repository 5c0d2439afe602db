#!/usr/bin/env bash
# The closing device call of a round: tests (test.sh, incl. the fallback paths), per-op
# times (bench_cuda_ops) and the 8B benchmark with the Hugging Face peers (bench.sh),
# leaving at most 8 files in $OUT (the GPU machine's limit on returned files): the artifact, logs, and
# everything else in logs.tar.gz. Carry .cuda-carry (scripts/device/pack.sh).
source scripts/device/env.sh
bash scripts/device/test.sh > "$OUT/test_summary.txt" 2>&1; echo "== test.sh exit $?"; cat "$OUT/test_summary.txt" | tail -25
if [ -e "$OUT/kernels_ok" ]; then
  timeout 120 "$BIN/bench_cuda_ops" --reps 200 --json "$OUT/ops.json" > "$OUT/ops.txt" 2>&1; echo "== bench_cuda_ops exit $?"
  cat "$OUT/ops.txt"
  HF=${HF:-eager,static+compile} DEADLINE=${DEADLINE:-120} BENCH_TIMEOUT=${BENCH_TIMEOUT:-330} bash scripts/device/bench.sh
  echo "== bench.sh exit $?"
else
  echo "== kernels failed: no benchmark"
fi
cd "$OUT" && tar czf logs.tar.gz --remove-files $(ls | grep -vE '^(bench\.json|bench\.log|ops\.json|ops\.txt|test_summary\.txt|test_cuda\.log|gpu\.txt)$') 2>/dev/null
ls "$OUT"
