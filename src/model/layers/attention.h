// Self-attention of one layer over the paged KV cache, for every architecture:
//   q, k, v = h · (wq, wk, wv)^T (+ biases) [n, nq*hd], [n, nkv*hd] x2
//   q, k    = rope(qk_norm(q, k))          per head; q/k norm when the weights have them
//   cache  <- k, v                         (the staged slots)
//   a       = attention(q, cache)          causal GQA, window / scale / softcap of the spec
//   out    (+)= a · wo^T                   [n, hidden]
// The layer's shape lives in AttentionSpec (per layer: heads, head dim, window, …), so
// families with per-layer head dims and sliding windows are data, not branches.
#pragma once

#include "backend/backend.h"
#include "model/layers/workspace.h"

namespace ax {

struct AttentionSpec {
  AttentionShape shape;
  TensorView inv_freq;  // [rot_dim / 2] f32 rope frequencies of this layer (model-owned)
  // The layer reads another layer's cache (LayerMemory::shares): it projects q only and
  // appends nothing (Gemma 4's num_kv_shared_layers).
  bool kv_shared = false;
};

struct AttentionWeights {
  TensorView wq, wk, wv, wo;  // [nq*hd, hidden], [nkv*hd, hidden] x2, [hidden, nq*hd]
  // K=V layers (Gemma 4's attention_k_eq_v) have no wv: v is v_norm of the k
  // projection (before k's norm and rope), so they need v_norm.
  TensorView q_norm, k_norm;  // [hd] f32, or empty (no per-head q/k norm)
  TensorView v_norm;          // [hd] f32 (ones: a scale-free RMSNorm of v), or empty
  // q/k/v projection biases (GLM-4.5's attention_bias), added before the norms and rope.
  TensorView bq, bk, bv;  // [nq*hd], [nkv*hd] x2 f32, or empty
};

// out [n, hidden] = (accumulate ? out + : ) o_proj(attention(h)) for h [n, hidden].
// Uses ws.q/k/v/attn as scratch; rows [0, prefill_rows) are prompt rows (Backend::Matmul).
void AttentionBlock(Backend& be, const AttentionSpec& spec, const AttentionWeights& w, const KvLayerView& cache,
                    Workspace& ws, const TensorView& h, TensorView out, bool accumulate, int64_t prefill_rows);

}  // namespace ax
