#!/usr/bin/env python3
"""N-gram speculation vs direct decoding, on the CPU backend (default) or the GPU.

    python3 scripts/bench/spec_ngram.py [--build build] [--reps 3]
    python3 scripts/bench/spec_ngram.py --backend cuda --bench BIN --stories DIR --out F  (GPU machine)

Workloads (8 requests each, concurrency 1 and 8), every row one
`ax-engine-bench generate --compare-policies --rounds REPS --no-prefix-cache` (one
engine per policy: a cold round, then REPS warm rounds alternating direct and ngram,
greedy outputs checked identical in every round; the ratio is the median of the warm
rounds, the cold round's is kept beside it):
  (a) high repetition, demo model: copy/edit a given block of code or text;
  (b) no repetition, demo model: varied short prompts, sampled (T 0.8, top-k 40);
  (c) stories260K (scrambled weights write noise): the lossless / never-slower check.
Writes benchmarks/results/<date>/cpu-spec-ngram.json. Targets: >= 2x direct on (a) at
concurrency 1; >= 0.97x on every (b)/(c) row and at concurrency 8. Standard library only.
With --backend cuda the artifact is cuda-spec-ngram.json (scripts/device/spec.sh).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "models", "ax-demo-qwen3")
STORIES = os.path.join(os.path.dirname(ROOT), "shared", "models", "stories260K")

CODE_BLOCKS = [
    "def read_config(path):\n    with open(path) as f:\n        data = json.load(f)\n    return data\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.append(item)\n",
    "for name in sorted(os.listdir(root)):\n    full = os.path.join(root, name)\n    if os.path.isdir(full):\n        print(name)\n",
    "def parse_args(argv):\n    parser = argparse.ArgumentParser()\n    parser.add_argument('--verbose', action='store_true')\n    return parser.parse_args(argv)\n",
]
TEXT_BLOCKS = [
    "And God said, Let there be light: and there was light. And God saw the light, that it was good.\n",
    "The json module provides an API for converting Python objects to JSON and back again.\n",
    "In the beginning God created the heaven and the earth. And the earth was without form, and void.\n",
    "The socket module gives access to the BSD socket interface, available on all modern Unix systems.\n",
]
FREE_PROMPTS = ["The json module provides", "And the king said unto", "import os\n", "class Parser:\n",
                "The following example shows", "def main():\n", "Blessed are they", "SELECT name FROM"]


def repetition_requests(max_tokens):
    reqs = []
    for i, block in enumerate(CODE_BLOCKS + TEXT_BLOCKS):
        # The block, a marker, and the start of the same block again: continuing means copying.
        head = block.split("\n")[0] + "\n" if i < len(CODE_BLOCKS) else block.split(" ")[0] + " "
        prompt = block + "\n# copy:\n" + block + "\n# copy:\n" + head
        reqs.append({"prompt": prompt, "max_tokens": max_tokens, "ignore_eos": True})
    return reqs


def free_requests(max_tokens):
    return [{"prompt": p, "max_tokens": max_tokens, "ignore_eos": True, "temperature": 0.8, "top_k": 40,
             "seed": 1000 + i} for i, p in enumerate(FREE_PROMPTS)]


def compare(bench, model, reqs, concurrency, args, path):
    with open(path, "w") as f:
        for r in reqs:
            f.write(json.dumps(r) + "\n")
    backend = ["--backend", args.backend] + (["--threads", str(args.threads)] if args.backend == "cpu" else [])
    out = subprocess.run([bench, "generate", "--model", model] + backend +
                         ["--prompts-file", path, "--concurrency", str(concurrency), "--compare-policies",
                          "--rounds", str(args.reps), "--no-prefix-cache", "--json"],
                         capture_output=True, text=True)
    if out.returncode not in (0, 3):
        raise RuntimeError(out.stderr)
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    summaries = [l for l in lines if l.get("summary") and l["round"] > 0]  # the warm rounds
    cmp = [l for l in lines if l.get("compare_policies")][0]
    return summaries, cmp


def gpu_name():
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=None)
    ap.add_argument("--backend", default="cpu", help="cpu or cuda")
    ap.add_argument("--bench", default=None, help="the ax-engine-bench binary (default: BUILD/bin/ax-engine-bench)")
    ap.add_argument("--stories", default=STORIES, help="the stories260K checkpoint directory")
    args = ap.parse_args()
    bench = args.bench or os.path.join(args.build, "bin", "ax-engine-bench")
    stories = args.stories
    work = os.path.join(ROOT, ".bench-work")
    os.makedirs(work, exist_ok=True)
    workloads = [("high-repetition (copy/edit a block)", DEMO, repetition_requests(128)),
                 ("no repetition (sampled, T 0.8 top-k 40)", DEMO, free_requests(128))]
    if os.path.exists(os.path.join(stories, "config.json")):
        workloads.append(("stories260K greedy (noise; lossless check)", stories,
                          [{"prompt": p, "max_tokens": 128, "ignore_eos": True} for p in
                           ["Once upon a time", "Lily and Timmy went to the park", "The little dog was happy",
                            "One day, a big red ball", "A cat sat", "Tom had a toy", "The sun was hot", "Mia ran"]]))
    rows = []
    for name, model, reqs in workloads:
        for c in (1, 8):
            s, cmp = compare(bench, model, reqs, c, args, os.path.join(work, "spec.jsonl"))
            by = {p: [l for l in s if l["policy"] == p] for p in ("direct", "ngram")}
            d_rates = [l["aggregate_decode_tok_s"] for l in by["direct"]]
            n_rates = [l["aggregate_decode_tok_s"] for l in by["ngram"]]
            ratios = cmp["ratios"]
            # decode phase only (first to last token), prefill left out
            phase_ratios = [n["decode_phase_tok_s"] / d["decode_phase_tok_s"] for d, n in zip(by["direct"], by["ngram"])]
            accept = [n["draft_tokens_accepted"] / n["draft_tokens_proposed"] if n["draft_tokens_proposed"] else 0.0
                      for n in by["ngram"]]
            lossless = cmp["lossless"]
            row = {"workload": name, "model": os.path.basename(model), "concurrency": c, "requests": len(reqs),
                   "max_tokens": 128, "reps": args.reps,
                   "direct_tok_s": d_rates, "ngram_tok_s": n_rates, "ratio": ratios,
                   "ratio_median": statistics.median(ratios), "cold_round_ratio": cmp["cold_ratio"],
                   "decode_phase_ratio": phase_ratios, "decode_phase_ratio_median": statistics.median(phase_ratios),
                   "acceptance_rate": accept,
                   "greedy_outputs_identical": lossless}
            rows.append(row)
            print(f"{name:45s} c={c}: direct {statistics.median(d_rates):8.1f} tok/s, "
                  f"ngram {statistics.median(n_rates):8.1f} tok/s, ratio {row['ratio_median']:.2f} "
                  f"(decode phase {row['decode_phase_ratio_median']:.2f}; cold round {cmp['cold_ratio']:.2f}), "
                  f"lossless {lossless}", flush=True)
    name = "cpu-spec-ngram" if args.backend == "cpu" else args.backend + "-spec-ngram"
    result = {
        "benchmark": name,
        "date": datetime.date.today().isoformat(),
        "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "machine": {"processor": platform.processor() or "x86_64", "threads": args.threads,
                    "backend": args.backend, "gpu": gpu_name() if args.backend == "cuda" else None},
"metric": "aggregate tok/s = generated tokens / wall time of the whole batch (prefill included, no prefix "
                  "cache); ratios of warm rounds (each policy's engine served the same batch once before)",
        "targets": {"high_repetition_c1_ratio": 2.0, "other_rows_ratio": 0.97},
        "rows": rows,
    }
    out = args.out or os.path.join(ROOT, "benchmarks", "results", result["date"], name + ".json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    sys.exit(main())
