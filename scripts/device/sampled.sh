#!/usr/bin/env bash
# Part of a device call: batch-1 decode of the synth Qwen3-8B (/tmp/q8, made by
# scripts/device/bench.sh) under three sampling settings, each read back its own way:
#   greedy                     -> argmax ids (Model::ForwardArgmax)
#   T 0.6, top-k 20, top-p 0.95 -> 64 candidates per row (Model::ForwardTop, SampleTop)
#   T 0.6, top-p 0.95 alone     -> 64 candidates and the row's mass (SampleTopMass);
#                                  the logits when the nucleus is wider (a random model)
#   T 0.3, top-p 0.95 alone     -> the same at a temperature that narrows the nucleus
#   greedy, repetition 1.1      -> argmax ids of logits penalised on the device
#   T 0.6, top-k 20, top-p 0.95, frequency 0.5 -> 64 candidates of penalised logits
# 3 requests of 128 random prompt tokens + 128 generated each (after a warm-up request).
# Settings ending in _host run with AX_SAMPLE_ON_HOST=1: every step reads logits and
# samples on the host (the A/B baseline of the same build).
# Writes $OUT/sampled.jsonl (one summary per setting). Carry .cuda-carry.
set -uo pipefail
source scripts/device/env.sh
[ -e /tmp/q8/config.json ] || { echo "no /tmp/q8: run scripts/device/bench.sh first"; exit 1; }
: > "$OUT/sampled.jsonl"
for name in greedy topk20_topp095 topk20_topp095_host topp095 topp095_t03 topp095_t03_host greedy_rep11 \
  greedy_rep11_host topk20_freq05 topk20_freq05_host; do
  host=0
  [[ $name == *_host ]] && host=1
  python3 - "${name%_host}" > /tmp/ax_sampled.jsonl <<'PY'
import json, random, sys
name = sys.argv[1]
params = {"greedy": {}, "topk20_topp095": {"temperature": 0.6, "top_k": 20, "top_p": 0.95},
          "topp095": {"temperature": 0.6, "top_p": 0.95},
          "topp095_t03": {"temperature": 0.3, "top_p": 0.95},
          "greedy_rep11": {"temperature": 0.0, "repetition_penalty": 1.1},
          "topk20_freq05": {"temperature": 0.6, "top_k": 20, "top_p": 0.95, "frequency_penalty": 0.5}}[name]
rng = random.Random(2)
for i in range(4):
    n, gen = (16, 8) if i == 0 else (128, 128)
    print(json.dumps({"tokens": [rng.randrange(151936) for _ in range(n)], "max_tokens": gen, "ignore_eos": True,
                      "seed": 100 + i, **params}))
PY
  AX_SAMPLE_ON_HOST=$host timeout 200 "$BIN/ax-engine-bench" generate --model /tmp/q8 --backend cuda --prompts-file /tmp/ax_sampled.jsonl \
    --concurrency 1 --policy direct --no-prefix-cache --json --ctx-size 320 > /tmp/ax_sampled_out.jsonl 2>/tmp/ax_sampled.err
  python3 - "$name" "$OUT/sampled.jsonl" <<'PY'
import json, statistics, sys
name, out = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open("/tmp/ax_sampled_out.jsonl") if l.startswith("{")]
reqs = [l for l in lines if not l.get("summary")][1:]  # skip the warm-up
rates = [r["decode_tok_s"] for r in reqs if "decode_tok_s" in r]
summary = next((l for l in lines if l.get("summary")), {})
row = {"setting": name, "decode_tok_s": rates, "median": statistics.median(rates) if rates else None,
       "steps": summary.get("steps"), "steps_reading_logits": summary.get("steps_reading_logits")}
open(out, "a").write(json.dumps(row) + "\n")
print(f"{name:16s} decode tok/s {row['median']}  steps reading logits {row['steps_reading_logits']}/{row['steps']}")
PY
done
