#!/usr/bin/env bash
# One device call: where a decode step's GPU time goes, kernel by kernel, in the real
# engine (Nsight Compute, duration only; kernels serialized, so each figure is the
# kernel alone, without the overlap programmatic dependent launch gives). Needs /tmp/q8
# (scripts/device/bench.sh makes it). CONC requests (default 1) of PROMPT tokens (default
# 128) and GEN generated (default 8), all at once; the last GEN - 3 forwards (decode
# steps of every request, after the eager one and the one that records the graph) are
# averaged.
# Writes $OUT/step_kernels.csv (raw) and prints the table. Carry .cuda-carry.
set -uo pipefail
source scripts/device/env.sh
NCU=$(ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
[ -e /tmp/q8/config.json ] || { echo "run scripts/device/bench.sh first (/tmp/q8)"; exit 1; }
CONC=${CONC:-1} GEN=${GEN:-8}
python3 - "${PROMPT:-128}" "$GEN" "$CONC" > /tmp/ax_step_prompts.jsonl <<'PY'
import json, random, sys
rng = random.Random(1)
for _ in range(int(sys.argv[3])):
    print(json.dumps({"tokens": [rng.randrange(150000) for _ in range(int(sys.argv[1]))], "max_tokens": int(sys.argv[2])}))
PY
"$NCU" --metrics gpu__time_duration.sum --csv --clock-control none --log-file "$OUT/step_kernels.csv" \
  "$BIN/ax-engine-bench" generate --model /tmp/q8 --backend cuda --prompts-file /tmp/ax_step_prompts.jsonl \
  --concurrency "$CONC" --no-prefix-cache --policy direct --ignore-eos --json --ctx-size 1024 > "$OUT/step_run.log" 2>&1
echo "ncu exit $?"
python3 - "$OUT/step_kernels.csv" "$GEN" <<'PY'
import csv, re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith('"')]
rows = list(csv.DictReader(lines))
ks = [(r["Kernel Name"], float(r["Metric Value"].replace(",", "")), r["Metric Unit"]) for r in rows if r["Metric Name"] == "gpu__time_duration.sum"]
scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}
ks = [(n, v * scale[u]) for n, v, u in ks]  # -> us
# A greedy forward ends with the argmax of its logit rows.
ends = [i + 1 for i, (n, _) in enumerate(ks) if "Argmax" in n]
fw = [ks[a:b] for a, b in zip([0] + ends[:-1], ends)]
decode = fw[-(int(sys.argv[2]) - 3):]  # after the eager and the recording decode steps
print(f"{len(fw)} forwards; averaging {len(decode)} decode forwards")
agg = {}
for f in decode:
    for n, v in f:
        short = re.sub(r"\(.*", "", re.sub(r"^void ", "", n))[:60]
        a = agg.setdefault(short, [0, 0.0])
        a[0] += 1; a[1] += v
tot = sum(a[1] for a in agg.values()) / len(decode)
print(f"{'kernel':60s} {'per step':>8s} {'avg us':>8s} {'us/step':>9s} {'%':>5s}")
for k, (c, v) in sorted(agg.items(), key=lambda x: -x[1][1]):
    print(f"{k:60s} {c/len(decode):8.0f} {v/c:8.2f} {v/len(decode):9.1f} {100*v/len(decode)/tot:5.1f}")
print(f"sum of kernel times per decode step: {tot:.1f} us")
PY
