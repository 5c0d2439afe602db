#!/usr/bin/env bash
# One device call for a tuning round: correctness (test.sh), per-op device times
# (bench_cuda_ops) and the 8B generate benchmark, each with programmatic dependent
# launch on and off (AX_CUDA_PDL). Carry .cuda-carry (scripts/device/pack.sh).
source scripts/device/env.sh
bash scripts/device/test.sh > "$OUT/test_summary.txt" 2>&1; echo "== test.sh exit $?"; tail -4 "$OUT/test_summary.txt"
[ -e "$OUT/kernels_ok" ] || { cat "$OUT/test_summary.txt"; exit 1; }
for pdl in 1 0; do
  AX_CUDA_PDL=$pdl timeout 120 "$BIN/bench_cuda_ops" --reps 200 --json "$OUT/ops_pdl$pdl.json" > "$OUT/ops_pdl$pdl.txt" 2>&1
  echo "== bench_cuda_ops PDL=$pdl exit $?"
done
cat "$OUT/ops_pdl1.txt"
for pdl in 1 0; do
  AX_CUDA_PDL=$pdl TAG=_pdl$pdl HF=${HF:-none} bash scripts/device/bench.sh > /dev/null 2>&1
  echo "== bench PDL=$pdl exit $?"; tail -9 "$OUT/bench_pdl$pdl.log"
done
paste "$OUT/ops_pdl1.txt" "$OUT/ops_pdl0.txt" | awk -F'\t' '{print substr($1,1,58) " | PDL=0: " substr($2,48,11)}' > "$OUT/ops_compare.txt"
