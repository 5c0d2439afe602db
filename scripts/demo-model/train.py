#!/usr/bin/env python3
"""Train AX Engine's demo model (Qwen3ForCausalLM, ~16 M parameters) in one GPU call.

Runs on the GPU machine's python3 (torch 2.11, transformers 5.17, tokenizers 0.23).
Steps, all in one process:
  1. unpack the corpus tarball made by make_corpus.sh (corpus/train.txt, valid.txt);
  2. train a byte-level BPE tokenizer (Qwen2/3 layout: NFC, Qwen split regex,
     ByteLevel, vocab 8192, <|endoftext|> = id 0), or reuse --tokenizer;
  3. tokenize (documents joined by <|endoftext|>);
  4. train with bf16 autocast, fused AdamW, warm-up + cosine, torch.compile, on
     random 512-token windows, for a wall-clock budget (--train-seconds) turned
     into a fixed step count after the first steps are timed (or --steps N);
  5. report validation loss, save the Hugging Face folder in bf16;
  6. reload it on the CPU in float32 and record greedy continuations
     (48 tokens, argmax, no stop at EOS) of three prompts into reference.json;
  7. pack everything for $OUT (split into parts under 16 MB).

Example (what the shipped model was trained with; see models/ax-demo-qwen3/README.md):
  python3 scripts/demo-model/train.py --corpus .demo-work/corpus.tar.gz \
      --tokenizer models/ax-demo-qwen3/tokenizer.json --train-seconds 420 --out $OUT
"""
import argparse
import io
import json
import math
import os
import shutil
import sys
import tarfile
import time

T0 = time.time()
EOT = "<|endoftext|>"
SEP = "\n" + EOT + "\n"
# Qwen2/Qwen3's pre-tokenizer split (GPT-4 style, digits one by one).
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
              r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

PROMPTS = [
    ("code", "def read_lines(path):\n"),
    ("prose", "And the king said unto"),
    ("docs", "The json module provides"),
]
N_REF = 48


def log(*a):
    print(f"[{time.time() - T0:7.1f}s]", *a, flush=True)


# ---------------------------------------------------------------------------
# Corpus and tokenizer
# ---------------------------------------------------------------------------
def load_corpus(path):
    with tarfile.open(path, "r:gz") as tf:
        train = tf.extractfile("corpus/train.txt").read().decode("utf-8")
        valid = tf.extractfile("corpus/valid.txt").read().decode("utf-8")
        stats = json.loads(tf.extractfile("corpus/stats.json").read())
    return train.split(SEP), valid.split(SEP), stats


def train_tokenizer(docs, vocab_size):
    from tokenizers import (Regex, Tokenizer, decoders, models, normalizers,
                            pre_tokenizers, processors, trainers)
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                              use_regex=False)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, show_progress=False,
        special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(docs, trainer=trainer, length=len(docs))
    return tok


def write_tokenizer_files(tok, out_dir, max_len):
    path = os.path.join(out_dir, "tokenizer.json")
    tok.save(path)
    # The Python binding serialises decoders.ByteLevel() with its defaults
    # (add_prefix_space/trim_offsets/use_regex true); the decoder ignores them, but
    # write Qwen3's exact values so the file reads like a Qwen tokenizer.json.
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    j["decoder"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                    "use_regex": False}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(j, f, indent=2, ensure_ascii=False)
        f.write("\n")
    eos_id = tok.token_to_id(EOT)
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "add_bos_token": False,
        "add_prefix_space": False,
        "bos_token": None,
        "eos_token": EOT,
        "pad_token": EOT,
        "unk_token": None,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_len,
        "added_tokens_decoder": {str(eos_id): {
            "content": EOT, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": True}},
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump({"eos_token": EOT, "pad_token": EOT}, f, indent=2)
        f.write("\n")


def encode_docs(tok, docs, eos_id):
    import numpy as np
    enc = getattr(tok, "encode_batch_fast", tok.encode_batch)
    parts, n = [], 0
    for i in range(0, len(docs), 512):
        for e in enc(docs[i:i + 512], add_special_tokens=False):
            parts.append(np.asarray(e.ids, dtype=np.int32))
            parts.append(np.asarray([eos_id], dtype=np.int32))
    return np.concatenate(parts)


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
def make_config(args, vocab, eos_id):
    from transformers import Qwen3Config
    return Qwen3Config(
        vocab_size=vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, head_dim=args.head_dim,
        max_position_embeddings=args.seq, rms_norm_eps=1e-6,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0),
        tie_word_embeddings=True, bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=None,
        attention_bias=False, attention_dropout=0.0, use_sliding_window=False,
        initializer_range=0.02, use_cache=True)


def lr_at(step, total, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, total - args.warmup))
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def evaluate(model, data, seq, batch, max_windows=None, starts=None):
    import torch
    import torch.nn.functional as F
    if starts is None:
        n = (len(data) - 1) // seq
        if max_windows:
            n = min(n, max_windows)
        starts = torch.arange(n, device=data.device) * seq
    ar = torch.arange(seq + 1, device=data.device)
    tot, cnt = 0.0, 0
    model.eval()
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        for i in range(0, len(starts), batch):
            w = data[starts[i:i + batch, None] + ar].long()
            logits = model(input_ids=w[:, :-1]).logits
            loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)),
                                   w[:, 1:].reshape(-1), reduction="sum")
            tot += loss.item()
            cnt += w[:, 1:].numel()
    model.train()
    return tot / cnt


