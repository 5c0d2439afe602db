#!/usr/bin/env bash
# Part of a device call: what the f32 precision mode (--precision f32: f32 activations
# and KV cache, split-bf16 prompt GEMMs) costs against the default bf16 route, batch 1
# on the synth Qwen3-8B (/tmp/q8, made if missing): 3 requests of 512 random prompt
# tokens + 128 generated after a warm-up, per precision, alternated auto f32 auto f32.
# Writes $OUT/precision.json and prints each precision's medians.
set -uo pipefail
source scripts/device/env.sh
if [ ! -e /tmp/q8/config.json ]; then
  timeout 240 "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 --out /tmp/q8 > /dev/null || exit 1
fi
python3 - > /tmp/ax_prec.jsonl <<'PY'
import json, random
rng = random.Random(5)
for i in range(4):
    n, gen = (16, 8) if i == 0 else (512, 128)
    print(json.dumps({"tokens": [rng.randrange(151936) for _ in range(n)], "max_tokens": gen, "ignore_eos": True}))
PY
: > /tmp/ax_prec_rows.jsonl
for round in 1 2; do
  for precision in auto f32; do
    timeout 240 "$BIN/ax-engine-bench" generate --model /tmp/q8 --backend cuda --precision "$precision" \
      --prompts-file /tmp/ax_prec.jsonl --concurrency 1 --policy direct --no-prefix-cache --json --ctx-size 704 \
      > /tmp/ax_prec_out.jsonl 2> /tmp/ax_prec.err || { tail -5 /tmp/ax_prec.err; continue; }
    python3 - "$precision" "$round" <<'PY'
import json, sys
lines = [json.loads(l) for l in open("/tmp/ax_prec_out.jsonl") if l.startswith("{")]
reqs = sorted((r for r in lines if not r.get("summary")), key=lambda r: r["index"])
# Requests run one after another: a request's prefill is from the previous one's end
# to its first token (as scripts/device/bench.py reads it).
prefill = [r["prompt_tokens"] * 1e3 / (r["ttft_ms"] - p["latency_ms"]) for p, r in zip(reqs, reqs[1:])]
open("/tmp/ax_prec_rows.jsonl", "a").write(json.dumps({"precision": sys.argv[1], "round": int(sys.argv[2]),
    "decode_tok_s": [r["decode_tok_s"] for r in reqs[1:]], "prefill_tok_s": prefill,
    "route": reqs[-1].get("route")}) + "\n")
PY
  done
done
python3 - "$OUT/precision.json" <<'PY'
import json, statistics, subprocess, sys
rows = [json.loads(l) for l in open("/tmp/ax_prec_rows.jsonl")]
gpu = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
out = {"gpu": gpu, "model": "synth qwen3-8b bf16", "shape": "prompt 512, generate 128, batch 1", "runs": rows,
       "summary": {}}
for p in ("auto", "f32"):
    d = [x for r in rows if r["precision"] == p for x in r["decode_tok_s"]]
    f = [x for r in rows if r["precision"] == p for x in r["prefill_tok_s"]]
    if d:
        out["summary"][p] = {"decode_tok_s_median": statistics.median(d), "prefill_tok_s_median": statistics.median(f),
                             "requests": len(d)}
        print(f"precision {p}: decode {statistics.median(d):.1f} tok/s, prefill {statistics.median(f):.0f} tok/s "
              f"(medians of {len(d)})")
json.dump(out, open(sys.argv[1], "w"), indent=1)
PY
