#!/usr/bin/env python3
"""Batch-1 generate benchmark on the GPU machine, one JSON artifact.

Measures, in one process tree on one card:
  1. device-to-device copy bandwidth (torch, 2 GiB, bytes read + written), the
     memory ceiling every decode row is divided by;
  2. ax-engine-bench generate --backend cuda on a synth model, prompts of 128 and 512
     random token ids x 128 generated tokens x N repetitions, one engine (one load),
     requests one at a time (concurrency 1, no prefix cache, direct decode);
  3. optionally llama.cpp's llama-bench on the GGUF of the same weights (--llama-bench,
     --gguf): prefill at each prompt length, decode of --gen tokens at that depth;
  4. optionally the Hugging Face peer on the same shapes: transformers eager, and
     static cache + torch.compile.
The decode ceiling divides the copy bandwidth by the bytes one batch-1 decode step
reads (model_bytes: no gathered embedding rows, only the routed share of MoE experts).
Writes --out (JSON: GPU, bandwidth, every row with its fraction of the ceiling) and
prints a table last.

Prefill of request i in the batch run = ttft_i - latency_(i-1): all requests are
submitted at once and run one after the other, so request i starts when i-1 ends.
"""
import argparse
import datetime
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import time

DESIGN_BYTES_PER_TOKEN = 16.4e9  # Qwen3-8B bf16 incl. the embedding (issue 7's ceiling)


def log(*a):
    print(*a, flush=True)


def copy_bandwidth():
    import torch
    n = 2 << 30
    x = torch.randint(0, 255, (n,), dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    times = []
    for _ in range(20):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        y.copy_(x)
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / 1e3)
    name = torch.cuda.get_device_name()
    del x, y
    torch.cuda.empty_cache()
    return name, 2 * n / statistics.median(times)


def text_config(cfg):
    """The text model's config: a multimodal config.json nests it under text_config."""
    return cfg.get("text_config") or cfg


def model_bytes(model_dir, cfg):
    """(all tensor bytes, bytes a batch-1 decode step reads).

    Read per step: every tensor, except what is gathered one row per token: the token
    embedding when an lm_head is stored (tied: the embedding is read whole as the lm_head)
    and Gemma's per-layer-input embeddings (embed_tokens_per_layer). MoE experts count
    top_k / n_experts of their bytes (the routed ones); routers count whole.
    """
    text = text_config(cfg)
    n_experts = text.get("num_experts") or text.get("num_local_experts") or 0
    top_k = text.get("top_k_experts") or text.get("num_experts_per_tok") or 0
    expert_share = top_k / n_experts if n_experts and top_k else 1.0
    total, read, embed, has_lm_head = 0, 0.0, 0, False
    for f in sorted(os.listdir(model_dir)):
        if not f.endswith(".safetensors"):
            continue
        with open(os.path.join(model_dir, f), "rb") as fh:
            hlen = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(hlen))
        for name, t in header.items():
            if name == "__metadata__":
                continue
            nb = t["data_offsets"][1] - t["data_offsets"][0]
            total += nb
            if "embed_tokens_per_layer." in name:  # gathered
                continue
            if ".embed_tokens." in name:  # .weight (+ .scales, .biases quantized)
                embed += nb
                continue
            if name.endswith("lm_head.weight"):
                has_lm_head = True
            read += nb * (expert_share if ".experts." in name else 1.0)
    return total, int(read + (0 if has_lm_head else embed))


