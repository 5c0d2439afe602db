// Multi-head latent attention (MLA: DeepSeek-V2/V3, GLM-4.7-Flash) of one layer over
// its latent KV cache (model/memory.h kLatent):
//   q       = h · W_q^T, or q_b(rmsnorm(h · W_q_a^T))         [n, H, rope | nope]  (q LoRA)
//   c, kr   = h · W_kv_latent^T, h · W_k_rope^T               [n, latent], [n, rope]
//   c       = rmsnorm(c)
//   q, kr   = rope(q's rope part), rope(kr)
//   cache  <- c | kr                                           one row per token (LatentWrite)
//   o       = MlaAttention(q, kv_b, cache)                     [n, H, v]: absorbed up-projections
//   out    (+)= o · W_o^T                                      [n, hidden]
// Every head's query keeps its rope dims first (reordered at load; a checkpoint stores
// nope then rope), so Backend::Rope, which turns the first rot dims of a head, serves
// it. One code path for prompt and generated rows: a row's bits do not depend on the
// batch (kernels/params.h MlaParams).
#pragma once

#include "backend/backend.h"
#include "model/layers/workspace.h"

namespace ax {

struct MlaSpec {
  MlaShape shape;
  TensorView inv_freq;          // [rope_dim / 2] f32
  float lora_norm_eps = 1e-6f;  // q_a_layernorm's and kv_a_layernorm's eps
};

struct MlaWeights {
  TensorView wq_a;         // [q_lora_rank, hidden], or empty: no q LoRA
  TensorView q_a_norm;     // [q_lora_rank] f32
  TensorView wq;           // [H * (rope + nope), q_lora_rank or hidden], per head rope rows first
  TensorView w_kv_latent;  // [latent, hidden]
  TensorView w_k_rope;     // [rope, hidden]
  TensorView kv_a_norm;    // [latent] f32
  TensorView kv_b;         // [H * (nope + v), latent] f32 (kv_b_proj as stored)
  TensorView wo;           // [hidden, H * v]
};

// out [n, hidden] (+)= the layer's output for h [n, hidden]. Scratch: ws.q (H * (rope
// + nope)), ws.k (latent), ws.v (q_lora_rank, then rope), ws.attn (H * v).
void MlaBlock(Backend& be, const MlaSpec& spec, const MlaWeights& w, const KvLayerView& cache, Workspace& ws,
              const TensorView& h, TensorView out, bool accumulate, int64_t prefill_rows);

}  // namespace ax