# ---------------------------------------------------------------------------
# Reference continuations (CPU, float32 from the saved bf16 weights)
# ---------------------------------------------------------------------------
def greedy_reference(model_dir, hf_tok, raw_tok):
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    out = {"cases": []}
    models = {}
    for dt in (torch.float32, torch.float64):
        models[dt] = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=dt, attn_implementation="eager").eval()
    for kind, prompt in PROMPTS:
        ids = hf_tok(prompt, add_special_tokens=False)["input_ids"]
        assert ids == raw_tok.encode(prompt, add_special_tokens=False).ids, "tokenizer mismatch"
        res = {}
        for dt, m in models.items():
            seq, gen, margins, first_logits = list(ids), [], [], None
            with torch.no_grad():
                for step in range(N_REF):
                    logits = m(input_ids=torch.tensor([seq])).logits[0, -1]
                    top2 = torch.topk(logits, 2)
                    nxt = int(top2.indices[0])
                    margins.append(float(top2.values[0] - top2.values[1]))
                    if step == 0:
                        first_logits = logits.double()
                    gen.append(nxt)
                    seq.append(nxt)
            res[dt] = (gen, margins, first_logits)
        gen, margins, first_logits = res[torch.float32]
        top5 = torch.topk(first_logits, 5)
        out["cases"].append({
            "kind": kind,
            "prompt": prompt,
            "prompt_ids": ids,
            "greedy_ids": gen,
            "greedy_text": hf_tok.decode(gen),
            "greedy_pieces": [raw_tok.id_to_token(i) for i in gen],
            "first_step_top5": [{"id": int(i), "piece": raw_tok.id_to_token(int(i)),
                                 "logit": round(float(v), 5)}
                                for v, i in zip(top5.values, top5.indices)],
            "first_step_logits": [round(float(v), 5) for v in first_logits],
            "step_top1_top2_margin": [round(x, 5) for x in margins],
            "min_margin": round(min(margins), 5),
            "float64_greedy_match": res[torch.float64][0] == gen,
        })
        log(f"ref {kind}: {prompt!r} -> {hf_tok.decode(gen)!r} (min margin {min(margins):.4f})")
    return out


# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokenizer", help="reuse this tokenizer.json instead of training one")
    ap.add_argument("--out", default=os.environ.get("OUT", "out"))
    ap.add_argument("--name", default="ax-demo-qwen3")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--train-seconds", type=float, default=420,
                    help="budget for the training loop, torch.compile included")
    ap.add_argument("--steps", type=int, help="fixed step count (overrides --train-seconds)")
    ap.add_argument("--hard-stop", type=float, default=540,
                    help="stop training this many seconds after the script started, whatever")
    ap.add_argument("--evals", type=int, default=8, help="validation points during training")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    import numpy as np
    import torch
    import torch.nn.functional as F
    import tokenizers
    import transformers
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, GenerationConfig, Qwen3ForCausalLM

    env = {"torch": torch.__version__, "transformers": transformers.__version__,
           "tokenizers": tokenizers.__version__, "gpu": torch.cuda.get_device_name(0),
           "python": sys.version.split()[0]}
    log("env", env)
    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    work = os.path.join("/tmp", "demo-model")
    model_dir = os.path.join(work, args.name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(model_dir)
    os.makedirs(args.out, exist_ok=True)

    train_docs, valid_docs, corpus_stats = load_corpus(args.corpus)
    log(f"corpus: {len(train_docs)} train docs, {len(valid_docs)} valid docs, "
        f"{sum(map(len, train_docs)) / 1e6:.1f} M chars")

    if args.tokenizer:
        tok = Tokenizer.from_file(args.tokenizer)
        log("tokenizer reused from", args.tokenizer)
    else:
        tok = train_tokenizer(train_docs, args.vocab)
        log("tokenizer trained")
    vocab = tok.get_vocab_size()
    eos_id = tok.token_to_id(EOT)
    assert vocab == args.vocab and eos_id is not None, (vocab, eos_id)
    write_tokenizer_files(tok, model_dir, args.seq)

    train_ids = encode_docs(tok, train_docs, eos_id)
    valid_ids = encode_docs(tok, valid_docs, eos_id)
    n_chars = sum(map(len, train_docs))
    log(f"tokens: train {len(train_ids) / 1e6:.2f} M, valid {len(valid_ids) / 1e6:.3f} M, "
        f"{n_chars / len(train_ids):.2f} chars/token")
    check_docs = valid_docs[:40]
    del train_docs, valid_docs
    dev = "cuda"
    train_t = torch.from_numpy(train_ids).to(dev)
    valid_t = torch.from_numpy(valid_ids).to(dev)

    cfg = make_config(args, vocab, eos_id)
    model = Qwen3ForCausalLM(cfg).to(dev)
    model.config.use_cache = False
    n_params = sum(p.numel() for p in model.parameters())
    n_embed = model.model.embed_tokens.weight.numel()
    log(f"params: {n_params / 1e6:.2f} M ({(n_params - n_embed) / 1e6:.2f} M without embeddings)")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)

    def loss_fn(x, y):
        logits = model(input_ids=x).logits
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))

    step_fn = loss_fn if args.no_compile else torch.compile(loss_fn)
    g = torch.Generator(device=dev)
    g.manual_seed(args.seed)
    ar = torch.arange(args.seq + 1, device=dev)
    n_start = len(train_t) - args.seq - 1

    def batch():
        s = torch.randint(0, n_start, (args.batch,), device=dev, generator=g)
        w = train_t[s[:, None] + ar].long()
        return w[:, :-1], w[:, 1:]

    total = args.steps or 10 ** 9
    best = (float("inf"), 0, None)   # (valid loss on 256 windows, step, state)
    history, evals = [], []
    eval_every = None
    t_train = time.time()
    t_mark = None
    step = 0
    tokens_per_step = args.batch * args.seq
    while step < total:
        if time.time() - T0 > args.hard_stop:
            log(f"hard stop at step {step}")
            break
        lr = lr_at(step, total if args.steps or step > 25 else 10 ** 9, args)
        for grp in opt.param_groups:
            grp["lr"] = lr
        x, y = batch()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = step_fn(x, y)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step == 5:
            torch.cuda.synchronize()
            t_mark = time.time()
            log(f"compiled + 5 steps in {t_mark - t_train:.1f}s")
        if step == 25 and not args.steps:
            torch.cuda.synchronize()
            dt = (time.time() - t_mark) / 20
            left = args.train_seconds - (time.time() - t_train)
            total = 25 + max(0, int(left / dt * 0.97))
            log(f"{dt * 1e3:.1f} ms/step, {tokens_per_step / dt / 1e6:.2f} M tok/s "
                f"-> {total} steps, {total * tokens_per_step / len(train_t):.1f} epochs")
        if eval_every is None and (args.steps or step == 25):
            eval_every = max(1, total // args.evals)
        if step % 100 == 0 or step == total:
            history.append({"step": step, "loss": round(loss.item(), 4), "lr": lr,
                            "grad_norm": round(float(gn), 3), "t": round(time.time() - t_train, 1)})
            if step % 1000 == 0:
                log(history[-1])
        if eval_every and (step % eval_every == 0 or step == total):
            v = evaluate(model, valid_t, args.seq, 64, max_windows=256)
            evals.append({"step": step, "valid_loss_256": round(v, 4)})
            log(f"step {step}: valid loss (256 windows) {v:.4f}")
            if v < best[0]:
                best = (v, step, {k: t.detach().clone() for k, t in model.state_dict().items()})
    torch.cuda.synchronize()
    train_time = time.time() - t_train
    log(f"trained {step} steps in {train_time:.1f}s")
    if best[2] is not None and best[1] != step:
        log(f"keeping the checkpoint of step {best[1]} (lower valid loss on 256 windows)")
        model.load_state_dict(best[2])
    kept_step = best[1] if best[2] is not None else step
    best = None

    valid_loss = evaluate(model, valid_t, args.seq, 64)
    gt = torch.Generator(device=dev)
    gt.manual_seed(7)
    tr_starts = torch.randint(0, n_start, (512,), device=dev, generator=gt)
    train_loss = evaluate(model, train_t, args.seq, 64, starts=tr_starts)
    log(f"FINAL valid loss {valid_loss:.4f} (ppl {math.exp(valid_loss):.2f}), "
        f"train-sample loss {train_loss:.4f}")

    # Sampled text for the README (GPU, bf16 autocast; not part of the golden test).
    samples = []
    hf_tok = None
    model.eval()
    model.config.use_cache = True
    try:
        for kind, prompt in PROMPTS:
            ids = torch.tensor([tok.encode(prompt, add_special_tokens=False).ids], device=dev)
            torch.manual_seed(0)
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                o = model.generate(ids, max_new_tokens=96, do_sample=True, temperature=0.8,
                                   top_k=40, pad_token_id=eos_id, eos_token_id=eos_id)
            samples.append({"kind": kind, "prompt": prompt,
                            "sampled_text": tok.decode(o[0, ids.shape[1]:].tolist())})
            log(f"sample {kind}: {samples[-1]['sampled_text']!r}")
    except Exception:
        import traceback
        traceback.print_exc()

    # Save: bf16 weights, HF layout.
    model = model.to(torch.bfloat16).cpu()
    model.config.use_cache = True
    model.generation_config = GenerationConfig(bos_token_id=eos_id, eos_token_id=eos_id,
                                               pad_token_id=eos_id, do_sample=False,
                                               max_length=args.seq)
    model.config.dtype = torch.bfloat16
    model.save_pretrained(model_dir, safe_serialization=True)
    del model
    same = None
    try:
        hf_tok = AutoTokenizer.from_pretrained(model_dir)
        same = all(hf_tok(d, add_special_tokens=False)["input_ids"]
                   == tok.encode(d, add_special_tokens=False).ids
                   and hf_tok.decode(tok.encode(d).ids) == d for d in check_docs)
        log("AutoTokenizer class:", type(hf_tok).__name__,
            "| same ids and round trip on 40 valid docs:", same)
        ref = greedy_reference(model_dir, hf_tok, tok)
        ref.update({
            "model": args.name,
            "n_generated": N_REF,
            "decoding": "greedy argmax over the full vocabulary, no BOS, no stop at EOS, prompt "
                        "encoded without special tokens",
            "produced_by": f"transformers {transformers.__version__} Qwen3ForCausalLM, "
                           "attn_implementation=eager, on CPU in float32 from the bf16 "
                           "model.safetensors (no KV cache: full recompute each step)",
            "float64_check": "float64_greedy_match: the same greedy ids in float64",
            "eos_token_id": eos_id,
            "autotokenizer_class": type(hf_tok).__name__,
            "autotokenizer_matches_tokenizer_json": same,
        })
        with open(os.path.join(model_dir, "reference.json"), "w") as f:
            json.dump(ref, f, indent=1)
            f.write("\n")
    except Exception:  # keep the trained weights even if the reference step breaks
        import traceback
        traceback.print_exc()
        log("REFERENCE FAILED: weights are packed without reference.json")

    train_log = {
        "args": vars(args), "env": env, "params": n_params, "params_no_embed": n_params - n_embed,
        "train_tokens": int(len(train_t)), "valid_tokens": int(len(valid_t)),
        "chars_per_token": round(n_chars / len(train_t), 3),
        "steps": step, "kept_step": kept_step, "tokens_seen": step * tokens_per_step,
        "epochs": round(step * tokens_per_step / len(train_t), 2),
        "train_seconds": round(train_time, 1),
        "valid_loss": round(valid_loss, 4), "train_sample_loss": round(train_loss, 4),
        "evals": evals, "history": history, "samples": samples,
        "corpus_stats": corpus_stats, "total_seconds": round(time.time() - T0, 1),
    }
    with open(os.path.join(model_dir, "train_log.json"), "w") as f:
        json.dump(train_log, f, indent=1)
        f.write("\n")

    # Pack for $OUT: one tar.gz split into parts under 16 MB.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(model_dir, arcname=args.name)
    data = buf.getvalue()
    part = 15 * 1024 * 1024
    for i in range(0, len(data), part):
        with open(os.path.join(args.out, f"model.tar.gz.part{i // part:02d}"), "wb") as f:
            f.write(data[i:i + part])
    shutil.copy(os.path.join(model_dir, "train_log.json"), os.path.join(args.out, "train_log.json"))
    log(f"packed {len(data) / 1e6:.1f} MB into {args.out}; done")


if __name__ == "__main__":
    main()
