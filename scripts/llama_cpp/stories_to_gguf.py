#!/usr/bin/env python3
"""Writes a Hugging Face Llama checkpoint in f32 (stories260K) as a GGUF file that
llama.cpp's llama-server loads, for the llama_cpp route's test (docs/delegated.md).

    PYTHONPATH=LLAMA_CPP_SOURCE/gguf-py python3 stories_to_gguf.py MODEL_DIR OUT.gguf

Needs numpy, the gguf package of the llama.cpp source the server was built from
(gguf-py, numpy only) and sentencepiece (Debian: python3-sentencepiece) for the
tokenizer.model's pieces, scores and types. llama.cpp's own convert_hf_to_gguf.py
needs torch and transformers, which Debian's python3 does not have; a Llama
checkpoint needs only what is below.

Weights: every tensor f32, named as llama.cpp's "llama" architecture names them. Q and
K rows are reordered per head for llama.cpp's RoPE, which rotates adjacent pairs
(x[2i], x[2i+1]) where Hugging Face's rotate_half rotates (x[i], x[i + d/2]): row
2i of a head takes the checkpoint's row i and row 2i+1 its row i + d/2, so the same
pairs meet the same angles.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

try:
    import gguf
    import sentencepiece
except ImportError as e:
    sys.exit(f"stories_to_gguf.py: {e} (PYTHONPATH=LLAMA_CPP_SOURCE/gguf-py; apt-get install python3-sentencepiece)")

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    """{name: float32 array} of a .safetensors file (F32 or F16; BF16 widened)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        lo, hi = t["data_offsets"]
        raw = data[lo:hi]
        if t["dtype"] == "BF16":
            a = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif t["dtype"] in DTYPES:
            a = np.frombuffer(raw, DTYPES[t["dtype"]]).astype(np.float32)
        else:
            sys.exit(f"{name}: dtype {t['dtype']} not handled")
        out[name] = a.reshape(t["shape"])
    return out


def rope_pairs_adjacent(w, n_heads):
    """w: [n_heads * d, cols] with HF's half-split pairs → llama.cpp's adjacent pairs."""
    d = w.shape[0] // n_heads
    heads = w.reshape(n_heads, d, -1)
    order = np.empty(d, dtype=np.int64)
    order[0::2] = np.arange(d // 2)
    order[1::2] = np.arange(d // 2) + d // 2
    return heads[:, order, :].reshape(w.shape)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: stories_to_gguf.py MODEL_DIR OUT.gguf")
    model, out = Path(sys.argv[1]), sys.argv[2]
    cfg = json.loads((model / "config.json").read_text())
    if cfg.get("architectures") != ["LlamaForCausalLM"]:
        sys.exit(f"{model}: architectures {cfg.get('architectures')}, expected LlamaForCausalLM")
    n_heads, n_kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    head_dim = cfg.get("head_dim", cfg["hidden_size"] // n_heads)
    w = gguf.GGUFWriter(out, "llama")
    w.add_name(model.name)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_heads)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    w.add_vocab_size(cfg["vocab_size"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    sp = sentencepiece.SentencePieceProcessor(model_file=str(model / "tokenizer.model"))
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i).encode("utf-8"))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i): types.append(gguf.TokenType.UNKNOWN)
        elif sp.is_control(i): types.append(gguf.TokenType.CONTROL)
        elif sp.is_byte(i): types.append(gguf.TokenType.BYTE)
        elif sp.is_unused(i): types.append(gguf.TokenType.UNUSED)
        else: types.append(gguf.TokenType.NORMAL)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(cfg.get("bos_token_id", 1))
    w.add_eos_token_id(cfg.get("eos_token_id", 2))
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    t = read_safetensors(model / "model.safetensors")
    w.add_tensor("token_embd.weight", t["model.embed_tokens.weight"])
    w.add_tensor("output_norm.weight", t["model.norm.weight"])
    if "lm_head.weight" in t and not cfg.get("tie_word_embeddings", False):
        w.add_tensor("output.weight", t["lm_head.weight"])  # tied: llama.cpp reads token_embd
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        names = {
            "attn_norm": "input_layernorm", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
            "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
            "ffn_down": "mlp.down_proj",
        }
        for ours, theirs in names.items():
            w.add_tensor(f"blk.{i}.{ours}.weight", t[p + theirs + ".weight"])
        w.add_tensor(f"blk.{i}.attn_q.weight", rope_pairs_adjacent(t[p + "self_attn.q_proj.weight"], n_heads))
        w.add_tensor(f"blk.{i}.attn_k.weight", rope_pairs_adjacent(t[p + "self_attn.k_proj.weight"], n_kv))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"stories_to_gguf.py: wrote {out}")


if __name__ == "__main__":
    main()
