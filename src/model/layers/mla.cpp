#include "model/layers/mla.h"

namespace ax {

void MlaBlock(Backend& be, const MlaSpec& spec, const MlaWeights& w, const KvLayerView& cache, Workspace& ws,
              const TensorView& h, TensorView out, bool accumulate, int64_t prefill_rows) {
  const MlaShape& s = spec.shape;
  const int64_t n = h.shape[0], qk = int64_t{s.rope_dim} + s.nope_dim;
  TensorView q = View(ws.q, n, s.n_heads * qk);  // [n, H, rope | nope]
  if (w.wq_a.data != nullptr) {
    TensorView qa = View(ws.v, n, w.wq_a.shape[0]);  // [n, q_lora_rank]
    be.Matmul(h, w.wq_a, qa, /*accumulate=*/false, prefill_rows);
    be.RmsNorm(qa, w.q_a_norm, spec.lora_norm_eps, qa);
    be.Matmul(qa, w.wq, q, /*accumulate=*/false, prefill_rows);
  } else {
    be.Matmul(h, w.wq, q, /*accumulate=*/false, prefill_rows);
  }
  TensorView c = View(ws.k, n, s.latent_dim);  // [n, latent]
  TensorView kr = View(ws.v, n, s.rope_dim);   // [n, rope]
  const TensorView kv_w[] = {w.w_kv_latent, w.w_k_rope};
  const TensorView kv_y[] = {c, kr};
  be.MatmulGroup(h, kv_w, kv_y, prefill_rows);
  be.RmsNorm(c, w.kv_a_norm, spec.lora_norm_eps, c);
  be.Rope(q, s.n_heads, static_cast<int>(qk), spec.inv_freq);
  be.Rope(kr, 1, s.rope_dim, spec.inv_freq);
  be.LatentWrite(c, kr, cache, s);
  TensorView o = View(ws.attn, n, int64_t{s.n_heads} * s.v_dim);  // [n, H, v]
  be.MlaAttention(q, w.kv_b, cache, s, o);
  be.Matmul(o, w.wo, out, accumulate, prefill_rows);
}

}  // namespace ax
