#!/usr/bin/env python3
"""Which activation roundings flip the top-1 token of an f32 forward: Hugging Face
transformers runs one checkpoint over the same random tokens (teacher forcing, one
forward) in float32, in bfloat16, and in float32 with bf16 rounding applied only at
chosen places (forward hooks), and counts the rows whose argmax agrees with float32.

    python3 scripts/device/precision_agreement.py MODEL_DIR [--tokens 512] [--seed 7]

Variants (all but bf16 run the f32 model; "round" means x.to(bf16).to(f32)):
  bf16            the whole model in bfloat16 (every op's output, the residual too)
  gemm_inputs     the input of every Linear (f32 activations, bf16 tensor-core GEMMs)
  f32_residual    every Linear's input and output and every RMSNorm's output; the
                  residual stream, the attention softmax and RoPE stay f32
  split_bf16      every Linear as two bf16 GEMMs, W·hi + W·lo with hi = bf16(x) and
                  lo = bf16(x - hi) (16 bits of x), f32 accumulation; all else f32
  tf32            every matmul in TF32 (10-bit mantissa inputs; float32 matmul precision "high")
Prints one JSON line. The weights are the checkpoint's (bf16 checkpoints are exact in
both dtypes), so only activation rounding differs between the rows.
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
torch.backends.cudnn.allow_tf32 = False


def bf16_round(t):
    return t.to(torch.bfloat16).to(t.dtype) if torch.is_tensor(t) and t.is_floating_point() else t


def hook_inputs(module, inputs):
    return tuple(bf16_round(x) for x in inputs)


def hook_output(module, inputs, output):
    return bf16_round(output)


def split_linear(module, inputs, output):
    x = inputs[0]
    hi = bf16_round(x)
    lo = bf16_round(x - hi)
    w = module.weight
    y = torch.nn.functional.linear(hi, w) + torch.nn.functional.linear(lo, w)
    return y + module.bias if module.bias is not None else y


def add_hooks(model, variant):
    for m in model.modules():
        is_linear = isinstance(m, torch.nn.Linear)
        is_norm = type(m).__name__.endswith("RMSNorm")
        if is_linear and variant == "split_bf16":
            m.register_forward_hook(split_linear)
        elif is_linear:
            m.register_forward_pre_hook(hook_inputs)
        if variant == "f32_residual" and (is_linear or is_norm):
            m.register_forward_hook(hook_output)


g = torch.Generator().manual_seed(args.seed)
ids = None
logits = {}
VARIANTS = ("bf16", "gemm_inputs", "f32_residual", "split_bf16", "tf32")
for name in ("f32",) + VARIANTS:
    dt = torch.bfloat16 if name == "bf16" else torch.float32
    torch.set_float32_matmul_precision("high" if name == "tf32" else "highest")
    m = AutoModelForCausalLM.from_pretrained(args.model, dtype=dt).to(dev).eval()
    if ids is None:
        ids = torch.randint(0, m.config.vocab_size, (1, args.tokens), generator=g)
    if name in ("gemm_inputs", "f32_residual", "split_bf16"):
        add_hooks(m, name)
    with torch.no_grad():
        logits[name] = m(ids.to(dev)).logits[0].float().cpu()
    del m
f32 = logits["f32"]
top2 = f32.topk(2, dim=-1).values
clear = (top2[:, 0] - top2[:, 1]) >= args.margin
out = {"model": args.model, "tokens": args.tokens, "device": dev, "margin": args.margin,
       "rows_with_margin": int(clear.sum()),
       "gpu": torch.cuda.get_device_name() if dev == "cuda" else None}
for name in VARIANTS:
    agree = f32.argmax(-1) == logits[name].argmax(-1)
    out["top1_agreement_" + name] = round(agree.float().mean().item(), 4)
    out["margin_rows_" + name] = round(agree[clear].float().mean().item(), 4) if clear.any() else None
print(json.dumps(out))
