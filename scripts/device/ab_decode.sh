#!/usr/bin/env bash
# Part of a device call: batch-1 greedy decode of the synth Qwen3-8B (/tmp/q8) by two
# builds of ax-engine-bench, alternated A B A B so drift hits both, for an A/B of a
# kernel change in one call. 3 requests of 128 random prompt tokens + 128 generated
# after a warm-up, per run.
#   bash scripts/device/ab_decode.sh BIN_A BIN_B   (paths on the GPU machine)
# Writes $OUT/ab_decode.jsonl (one line per run) and prints each build's median.
set -uo pipefail
source scripts/device/env.sh
[ -e /tmp/q8/config.json ] || { echo "no /tmp/q8: make it first (synth-model --shape qwen3-8b)"; exit 1; }
python3 - > /tmp/ax_ab.jsonl <<'PY'
import json, random
rng = random.Random(3)
for i in range(4):
    n, gen = (16, 8) if i == 0 else (128, 128)
    print(json.dumps({"tokens": [rng.randrange(151936) for _ in range(n)], "max_tokens": gen, "ignore_eos": True}))
PY
: > "$OUT/ab_decode.jsonl"
for round in 1 2; do
  for side in A B; do
    bin=$1
    [ "$side" = B ] && bin=$2
    timeout 200 "$bin" generate --model /tmp/q8 --backend cuda --prompts-file /tmp/ax_ab.jsonl --concurrency 1 \
      --policy direct --no-prefix-cache --json --ctx-size 320 > /tmp/ax_ab_out.jsonl 2>/tmp/ax_ab.err
    python3 - "$side" "$round" "$OUT/ab_decode.jsonl" <<'PY'
import json, sys
side, rnd, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [json.loads(l) for l in open("/tmp/ax_ab_out.jsonl") if l.startswith("{")]
rates = [r["decode_tok_s"] for r in lines if not r.get("summary") and "decode_tok_s" in r][1:]
open(out, "a").write(json.dumps({"build": side, "round": rnd, "decode_tok_s": rates}) + "\n")
PY
  done
done
python3 - "$OUT/ab_decode.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for side in ("A", "B"):
    rates = [r for row in rows if row["build"] == side for r in row["decode_tok_s"]]
    print(f"build {side}: median decode {statistics.median(rates):.1f} tok/s over {len(rates)} requests")
PY
