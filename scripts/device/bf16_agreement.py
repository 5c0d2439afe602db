#!/usr/bin/env python3
"""How often bf16 activations flip the top-1 token of an f32 forward, in the reference
implementation itself: Hugging Face transformers runs the same checkpoint in float32
and in bfloat16 over the same random tokens (teacher forcing, one forward) and counts
the rows whose argmax agrees, overall and on rows with a clear f32 margin.

    python3 scripts/device/bf16_agreement.py MODEL_DIR [--tokens 512] [--seed 7]

Prints one JSON line. Used beside the CUDA-vs-CPU teacher-forcing test (test_cuda):
both compare a bf16-activation forward with an f32 one on the same random-weight model.
"""
import argparse
import json

import torch
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--tokens", type=int, default=512)
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--margin", type=float, default=0.2)
args = ap.parse_args()

dev = "cuda" if torch.cuda.is_available() else "cpu"
g = torch.Generator().manual_seed(args.seed)
logits = {}
for name, dt in (("f32", torch.float32), ("bf16", torch.bfloat16)):
    m = AutoModelForCausalLM.from_pretrained(args.model, dtype=dt).to(dev).eval()
    if "ids" not in locals():
        ids = torch.randint(0, m.config.vocab_size, (1, args.tokens), generator=g)
    with torch.no_grad():
        logits[name] = m(ids.to(dev)).logits[0].float().cpu()
    del m
f32, bf = logits["f32"], logits["bf16"]
top2 = f32.topk(2, dim=-1).values
clear = (top2[:, 0] - top2[:, 1]) >= args.margin
agree = f32.argmax(-1) == bf.argmax(-1)
print(json.dumps({"model": args.model, "tokens": args.tokens, "device": dev,
                  "top1_agreement_bf16_vs_f32": round(agree.float().mean().item(), 4),
                  "rows_with_margin": int(clear.sum()), "margin": args.margin,
                  "agreement_on_margin_rows": round(agree[clear].float().mean().item(), 4) if clear.any() else None}))
