#include "model/layers/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "base/check.h"

namespace ax {
namespace {

// The first `rows` rows of a [max_rows, cols] workspace buffer.
TensorView Rows(const TensorView& t, int64_t rows) {
  TensorView v = t;
  v.shape = Shape{rows, t.shape[1]};
  return v;
}

// The start of buffer t viewed densely as `shape` (e.g. the first r entries of the
// argmax buffer, or r rows of k of the [max rows, kMaxTopRows] candidate buffers).
TensorView Prefix(const TensorView& t, Shape shape) {
  TensorView v = t;
  v.shape = shape;
  return v;
}

// x += o_proj(attention(rope(qk_norm(q, k)), KV cache)) over the pre-normed input.
void AttentionBlock(Backend& be, const ModelConfig& cfg, const DecoderWeights& w,
                    const DecoderLayerWeights& lw, const KvLayerView& cache, DecoderWorkspace& ws,
                    int64_t n, int64_t prefill_rows) {
  const int nq = static_cast<int>(cfg.num_attention_heads);
  const int nkv = static_cast<int>(cfg.num_key_value_heads);
  const int hd = static_cast<int>(cfg.head_dim);
  const float eps = static_cast<float>(cfg.rms_norm_eps);
  TensorView x = Rows(ws.x, n);        // [n, hidden] residual stream
  TensorView h = Rows(ws.h, n);        // [n, hidden]
  TensorView q = Rows(ws.q, n);        // [n, nq*hd]
  TensorView k = Rows(ws.k, n);        // [n, nkv*hd]
  TensorView v = Rows(ws.v, n);        // [n, nkv*hd]
  TensorView attn = Rows(ws.attn, n);  // [n, nq*hd]

  be.RmsNorm(x, lw.attn_norm, eps, h);
  // q, k and v stay separate matrices and outputs (the per-head ops after them want
  // dense [n, heads, hd] inputs); one MatmulGroup lets a backend launch them together.
  const TensorView qkv_w[] = {lw.wq, lw.wk, lw.wv};
  const TensorView qkv_y[] = {q, k, v};
  be.MatmulGroup(h, qkv_w, qkv_y, prefill_rows);
  // Qwen3's q/k norm (when present), RoPE, and the append of k and v to the cache.
  be.AttentionInput(q, k, v, lw.q_norm, lw.k_norm, eps, w.inv_freq, cache, nq, nkv, hd);
  be.Attention(q, cache, nq, nkv, hd, 1.0f / std::sqrt(static_cast<float>(hd)), attn);
  be.Matmul(attn, lw.wo, x, /*accumulate=*/true, prefill_rows);
}

// x += down(silu(gate(h)) * up(h)), h = rmsnorm(x).
void MlpBlock(Backend& be, const ModelConfig& cfg, const DecoderLayerWeights& lw, DecoderWorkspace& ws,
              int64_t n, int64_t prefill_rows) {
  TensorView x = Rows(ws.x, n);              // [n, hidden]
  TensorView h = Rows(ws.h, n);              // [n, hidden]
  TensorView gate_up = Rows(ws.gate_up, n);  // [n, 2*inter]
  TensorView act = Rows(ws.act, n);          // [n, inter]
  be.RmsNorm(x, lw.mlp_norm, static_cast<float>(cfg.rms_norm_eps), h);
  be.MatmulSiluMul(h, lw.w_gate_up, gate_up, act, prefill_rows);
  be.Matmul(act, lw.w_down, x, /*accumulate=*/true, prefill_rows);
}

}  // namespace

Result<DecoderWorkspace> AllocateDecoderWorkspace(Backend& backend, const ModelConfig& cfg,
                                                  int64_t max_tokens, int64_t max_logit_rows) {
  DecoderWorkspace ws;
  ws.max_tokens = max_tokens;
  ws.max_logit_rows = max_logit_rows;
  const int64_t hd = cfg.head_dim;
  const DType act = backend.activation_dtype();
  auto alloc = [&](TensorView* t, int64_t rows, int64_t cols, DType dt) -> Status {
    AX_ASSIGN_OR_RETURN(*t, backend.Alloc(dt, Shape{rows, cols}));
    return Status::Ok();
  };
  AX_RETURN_IF_ERROR(alloc(&ws.x, max_tokens, cfg.hidden_size, act));
  AX_RETURN_IF_ERROR(alloc(&ws.h, max_tokens, cfg.hidden_size, act));
  AX_RETURN_IF_ERROR(alloc(&ws.q, max_tokens, cfg.num_attention_heads * hd, act));
  AX_RETURN_IF_ERROR(alloc(&ws.k, max_tokens, cfg.num_key_value_heads * hd, act));
  AX_RETURN_IF_ERROR(alloc(&ws.v, max_tokens, cfg.num_key_value_heads * hd, act));
  AX_RETURN_IF_ERROR(alloc(&ws.attn, max_tokens, cfg.num_attention_heads * hd, act));
  AX_RETURN_IF_ERROR(alloc(&ws.gate_up, max_tokens, 2 * cfg.intermediate_size, act));
  AX_RETURN_IF_ERROR(alloc(&ws.act, max_tokens, cfg.intermediate_size, act));
  AX_RETURN_IF_ERROR(alloc(&ws.logit_in, max_logit_rows, cfg.hidden_size, act));
  AX_RETURN_IF_ERROR(alloc(&ws.logits, max_logit_rows, cfg.vocab_size, DType::kF32));
  AX_ASSIGN_OR_RETURN(ws.argmax, backend.Alloc(DType::kI32, Shape{max_logit_rows}));
  const int64_t top_floats = max_logit_rows * (2 * Backend::kMaxTopRows + 1);
  AX_ASSIGN_OR_RETURN(ws.top, backend.Alloc(DType::kF32, Shape{top_floats}));
  ws.top_host.resize(static_cast<size_t>(top_floats));
  return ws;
}

Status DecoderForward(Backend& be, const ModelConfig& cfg, const DecoderWeights& w, DecoderWorkspace& ws,
                      KvCache& kv, const ForwardBatch& batch, const ForwardOutput& out) {
  const int64_t n = batch.n_tokens();
  if (n == 0) return Status::Ok();
  if (n > ws.max_tokens)
    return InvalidArgument("forward batch of " + std::to_string(n) + " tokens exceeds the workspace (" +
                           std::to_string(ws.max_tokens) + ")");
  const bool top = out.top_k > 0;
  AX_CHECK_MSG((out.logits != nullptr) + (out.argmax != nullptr) + top == 1,
               "DecoderForward: one of logits, argmax or top_k");
  AX_CHECK(!top || (out.top_k <= Backend::kMaxTopRows && out.top_k <= cfg.vocab_size && out.top_ids != nullptr &&
                    out.top_vals != nullptr));
  AX_CHECK((out.top_mass == nullptr || (top && out.inv_temperature != nullptr)));
  AX_CHECK(!out.penalties.any() || out.logits == nullptr);
  AX_RETURN_IF_ERROR(batch.Validate(cfg.vocab_size, kv.num_slots(), kv.block_size));
  BatchMeta meta = batch.meta();
  meta.argmax_only = out.argmax != nullptr;
  meta.top_k = out.top_k;
  meta.row_mass = out.top_mass != nullptr;
  meta.penalties = out.penalties;
  meta.logit_inv_temperature = out.inv_temperature;
  AX_RETURN_IF_ERROR(be.BeginForward(meta));

  const auto layers = [&] {
    be.Embedding(w.embed, Rows(ws.x, n));
    for (size_t l = 0; l < w.layers.size(); ++l) {
      AttentionBlock(be, cfg, w, w.layers[l], kv.layers[l], ws, n, batch.n_prefill_rows);
      MlpBlock(be, cfg, w.layers[l], ws, n, batch.n_prefill_rows);
    }
  };
  // Logits only for the rows that need them, in chunks of the logits buffer; then their
  // argmax or their best top_k when that is all the caller reads.
  const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
  // The packed top-k results of a chunk of r rows (DecoderWorkspace::top).
  const auto top_part = [&](int64_t r, int part) {
    const int64_t rk = r * out.top_k;
    TensorView v = ws.top;
    v.data = static_cast<float*>(ws.top.data) + part * rk;
    v.dtype = part == 0 ? DType::kI32 : DType::kF32;
    v.shape = part == 2 ? Shape{r} : Shape{r, out.top_k};
    return v;
  };
  const auto logits_chunk = [&](int64_t r0) {
    const int64_t r = std::min(ws.max_logit_rows, rows - r0);
    TensorView in = Rows(ws.logit_in, r);
    be.GatherLogitRows(Rows(ws.x, n), in, r0);
    be.RmsNorm(in, w.final_norm, static_cast<float>(cfg.rms_norm_eps), in);
    be.Matmul(in, w.lm_head, Rows(ws.logits, r), false, /*throughput_rows=*/0);  // logits: always row-invariant
    if (meta.penalties.any()) be.ApplyPenalties(Rows(ws.logits, r), r0);
    if (meta.argmax_only) be.ArgmaxRows(Rows(ws.logits, r), Prefix(ws.argmax, Shape{r}));
    if (top) be.TopRows(Rows(ws.logits, r), out.top_k, top_part(r, 0), top_part(r, 1));
    if (meta.row_mass) be.RowMass(Rows(ws.logits, r), top_part(r, 1), r0, top_part(r, 2));
    return r;
  };
  const auto read_back = [&](int64_t r0, int64_t r) -> Status {
    if (meta.argmax_only) return be.ReadToHost(ws.argmax, out.argmax + r0, static_cast<size_t>(r) * sizeof(int32_t));
    if (top) {
      const size_t rk = static_cast<size_t>(r * out.top_k);
      const size_t floats = 2 * rk + (meta.row_mass ? static_cast<size_t>(r) : 0);
      AX_RETURN_IF_ERROR(be.ReadToHost(ws.top, ws.top_host.data(), floats * sizeof(float)));
      std::memcpy(out.top_ids + r0 * out.top_k, ws.top_host.data(), rk * sizeof(int32_t));
      std::memcpy(out.top_vals + r0 * out.top_k, ws.top_host.data() + rk, rk * sizeof(float));
      if (meta.row_mass)
        std::memcpy(out.top_mass + r0, ws.top_host.data() + 2 * rk, static_cast<size_t>(r) * sizeof(float));
      return Status::Ok();
    }
    return be.ReadToHost(ws.logits, out.logits + r0 * cfg.vocab_size, Rows(ws.logits, r).nbytes());
  };
  // A forward whose logits fit one chunk is recordable whole (see Backend::ReplayForward).
  if (rows <= ws.max_logit_rows) {
    if (!be.ReplayForward()) {
      be.BeginRecord();
      layers();
      if (rows > 0) logits_chunk(0);
      be.EndRecord();
    }
    return rows == 0 ? Status::Ok() : read_back(0, rows);
  }
  layers();
  for (int64_t r0 = 0; r0 < rows; r0 += ws.max_logit_rows) AX_RETURN_IF_ERROR(read_back(r0, logits_chunk(r0)));
  return Status::Ok();
}

}  // namespace ax
