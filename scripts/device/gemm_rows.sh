#!/usr/bin/env bash
# One device call for the generated-row tensor-core GEMM (issue 15):
#   1. test_cuda, the whole suite (the row GEMM is the default backend's kernel for
#      generated rows; CudaOpsP's bf16_gemv cases keep the GEMV covered), then the row
#      GEMM's tests with its mma.sync kernel and with a 32-k schedule;
#   2. bench_gemm_rows per kernel, GEMV (AX_CUDA_GEMM_ROWS=0), the row GEMM's mma.sync
#      kernel, then its wgmma kernel (the default): Qwen3-8B decode-step matmuls at
#      m = 1 … 256 against the 3.0 TB/s weight-read ceiling;
#   3. aggregate decode at concurrency 1, 8, 32, 64, 128 on the synth Qwen3-8B, 128
#      random prompt tokens + 128 generated each, direct decoding, with the row GEMM,
#      and with the GEMV beside it at c <= GEMV_MAX_C (default 32); checks that every
#      request's greedy ids are the same at every concurrency (row GEMM runs);
#   4. when llama_peer.sh build has run on this warm machine, llama-batched-bench at
#      the same parallel counts, last, in the same call.
# Built here by scripts/device/pack.sh (carry .cuda-carry). Writes $OUT/gemm_rows_*.
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv,noheader | tee "$OUT/gpu.txt"

AX_SOURCE_DIR=${AX_SOURCE_DIR:-$ROOT} AX_STORIES_DIR=$CARRY/stories260K timeout 300 "$BIN/test_cuda" --gtest_filter="${TEST_FILTER:-*}" \
  > "$OUT/gemm_rows_tests.log" 2>&1
echo "test_cuda exit $?"
grep -E '^\[  (PASSED|FAILED) |^\[  FAILED|Failure|Expected|Which is' "$OUT/gemm_rows_tests.log" | head -40
# The row GEMM's other kernel and a schedule of 32-k stages (64-byte swizzle) keep the contract too.
AX_CUDA_GEMM_ROWS_KERNEL=mma timeout 100 "$BIN/test_cuda" --gtest_filter='*GemmRows*' > "$OUT/gemm_rows_tests_mma.log" 2>&1
echo "test_cuda CudaGemmRows, mma.sync kernel: exit $?"
AX_CUDA_GEMM_ROWS_SCHEDULE=16/8/1/64,32/8/2/32,64/8/2/32,128/6/2/32,256/8/1/32 timeout 100 "$BIN/test_cuda" \
  --gtest_filter='*GemmRows*' > "$OUT/gemm_rows_tests_k32.log" 2>&1
echo "test_cuda CudaGemmRows, 32-k schedule: exit $?"

if [ ! -e /tmp/q8/config.json ]; then
  t0=$(date +%s)
  timeout 240 "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 --out /tmp/q8 > /dev/null || exit 1
  echo "synth qwen3-8b: $(( $(date +%s) - t0 )) s"
fi

AX_CUDA_GEMM_ROWS=0 timeout 150 "$BIN/bench_gemm_rows" --json "$OUT/gemm_rows_ops_gemv.json" > "$OUT/ops_gemv.txt" 2>&1
AX_CUDA_GEMM_ROWS_KERNEL=mma timeout 150 "$BIN/bench_gemm_rows" --json "$OUT/gemm_rows_ops_mma.json" > "$OUT/ops_mma.txt" 2>&1
timeout 150 "$BIN/bench_gemm_rows" --json "$OUT/gemm_rows_ops_wgmma.json" > "$OUT/ops_wgmma.txt" 2>&1
paste -d'|' <(cut -c1-72 "$OUT/ops_gemv.txt") <(cut -c28-72 "$OUT/ops_mma.txt") <(cut -c28-81 "$OUT/ops_wgmma.txt") | head -40

python3 - <<'PY'
import json, random
rng = random.Random(1)
with open("/tmp/ax_rows_prompts.jsonl", "w") as f:
    for _ in range(128):
        f.write(json.dumps({"tokens": [rng.randrange(151936) for _ in range(128)], "max_tokens": 128}) + "\n")
PY
: > "$OUT/gemm_rows_concurrency.jsonl"
for c in 1 8 32 64 128; do
  n=$(( c == 1 ? 4 : (c < 64 ? 2 * c : 128) ))
  head -n $n /tmp/ax_rows_prompts.jsonl > /tmp/ax_rows_$c.jsonl
  kernels=gemm_rows; [ $c -le "${GEMV_MAX_C:-32}" ] && kernels="gemv gemm_rows"
  for kernel in $kernels; do
    flag=1; [ $kernel = gemv ] && flag=0
    AX_CUDA_GEMM_ROWS=$flag timeout 150 "$BIN/ax-engine-bench" generate --model /tmp/q8 --backend cuda \
      --prompts-file /tmp/ax_rows_$c.jsonl --concurrency $c --policy direct --ignore-eos --no-prefix-cache --json \
      --ctx-size 320 > /tmp/rows_${kernel}_$c.jsonl 2>/tmp/rows_${kernel}_$c.err
    python3 - "$c" "$kernel" "$n" "$OUT/gemm_rows_concurrency.jsonl" <<'PY'
import json, sys
c, kernel, n, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
lines = [json.loads(l) for l in open(f"/tmp/rows_{kernel}_{c}.jsonl") if l.startswith("{")]
s = [l for l in lines if l.get("summary")]
if not s:
    print(f"c {c} {kernel}: no summary"); sys.exit(0)
s = s[0]; s.update(concurrency=c, kernel=kernel, requests=n)
open(out, "a").write(json.dumps(s) + "\n")
print(f"c {c:3d} {kernel:9s}: aggregate {s['aggregate_decode_tok_s']:8.1f} tok/s, decode phase "
      f"{s.get('decode_phase_tok_s', 0):8.1f} tok/s, wall {s['wall_seconds']:.1f} s")
PY
  done
done
python3 - <<'PY'
import json
# Greedy ids of each request at every concurrency (row GEMM): batch invariance end to end.
ids = {}
for c in (1, 8, 32, 64, 128):
    try:
        rows = [json.loads(l) for l in open(f"/tmp/rows_gemm_rows_{c}.jsonl") if l.startswith("{")]
    except OSError:
        continue
    ids[c] = {r["index"]: r.get("output_tokens") for r in rows if not r.get("summary") and "index" in r}
base = ids.get(128) or {}
for c, v in sorted(ids.items()):
    common = [i for i in v if i in base]
    same = sum(1 for i in common if v[i] == base[i])
    print(f"greedy ids at c {c}: {same}/{len(common)} requests identical to c 128")
PY
[ -x /tmp/llb/bin/llama-batched-bench ] && bash scripts/device/llama_peer.sh bench
