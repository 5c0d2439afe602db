#!/usr/bin/env bash
# Part of a device call: aggregate throughput of the CUDA backend at concurrency 1, 8
# and 32 on the synth Qwen3-8B that bench.sh makes (/tmp/q8): 32 requests of 128
# random prompt tokens and 128 generated tokens each, direct decoding, continuous
# batching. Writes $OUT/concurrency.jsonl (one summary line per concurrency, from
# `ax-engine-bench generate --json`).
set -uo pipefail
source scripts/device/env.sh
[ -e /tmp/q8/config.json ] || { echo "no /tmp/q8: run scripts/device/bench.sh first"; exit 1; }
python3 - <<'PY'
import json, random
rng = random.Random(1)
with open("/tmp/ax_conc_prompts.jsonl", "w") as f:
    for _ in range(32):
        f.write(json.dumps({"tokens": [rng.randrange(151936) for _ in range(128)], "max_tokens": 128}) + "\n")
PY
: > "$OUT/concurrency.jsonl"
for c in 1 8 32; do
  timeout 200 "$BIN/ax-engine-bench" generate --model /tmp/q8 --backend cuda --prompts-file /tmp/ax_conc_prompts.jsonl \
    --concurrency $c --policy direct --ignore-eos --no-prefix-cache --json --ctx-size 320 > /tmp/conc_$c.jsonl 2>/tmp/conc_$c.err
  python3 - "$c" "$OUT/concurrency.jsonl" <<'PY'
import json, sys
c, out = int(sys.argv[1]), sys.argv[2]
lines = [json.loads(l) for l in open(f"/tmp/conc_{c}.jsonl") if l.startswith("{")]
s = [l for l in lines if l.get("summary")]
if not s:
    print(f"concurrency {c}: no summary"); sys.exit(0)
s = s[0]; s["concurrency"] = c
open(out, "a").write(json.dumps(s) + "\n")
print(f"concurrency {c:2d}: aggregate {s['aggregate_decode_tok_s']:8.1f} tok/s, decode-phase {s.get('decode_phase_tok_s', 0):8.1f} tok/s, wall {s['wall_seconds']:.1f} s")
PY
done
