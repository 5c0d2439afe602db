#!/usr/bin/env bash
# One device call: where a 4-bit decode step goes. The synth Qwen3-8B quantized to 4
# bits (group 64) decodes 64 tokens under Nsight Systems (per-kernel totals, with the
# bf16 model beside it) and Nsight Compute looks at a few decode launches of the affine
# GEMV (memory throughput, occupancy, registers, stall reasons).
# Writes $OUT/nsys_{a4,bf16}_kern.txt and $OUT/ncu_affine_details.txt.
# Carry .cuda-carry (scripts/device/pack.sh).
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
[ -e /tmp/q8/config.json ] || timeout 240 "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 \
  --out /tmp/q8 > /dev/null || exit 1
[ -e /tmp/q8_a4/config.json ] || timeout 200 "$BIN/ax-engine-bench" quantize --bits 4 --group-size 64 /tmp/q8 /tmp/q8_a4 \
  > /dev/null || exit 1
echo '{"tokens": [1, 2, 3, 4, 5, 6, 7, 8], "max_tokens": 64}' > /tmp/qp_prompt.jsonl
NSYS=$(ls /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/bin/nsys /usr/bin/nsys 2>/dev/null | head -1)
if [ -n "$NSYS" ]; then
  for m in a4 bf16; do
    dir=/tmp/q8_$m; [ $m = bf16 ] && dir=/tmp/q8
    timeout 150 "$NSYS" profile -o /tmp/qp_$m -f true --cuda-graph-trace node \
        "$BIN/ax-engine-bench" generate --model $dir --backend cuda --prompts-file /tmp/qp_prompt.jsonl \
        --concurrency 1 --policy direct --ignore-eos --no-prefix-cache --ctx-size 256 --json > "$OUT/nsys_$m.log" 2>&1
    "$NSYS" stats -r cuda_gpu_kern_sum -f csv -o "$OUT/nsys_${m}" /tmp/qp_$m.nsys-rep > /dev/null 2>&1
    ls "$OUT"/nsys_${m}* > /dev/null 2>&1 && head -25 "$OUT"/nsys_${m}*kern_sum*.csv | cut -c1-220
  done
else
  echo "no nsys"
fi
NCU=$(ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
timeout 240 "$NCU" --set full --import-source no --clock-control none -k "regex:AffineGemv" --launch-skip 3000 \
  --launch-count 6 -f -o /tmp/ncu_affine "$BIN/ax-engine-bench" generate --model /tmp/q8_a4 --backend cuda \
  --prompts-file /tmp/qp_prompt.jsonl --concurrency 1 --policy direct --ignore-eos --no-prefix-cache --ctx-size 256 \
  > "$OUT/ncu_affine_run.log" 2>&1
echo "ncu exit $?"
"$NCU" -i /tmp/ncu_affine.ncu-rep --page details > "$OUT/ncu_affine_details.txt" 2>&1
grep -E "^  [A-Za-z].*\(|Duration|Memory Throughput|DRAM Throughput|Achieved Occupancy|Registers Per|Block Size|Grid Size|Theoretical Occupancy|Waves Per SM" \
  "$OUT/ncu_affine_details.txt" | head -80