def run_ax(args, vocab):
    rng = random.Random(0)
    reqs = [{"tokens": [rng.randrange(vocab) for _ in range(16)], "max_tokens": 8}]  # warm-up
    shapes = []
    for p in args.prompts:
        for r in range(args.reps):
            reqs.append({"tokens": [rng.randrange(vocab) for _ in range(p)], "max_tokens": args.gen})
            shapes.append((p, r))
    path = "/tmp/ax_bench_prompts.jsonl"
    with open(path, "w") as fh:
        for r in reqs:
            fh.write(json.dumps(r) + "\n")
    cmd = [args.bin, "generate", "--model", args.model, "--backend", args.backend, "--prompts-file", path,
           "--concurrency", "1", "--no-prefix-cache", "--policy", "direct", "--ignore-eos", "--json",
           "--ctx-size", str(max(args.prompts) + args.gen + 64)]
    log("running:", " ".join(cmd))
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.ax_timeout)
    wall = time.time() - t0
    if proc.returncode != 0:
        log(proc.stderr[-4000:])
        raise RuntimeError(f"ax-engine-bench exited {proc.returncode}: {proc.stderr[-1500:]}")
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    rows_json = [l for l in lines if not l.get("summary")]
    summary = [l for l in lines if l.get("summary")][0]
    rows_json.sort(key=lambda j: j["index"])
    rows = []
    for i, (p, r) in enumerate(shapes, start=1):
        j, prev = rows_json[i], rows_json[i - 1]
        prefill_s = (j["ttft_ms"] - prev["latency_ms"]) / 1e3
        rows.append({"engine": "ax-engine", "backend": args.backend, "prompt_tokens": j["prompt_tokens"],
                     "generated_tokens": j["completion_tokens"], "rep": r,
                     "decode_tok_s": j["decode_tok_s"], "prefill_tok_s": p / prefill_s if prefill_s > 0 else None,
                     "prefill_ms": prefill_s * 1e3, "itl_ms_p50": j["itl_ms_p50"],
                     "route": j.get("route")})
    return rows, {"process_wall_s": wall, "generate_wall_s": summary["wall_seconds"],
                  "load_and_startup_s": wall - summary["wall_seconds"], "summary": summary}


def run_hf(args, vocab, mode):
    import torch
    from transformers import AutoModelForCausalLM
    t0 = time.time()
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16, device_map="cuda")
    model.eval()
    load_s = time.time() - t0
    if mode == "static+compile":
        model.generation_config.cache_implementation = "static"
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
    rng = random.Random(1)
    rows = []
    for p in args.prompts:
        for r in range(args.hf_reps + (1 if mode != "eager" else 0)):  # compile: first run warms up
            ids = torch.tensor([[rng.randrange(vocab) for _ in range(p)]], device="cuda")
            kw = dict(do_sample=False, pad_token_id=0)
            with torch.no_grad():
                torch.cuda.synchronize()
                t = time.time()
                model.generate(ids, max_new_tokens=1, min_new_tokens=1, **kw)
                torch.cuda.synchronize()
                prefill = time.time() - t
                t = time.time()
                out = model.generate(ids, max_new_tokens=args.gen, min_new_tokens=args.gen, **kw)
                torch.cuda.synchronize()
                total = time.time() - t
            if mode != "eager" and r == 0:
                continue
            n = out.shape[1] - p
            rows.append({"engine": "transformers", "mode": mode, "prompt_tokens": p, "generated_tokens": n,
                         "rep": r, "prefill_tok_s": p / prefill, "prefill_ms": prefill * 1e3,
                         "decode_tok_s": (n - 1) / max(total - prefill, 1e-9)})
            log(f"  hf {mode} p{p} rep {r}: decode {rows[-1]['decode_tok_s']:.1f} tok/s")
    del model
    torch.cuda.empty_cache()
    return rows, load_s


