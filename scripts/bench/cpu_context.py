#!/usr/bin/env python3
"""CPU decode and prefill against the context length, for KV-cache variants of one
binary run alternately: a synth Qwen3-0.6B (bf16 weights), prompts of 128, 512 and
2048 random tokens, plain decoding (no n-gram drafts) of --gen tokens.

    python3 scripts/bench/cpu_context.py [--build build] [--threads 2] [--reps 3]
        [--variants before,kv-bf16-head,default] [--out FILE]

Variants (one binary; the A/B switches are the backend's environment variables):
  default       bf16 KV, head-major; the AVX-512 GEMM and decode attention walk where
                the processor has them
  attn-avx2     the same with the AVX2 decode attention walk (AX_CPU_ATTN_WIDE=0)
  kv-bf16-head  the same KV cache with the AVX2 GEMM (AX_CPU_GEMM_WIDE=0)
  kv-f32-head   --precision f32: f32 KV, head-major, AVX2 GEMM
  before        --precision f32, AX_CPU_KV_HEAD_MAJOR=0, AX_CPU_GEMM_WIDE=0: the f32
                slot-major cache and AVX2 GEMM the CPU backend had before both
Each repetition runs every variant at every prompt before the next repetition, so a
load change on a shared machine falls on all of them. Writes one JSON artifact
(machine, CPU flags, every run, medians and bests) and prints a table. Standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VARIANTS = {
    "default": ([], {}),
    "attn-avx2": ([], {"AX_CPU_ATTN_WIDE": "0"}),
    "kv-bf16-head": ([], {"AX_CPU_GEMM_WIDE": "0"}),
    "kv-f32-head": (["--precision", "f32"], {"AX_CPU_GEMM_WIDE": "0"}),
    "before": (["--precision", "f32"], {"AX_CPU_KV_HEAD_MAJOR": "0", "AX_CPU_GEMM_WIDE": "0"}),
}


def run(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def cpu_info():
    model, flags = platform.processor(), []
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line.split(":", 1)[1].split()
    wanted = ("avx2", "fma", "f16c", "avx512f", "avx512vl", "avx512bw", "avx512_bf16", "avx512_fp16",
              "amx_bf16", "amx_tile")
    return model, [f for f in wanted if f in flags]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--prompts", default="128,512,2048")
    ap.add_argument("--variants", default="before,kv-bf16-head,default")
    ap.add_argument("--shape", default="qwen3-0.6b")
    ap.add_argument("--work", default=os.path.join(ROOT, ".bench-work"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    bench = os.path.join(args.build, "bin", "ax-engine-bench")
    variants = args.variants.split(",")
    prompts = [int(p) for p in args.prompts.split(",")]

    model_dir = os.path.join(args.work, args.shape + "-bf16")
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        run([bench, "synth-model", "--shape", args.shape, "--dtype", "bf16", "--seed", "0", "--out", model_dir])
    rng = random.Random(0)
    ids = {p: [rng.randrange(1000, 100000) for _ in range(p)] for p in prompts}

    runs = []
    for rep in range(args.reps):
        for prompt_len in prompts:
            for name in variants:
                flags, extra_env = VARIANTS[name]
                env = dict(os.environ, **extra_env)
                out = run([bench, "generate", "--model", model_dir, "--backend", "cpu", "--threads",
                           str(args.threads), "--policy", "direct", "--ctx-size", str(prompt_len + args.gen + 16),
                           "--tokens", ",".join(map(str, ids[prompt_len])), "--max-tokens", str(args.gen),
                           "--ignore-eos", "--json"] + flags, env=env)
                r = json.loads(out)
                runs.append({"variant": name, "rep": rep, "prompt_tokens": prompt_len,
                             "decode_tok_s": r["decode_tok_s"], "prefill_tok_s": r["prefill_tok_s"],
                             "output_tokens": r["output_tokens"]})
                print(f"rep {rep} {name:>12} p{prompt_len:<5} prefill {r['prefill_tok_s']:7.1f} "
                      f"decode {r['decode_tok_s']:6.2f}", flush=True)

    rows = []
    for name in variants:
        for prompt_len in prompts:
            mine = [r for r in runs if r["variant"] == name and r["prompt_tokens"] == prompt_len]
            # Best and median: on a shared machine other work only ever slows a run down.
            rows.append({"variant": name, "prompt_tokens": prompt_len,
                         "decode_tok_s_median": statistics.median(r["decode_tok_s"] for r in mine),
                         "decode_tok_s_best": max(r["decode_tok_s"] for r in mine),
                         "prefill_tok_s_median": statistics.median(r["prefill_tok_s"] for r in mine),
                         "prefill_tok_s_best": max(r["prefill_tok_s"] for r in mine),
                         "tokens_identical_across_reps": all(r["output_tokens"] == mine[0]["output_tokens"]
                                                             for r in mine)})
    model, flags = cpu_info()
    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
    result = {
        "benchmark": "cpu-context",
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "machine": {"cpu": model, "cpu_flags": flags, "threads": args.threads, "kernel": platform.release(),
                    "load_average_at_end": os.getloadavg()},
        "model": {"shape": args.shape, "dtype": "bf16"},
        "generated_tokens": args.gen,
        "policy": "direct",
        "rows": rows,
        "runs": [{k: v for k, v in r.items() if k != "output_tokens"} for r in runs],
    }
    out = args.out or os.path.join(ROOT, "benchmarks", "results", result["date"], f"cpu-context-{args.shape}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"{'variant':>12} {'prompt':>6} {'prefill tok/s median/best':>26} {'decode tok/s median/best':>25}")
    for r in rows:
        print(f"{r['variant']:>12} {r['prompt_tokens']:>6} {r['prefill_tok_s_median']:>18.1f} / "
              f"{r['prefill_tok_s_best']:<6.1f} {r['decode_tok_s_median']:>16.2f} / {r['decode_tok_s_best']:<6.2f}")
    print("wrote", out)


if __name__ == "__main__":
    sys.exit(main())
