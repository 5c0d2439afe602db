#!/usr/bin/env bash
# Issue 15's serving benchmark on the GPU machine, one call: the synth Qwen3-8B (bf16),
# random prompts of each length in PROMPTS (default 128) + 128 generated tokens, direct
# decoding, at each concurrency in CONCS (default 1 8 32 64 128). Per run: aggregate and
# decode-phase tok/s, TTFT and ITL p50/p99, KV blocks in use, and a decode step split
# into the forward (launches, device, read-back) and the engine's host work around it.
# Checks that every request's greedy ids are the same at every concurrency. Then, when
# llama_peer.sh build has run on this warm machine, llama-batched-bench at the same
# parallel counts. EXTRA: more ax-engine-bench generate flags (e.g. --kv-dtype fp8).
# Built here by scripts/device/pack.sh (carry .cuda-carry). Writes $OUT/serving.jsonl.
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv,noheader | tee "$OUT/gpu.txt"
PROMPTS=${PROMPTS:-128} CONCS=${CONCS:-1 8 32 64 128} GEN=${GEN:-128}

if [ ! -e /tmp/q8/config.json ]; then
  t0=$(date +%s)
  timeout 240 "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 --out /tmp/q8 > /dev/null || exit 1
  echo "synth qwen3-8b: $(( $(date +%s) - t0 )) s"
fi

: > "$OUT/serving.jsonl"
for p in $PROMPTS; do
  python3 - "$p" "$GEN" <<'PY'
import json, random, sys
p, gen = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(1)
with open(f"/tmp/ax_serving_{p}.jsonl", "w") as f:
    for _ in range(256):
        f.write(json.dumps({"tokens": [rng.randrange(151936) for _ in range(p)], "max_tokens": gen}) + "\n")
PY
  for c in $CONCS; do
    # Twice the concurrency in requests (the batch refills once), 4 at c1.
    n=$(( c == 1 ? 4 : (2 * c > 256 ? 256 : 2 * c) ))
    head -n $n /tmp/ax_serving_$p.jsonl > /tmp/ax_serving_req.jsonl
    ctx=$(( p + GEN + 64 ))
    # shellcheck disable=SC2086
    timeout 300 "$BIN/ax-engine-bench" generate --model /tmp/q8 --backend cuda --prompts-file /tmp/ax_serving_req.jsonl \
      --concurrency "$c" --policy direct --ignore-eos --no-prefix-cache --json --ctx-size $ctx ${EXTRA:-} \
      > /tmp/serving_${p}_$c.jsonl 2> /tmp/serving_${p}_$c.err || { echo "p $p c $c failed"; tail -5 /tmp/serving_${p}_$c.err; }
    python3 - "$p" "$c" "$n" "$OUT/serving.jsonl" <<'PY'
import json, sys
p, c, n, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = [json.loads(l) for l in open(f"/tmp/serving_{p}_{c}.jsonl") if l.startswith("{")]
s = [l for l in lines if l.get("summary")]
if not s:
    print(f"p {p} c {c}: no summary"); sys.exit(0)
s = s[0]; s.update(prompt_tokens=p, concurrency=c, requests=n)
open(out, "a").write(json.dumps(s) + "\n")
print(f"p {p:3d} c {c:3d}: aggregate {s['aggregate_decode_tok_s']:8.1f}, decode phase {s['decode_phase_tok_s']:8.1f} tok/s;"
      f" step {s['decode_step_ms']:6.2f} ms = forward {s['decode_forward_ms']:6.2f} + host {s['decode_host_ms']:5.2f}"
      f" ({s['decode_steps_replayed']}/{s['decode_steps']} replayed); TTFT p50/p99 {s['ttft_ms_p50']:.0f}/{s['ttft_ms_p99']:.0f} ms,"
      f" ITL p50/p99 {s['itl_ms_p50']:.1f}/{s['itl_ms_p99']:.1f} ms; blocks peak {s['blocks_used_peak']}/{s['blocks_total']}")
PY
  done
  python3 - "$p" $CONCS <<'PY'
import json, sys
p, concs = int(sys.argv[1]), [int(c) for c in sys.argv[2:]]
ids = {}
for c in concs:
    try:
        rows = [json.loads(l) for l in open(f"/tmp/serving_{p}_{c}.jsonl") if l.startswith("{")]
    except OSError:
        continue
    ids[c] = {r["index"]: r.get("output_tokens") for r in rows if not r.get("summary") and "index" in r}
if ids:
    ref_c = max(ids)
    for c, v in sorted(ids.items()):
        common = [i for i in v if i in ids[ref_c]]
        same = sum(1 for i in common if v[i] == ids[ref_c][i])
        print(f"p {p}: greedy ids at c {c}: {same}/{len(common)} requests identical to c {ref_c}")
PY
done
[ -x /tmp/llb/bin/llama-batched-bench ] && NPL=$(echo $CONCS | tr ' ' ,) bash scripts/device/llama_peer.sh bench
exit 0
