#!/usr/bin/env python3
"""CPU generate benchmark: synth Qwen3-0.6B (bf16) on this machine, prompts of 128 and
512 tokens, 128 generated tokens, 3 repetitions each, beside the machine's measured
memory-read bandwidth, so decode is reported as a fraction of its ceiling.

    python3 scripts/bench/cpu_generate.py [--build build] [--threads 2] [--reps 3]

Needs build/bin/ax-engine-bench and build/bin/ax-kernel-bench (make bench). Writes
benchmarks/results/<date>/cpu-qwen3-0.6b-bf16.json and prints a table. Standard
library only.
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


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def weight_bytes_per_token(model_dir):
    """Bytes of weights one decode step reads: every matrix once (the tied embedding
    is read whole as lm_head; its row gather for the input token is negligible)."""
    doc = json.loads(run([BENCH, "doctor", "--model", model_dir, "--json"]))
    return doc["model"]["weight_bytes"], doc


def kv_bytes_per_token_read(cfg, context):
    # f32 K and V of every layer for `context` cached tokens.
    return 2 * cfg["num_hidden_layers"] * cfg["num_key_value_heads"] * cfg["head_dim"] * 4 * context


def main():
    global BENCH
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shape", default="qwen3-0.6b")
    ap.add_argument("--work", default=os.path.join(ROOT, ".bench-work"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    BENCH = os.path.join(args.build, "bin", "ax-engine-bench")
    kbench = os.path.join(args.build, "bin", "ax-kernel-bench")

    model_dir = os.path.join(args.work, args.shape + "-bf16")
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        run([BENCH, "synth-model", "--shape", args.shape, "--dtype", "bf16", "--seed", "0", "--out", model_dir])
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    wbytes, doctor = weight_bytes_per_token(model_dir)

    bw_path = os.path.join(args.work, "membw.json")
    run([kbench, "--quick", "--threads", str(args.threads), "--out", bw_path])
    with open(bw_path) as f:
        kb = json.load(f)
    bw = {"read_gb_per_s_ceiling": kb["ceilings"]["read_gb_per_s_ceiling"],
          "fma_peak_gflops_measured_wall": kb["ceilings"]["fma_peak_gflops_measured_wall"],
          "source": "ax-kernel-bench --quick (best of a plain and a 4-stream prefetched read loop)"}
    read_bw = bw["read_gb_per_s_ceiling"] * 1e9

    rng = random.Random(0)
    rows = []
    for prompt_len in (128, 512):
        ids = [rng.randrange(1000, 100000) for _ in range(prompt_len)]
        reps = []
        for _ in range(args.reps):
            # Plain decoding (no n-gram drafts): this measures the forward pass itself.
            out = run([BENCH, "generate", "--model", model_dir, "--backend", "cpu", "--threads", str(args.threads),
                       "--policy", "direct",
                       "--tokens", ",".join(map(str, ids)), "--max-tokens", "128", "--ignore-eos", "--json"])
            reps.append(json.loads(out))
        decode = [r["decode_tok_s"] for r in reps]
        prefill = [r["prefill_tok_s"] for r in reps]
        avg_ctx = prompt_len + 64
        bytes_tok = wbytes + kv_bytes_per_token_read(cfg, avg_ctx)
        ceiling = read_bw / bytes_tok
        ceiling_w = read_bw / wbytes
        rows.append({
            "prompt_tokens": prompt_len, "generated_tokens": 128, "reps": args.reps,
            "decode_tok_s": decode, "decode_tok_s_median": statistics.median(decode),
            "prefill_tok_s": prefill, "prefill_tok_s_median": statistics.median(prefill),
            "bytes_per_token_weights": wbytes, "bytes_per_token_with_kv": bytes_tok,
            "ceiling_tok_s_weights_only": ceiling_w, "ceiling_tok_s_with_kv": ceiling,
            "fraction_of_ceiling_weights_only": statistics.median(decode) / ceiling_w,
            "fraction_of_ceiling_with_kv": statistics.median(decode) / ceiling,
            "route": reps[0]["route"],
            "policy": reps[0]["policy"],
            "tokens_identical_across_reps": all(r["output_tokens"] == reps[0]["output_tokens"] for r in reps),
        })

    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
    result = {
        "benchmark": "cpu-generate",
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "machine": {"cpu": cpu_model(), "threads": args.threads, "kernel": platform.release()},
        "model": {"shape": args.shape, "dtype": "bf16", "parameters": doctor["model"]["parameters"],
                  "weight_bytes": wbytes},
        "ceilings": bw,
        "targets": {"decode_fraction_of_ceiling": 0.80, "decode_tok_s": 18, "prefill_tok_s_at_512": 150},
        "rows": rows,
    }
    out = args.out or os.path.join(ROOT, "benchmarks", "results", result["date"], f"cpu-{args.shape}-bf16.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"memory read bandwidth: {read_bw / 1e9:.1f} GB/s; weights {wbytes / 1e9:.3f} GB/token")
    print(f"{'prompt':>6} {'prefill tok/s':>14} {'decode tok/s':>13} {'ceiling':>8} {'fraction':>9}")
    for r in rows:
        print(f"{r['prompt_tokens']:>6} {r['prefill_tok_s_median']:>14.1f} {r['decode_tok_s_median']:>13.2f} "
              f"{r['ceiling_tok_s_with_kv']:>8.2f} {r['fraction_of_ceiling_with_kv']:>9.2f}")
    print("wrote", out)


if __name__ == "__main__":
    sys.exit(main())
