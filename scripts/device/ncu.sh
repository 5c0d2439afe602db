#!/usr/bin/env bash
# One device call: Nsight Compute on one kernel of bench_cuda_ops (Qwen3-8B shapes).
#   usage: bash scripts/device/ncu.sh KERNEL_REGEX [LAUNCH_SKIP] [COUNT] [TAG]
# Writes $OUT/ncu_<name><TAG>_details.txt (every section) and _sass.csv (per-instruction
# warp-stall samples). Clocks stay at the boost clock (--clock-control none), so the
# durations compare with bench_cuda_ops. Carry .cuda-carry (scripts/device/pack.sh).
set -uo pipefail
source scripts/device/env.sh
NCU=$(ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
re=$1 skip=${2:-10} count=${3:-1}
name=$(echo "$re" | tr -c 'A-Za-z0-9_\n' '_')${4:-}
"$NCU" --set full --import-source no --clock-control none -k "regex:$re" --launch-skip "$skip" \
  --launch-count "$count" -f -o "/tmp/ncu_$name" "$BIN/bench_cuda_ops" --reps 20 > "$OUT/ncu_${name}_run.log" 2>&1
echo "ncu exit $?"
"$NCU" -i "/tmp/ncu_$name.ncu-rep" --page details > "$OUT/ncu_${name}_details.txt" 2>&1
"$NCU" -i "/tmp/ncu_$name.ncu-rep" --page source --csv --print-source sass > "$OUT/ncu_${name}_sass.csv" 2>&1
cp "/tmp/ncu_$name.ncu-rep" "$OUT/" 2>/dev/null || true
