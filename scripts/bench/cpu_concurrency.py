#!/usr/bin/env python3
"""Continuous-batching benchmark: 64 requests of mixed prompt lengths on synth
Qwen3-0.6B (bf16) through one engine at concurrency 1, 4 and 16, on the CPU backend.

    python3 scripts/bench/cpu_concurrency.py [--build build] [--requests 64] [--max-tokens 48]

Checks that every request's greedy tokens are identical at every concurrency, and
writes benchmarks/results/<date>/cpu-concurrency-qwen3-0.6b-bf16.json. Target on a
2-core machine: aggregate decode tok/s at concurrency 16 >= 4x concurrency 1.
Standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--shape", default="qwen3-0.6b")
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--work", default=os.path.join(ROOT, ".bench-work"))
    ap.add_argument("--policy", default="direct", help="decode policy (direct isolates batching)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    bench = os.path.join(args.build, "bin", "ax-engine-bench")
    model_dir = os.path.join(args.work, args.shape + "-bf16")
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        run([bench, "synth-model", "--shape", args.shape, "--dtype", "bf16", "--seed", "0", "--out", model_dir])

    # Mixed prompt lengths (16..192 tokens), deterministic; a quarter share a common
    # 64-token prefix so prefix reuse shows up too.
    rng = random.Random(0)
    shared = [rng.randrange(1000, 100000) for _ in range(64)]
    lines = []
    for i in range(args.requests):
        n = rng.choice([16, 32, 64, 96, 128, 192])
        ids = [rng.randrange(1000, 100000) for _ in range(n)]
        if i % 4 == 0:
            ids = shared + ids
        lines.append({"tokens": ids, "max_tokens": args.max_tokens, "ignore_eos": True})
    os.makedirs(args.work, exist_ok=True)
    prompts = os.path.join(args.work, "concurrency-prompts.jsonl")
    with open(prompts, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")

    rows, outputs = [], {}
    for c in [int(x) for x in args.concurrency.split(",")]:
        out = run([bench, "generate", "--model", model_dir, "--backend", "cpu", "--threads", str(args.threads),
                   "--prompts-file", prompts, "--concurrency", str(c), "--policy", args.policy, "--json"])
        recs = [json.loads(l) for l in out.splitlines() if l.strip()]
        summary = recs[-1]
        per = recs[:-1]
        outputs[c] = [r["output_tokens"] for r in per]
        rows.append({
            "concurrency": c,
            "aggregate_decode_tok_s": summary["aggregate_decode_tok_s"],
            "decode_phase_tok_s": summary["decode_phase_tok_s"],
            "wall_seconds": summary["wall_seconds"],
            "generated_tokens": summary["generated_tokens"],
            "latency_ms_p50": summary["latency_ms_p50"],
            "latency_ms_p95": summary["latency_ms_p95"],
            "latency_ms_p99": summary["latency_ms_p99"],
            "ttft_ms_p50": sorted(r["ttft_ms"] for r in per)[len(per) // 2],
            "itl_ms_p50_median": sorted(r["itl_ms_p50"] for r in per)[len(per) // 2],
            "blocks_used_peak": summary["blocks_used_peak"],
            "preemptions": summary["preemptions"],
            "prefix_hit_tokens": summary["prefix_hit_tokens"],
            "tokens_per_step": summary["tokens_per_step"],
            "route": summary["route"],
        })
        print(f"concurrency {c:>3}: {summary['aggregate_decode_tok_s']:.2f} tok/s overall, "
              f"{summary['decode_phase_tok_s']:.2f} tok/s in pure-decode steps, "
              f"wall {summary['wall_seconds']:.1f} s, p50 latency {summary['latency_ms_p50']:.0f} ms", flush=True)

    base = rows[0]["aggregate_decode_tok_s"]
    base_decode = rows[0]["decode_phase_tok_s"]
    for r in rows:
        r["speedup_vs_concurrency_1"] = r["aggregate_decode_tok_s"] / base if base else 0
        r["decode_phase_speedup_vs_concurrency_1"] = r["decode_phase_tok_s"] / base_decode if base_decode else 0
    first = next(iter(outputs.values()))
    identical = all(o == first for o in outputs.values())
    result = {
        "benchmark": "cpu-concurrency",
        "date": datetime.date.today().isoformat(),
        "commit": run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip(),
        "machine": {"cpu": platform.processor() or "x86_64", "threads": args.threads, "kernel": platform.release()},
        "model": {"shape": args.shape, "dtype": "bf16"},
        "workload": {"policy": args.policy, "requests": args.requests, "prompt_tokens": "16..192 (+64 shared prefix on every 4th)",
                     "max_tokens": args.max_tokens, "sampling": "greedy"},
        "outputs_identical_across_concurrency": identical,
        "target": "aggregate decode tok/s at concurrency 16 >= 4x concurrency 1",
        "metrics": {"aggregate_decode_tok_s": "generated tokens / wall time of the whole run (prefill included)",
                    "decode_phase_tok_s": "tokens made by steps with no prompt rows / the time of those steps"},
        "rows": rows,
    }
    out = args.out or os.path.join(ROOT, "benchmarks", "results", result["date"],
                                   f"cpu-concurrency-{args.shape}-bf16.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("outputs identical across concurrency:", identical)
    print("wrote", out)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