def run_llama(args, remaining_s):
    """llama.cpp's llama-bench on the GGUF of the same weights: all layers on the GPU,
    flash attention on, prefill of each prompt length (-p P -n 0) and decode of --gen
    tokens after P tokens of context (-p 0 -n GEN -d P), --reps repetitions each. One
    row per prompt length with both rates (llama-bench's mean over repetitions)."""
    base = [args.llama_bench, "-m", args.gguf, "-ngl", "99", "-fa", "on", "-r", str(args.reps), "-o", "json"]
    if args.llama_threads:
        base += ["-t", str(args.llama_threads)]
    lengths = ",".join(str(p) for p in args.prompts)
    results, notes = [], []
    for what, extra in (("prefill", ["-p", lengths, "-n", "0"]),
                        ("decode", ["-p", "0", "-n", str(args.gen), "-d", lengths])):
        timeout = remaining_s()
        if timeout < 10:
            notes.append(f"llama.cpp {what} skipped: past the deadline")
            continue
        cmd = base + extra
        log("running:", " ".join(cmd))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            notes.append(f"llama.cpp {what} timed out after {timeout:.0f} s")
            continue
        if proc.returncode != 0:
            notes.append(f"llama.cpp {what} exited {proc.returncode}: {proc.stderr[-1500:]}")
            continue
        results += json.loads(proc.stdout)
    rows = []
    for p in args.prompts:
        pf = [r for r in results if r["n_prompt"] == p and r["n_gen"] == 0]
        dec = [r for r in results if r["n_prompt"] == 0 and r["n_gen"] == args.gen and r.get("n_depth", 0) == p]
        if not pf and not dec:
            continue
        row = {"engine": "llama.cpp", "prompt_tokens": p, "generated_tokens": args.gen, "rep": 0,
               "reps": args.reps, "prefill_tok_s": pf[0]["avg_ts"] if pf else None,
               "decode_tok_s": dec[0]["avg_ts"] if dec else None}
        if pf:
            row["prefill_ms"] = p / pf[0]["avg_ts"] * 1e3
            row["prefill_tok_s_samples"] = pf[0].get("samples_ts")
        if dec:
            row["decode_tok_s_samples"] = dec[0].get("samples_ts")
        rows.append(row)
        log(f"  llama.cpp p{p}: prefill {row['prefill_tok_s'] or 0:.0f} tok/s, decode {row['decode_tok_s'] or 0:.1f} tok/s")
    meta = {k: results[0].get(k) for k in ("build_commit", "build_number", "backends", "gpu_info", "cpu_info",
                                          "model_type", "model_size", "model_n_params", "n_threads", "n_ubatch",
                                          "n_batch", "type_k", "type_v", "flash_attn")} if results else {}
    return rows, meta, notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--print", dest="print_only", help="print the table of an artifact and exit")
    ap.add_argument("--bin")
    ap.add_argument("--model")
    ap.add_argument("--out")
    ap.add_argument("--prompts", type=int, nargs="+", default=[128, 512])
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--hf", default="eager", help="comma list of eager,static+compile, or none")
    ap.add_argument("--hf-reps", type=int, default=1)
    ap.add_argument("--deadline", type=float, default=240, help="skip peers once this many seconds have passed")
    ap.add_argument("--ax-timeout", type=float, default=240)
    ap.add_argument("--backend", default="cuda", help="cpu: a dry run of this script without a GPU")
    ap.add_argument("--llama-bench", help="llama.cpp's llama-bench: adds llama.cpp rows (needs --gguf)")
    ap.add_argument("--gguf", help="the GGUF of --model's weights (llama.cpp's convert_hf_to_gguf.py)")
    ap.add_argument("--llama-threads", type=int, default=0, help="llama-bench -t (0: its default)")
    ap.add_argument("--no-ax", action="store_true", help="skip our engine (peers only)")
    args = ap.parse_args()
    if args.print_only:
        return print_table(json.load(open(args.print_only)))
    t_start = time.time()

    gpu, bw = copy_bandwidth() if args.backend == "cuda" else ("(dry run, no GPU)", 3.01e12)
    if bool(args.llama_bench) != bool(args.gguf):
        ap.error("--llama-bench and --gguf go together")
    with open(os.path.join(args.model, "config.json")) as fh:
        cfg = json.load(fh)
    total_bytes, read_bytes = model_bytes(args.model, cfg)
    text = text_config(cfg)
    vocab = text["vocab_size"]
    ceiling_design = bw / DESIGN_BYTES_PER_TOKEN
    ceiling_strict = bw / read_bytes
    log(f"GPU {gpu}; copy {bw / 1e12:.3f} TB/s; weights {total_bytes / 1e9:.2f} GB, read per decode step "
        f"{read_bytes / 1e9:.2f} GB; ceiling {ceiling_design:.1f} tok/s (16.4 GB/token) / "
        f"{ceiling_strict:.1f} tok/s (bytes actually read)")
    art = {"date": datetime.date.today().isoformat(), "gpu": gpu, "copy_bandwidth_bytes_s": bw,
           "model": {"dir": args.model, "config": {k: cfg.get(k, text.get(k)) for k in (
               "architectures", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
               "num_key_value_heads", "head_dim", "vocab_size", "global_head_dim", "num_global_key_value_heads",
               "num_kv_shared_layers", "hidden_size_per_layer_input", "attention_k_eq_v", "enable_moe_block",
               "num_experts", "top_k_experts", "num_experts_per_tok", "moe_intermediate_size", "sliding_window")
               if k in cfg or k in text}, "weight_bytes": total_bytes,
               "bytes_read_per_decode_step": read_bytes},
           "ceiling_tok_s": {"design_16.4GB": ceiling_design, "strict_bytes_read": ceiling_strict},
           "shapes": {"prompts": args.prompts, "generated": args.gen, "reps": args.reps, "batch": 1},
           "backend": args.backend, "rows": [], "notes": []}

    def save():
        for r in art["rows"]:
            d = r["decode_tok_s"] or 0
            r["fraction_of_ceiling"] = d / ceiling_design
            r["fraction_of_strict_ceiling"] = d / ceiling_strict
        with open(args.out, "w") as fh:
            json.dump(art, fh, indent=1)

    if not args.no_ax:
        try:
            rows, meta = run_ax(args, vocab)
            art["ax_run"] = meta
            art["rows"] += rows
        except Exception as e:  # the peers' rows still come back
            art["notes"].append(f"ax-engine failed: {type(e).__name__}: {e}")
        save()
    if args.llama_bench:
        remaining = lambda: args.deadline - (time.time() - t_start)  # noqa: E731
        try:
            ll_rows, ll_meta, ll_notes = run_llama(args, remaining)
            art["rows"] += ll_rows
            art["llama_cpp"] = dict(ll_meta, gguf=args.gguf, gguf_bytes=os.path.getsize(args.gguf))
            art["notes"] += ll_notes
        except Exception as e:  # a peer failing must not lose our rows
            art["notes"].append(f"llama.cpp failed: {type(e).__name__}: {e}")
        save()
    for mode in [m for m in args.hf.split(",") if m and m != "none"]:
        if time.time() - t_start > args.deadline:
            art["notes"].append(f"transformers {mode} skipped: past the {args.deadline:.0f} s deadline")
            continue
        try:
            hf_rows, load_s = run_hf(args, vocab, mode)
            art["rows"] += hf_rows
            art["notes"].append(f"transformers {mode}: model load {load_s:.1f} s")
        except Exception as e:  # a peer failing must not lose our rows
            art["notes"].append(f"transformers {mode} failed: {type(e).__name__}: {e}")
        save()
    save()
    print_table(art)


def print_table(art):
    bw, ceiling_design = art["copy_bandwidth_bytes_s"], art["ceiling_tok_s"]["design_16.4GB"]
    log(f"\n{'engine':<28} {'prompt':>6} {'rep':>3} {'prefill tok/s':>13} {'decode tok/s':>12} {'of ceiling':>10}")
    for r in art["rows"]:
        name = r["engine"] + ("/" + r["mode"] if "mode" in r else "")
        pf = r["prefill_tok_s"] or 0
        log(f"{name:<28} {r['prompt_tokens']:>6} {r['rep']:>3} {pf:>13.0f} {r['decode_tok_s'] or 0:>12.1f} "
            f"{r['fraction_of_ceiling'] * 100:>9.1f}%")
    log(f"ceiling {ceiling_design:.1f} tok/s at {bw / 1e12:.3f} TB/s; "
        f"load+startup {art.get('ax_run', {}).get('load_and_startup_s', 0):.1f} s")
    for n in art["notes"]:
        log("note:", n)


if __name__ == "__main__":
    sys.exit(main())
