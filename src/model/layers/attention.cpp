#include "model/layers/attention.h"

#include <span>

#include "base/check.h"

namespace ax {

void AttentionBlock(Backend& be, const AttentionSpec& spec, const AttentionWeights& w, const KvLayerView& cache,
                    Workspace& ws, const TensorView& h, TensorView out, bool accumulate, int64_t prefill_rows) {
  const AttentionShape& s = spec.shape;
  const int64_t n = h.shape[0];
  const int64_t q_dim = int64_t{s.n_heads} * s.head_dim, kv_dim = int64_t{s.n_kv_heads} * s.head_dim;
  TensorView q = View(ws.q, n, q_dim);        // [n, nq*hd]
  TensorView k = View(ws.k, n, kv_dim);       // [n, nkv*hd]
  TensorView v = View(ws.v, n, kv_dim);       // [n, nkv*hd]
  TensorView attn = View(ws.attn, n, q_dim);  // [n, nq*hd]
  if (spec.kv_shared) {  // q only; the cache holds the owning layer's k and v
    be.Matmul(h, w.wq, q, /*accumulate=*/false, prefill_rows);
    if (w.q_norm.data != nullptr) be.RmsNorm(q, w.q_norm, s.norm_eps, q);
    be.Rope(q, s.n_heads, s.head_dim, spec.inv_freq);
  } else {
    // q, k and v stay separate matrices and outputs (the per-head ops after them want
    // dense [n, heads, hd] inputs); one MatmulGroup lets a backend launch them together.
    // A K=V layer (no wv) projects k once and takes v as the v-norm of that projection.
    const bool k_eq_v = w.wv.data == nullptr;
    AX_CHECK(!k_eq_v || w.v_norm.data != nullptr);
    const TensorView qkv_w[] = {w.wq, w.wk, w.wv};
    const TensorView qkv_y[] = {q, k, v};
    be.MatmulGroup(h, std::span(qkv_w, k_eq_v ? 2 : 3), std::span(qkv_y, k_eq_v ? 2 : 3), prefill_rows);
    if (w.bq.data != nullptr) {
      be.AddBias(q, w.bq);
      be.AddBias(k, w.bk);
      be.AddBias(v, w.bv);
    }
    if (w.v_norm.data != nullptr) be.RmsNorm(k_eq_v ? k : v, w.v_norm, s.norm_eps, v);
    be.AttentionInput(q, k, v, w.q_norm, w.k_norm, spec.inv_freq, cache, s);
  }
  be.Attention(q, cache, s, attn);
  be.Matmul(attn, w.wo, out, accumulate, prefill_rows);
}

}  // namespace ax
