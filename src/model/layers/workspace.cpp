#include "model/layers/workspace.h"

#include <algorithm>

#include "base/check.h"

namespace ax {

TensorView View(const TensorView& t, int64_t rows, int64_t cols) {
  AX_CHECK(rows * cols <= t.numel());
  TensorView v = t;
  v.shape = Shape{rows, cols};
  return v;
}

TensorView Rows(const TensorView& t, int64_t rows) { return View(t, rows, t.shape[1]); }

Result<Workspace> AllocateWorkspace(Backend& backend, const WorkspaceSizes& s, int64_t max_tokens,
                                    int64_t max_logit_rows) {
  Workspace ws;
  ws.max_tokens = max_tokens;
  ws.max_logit_rows = max_logit_rows;
  const DType act = backend.activation_dtype();
  auto alloc = [&](TensorView* t, int64_t rows, int64_t cols, DType dt) -> Status {
    AX_ASSIGN_OR_RETURN(*t, backend.Alloc(dt, Shape{rows, cols}));
    return Status::Ok();
  };
  AX_RETURN_IF_ERROR(alloc(&ws.x, max_tokens, s.hidden, act));
  AX_RETURN_IF_ERROR(alloc(&ws.h, max_tokens, s.hidden, act));
  AX_RETURN_IF_ERROR(alloc(&ws.o, max_tokens, s.hidden, act));
  AX_RETURN_IF_ERROR(alloc(&ws.q, max_tokens, s.q_dim, act));
  AX_RETURN_IF_ERROR(alloc(&ws.k, max_tokens, s.kv_dim, act));
  AX_RETURN_IF_ERROR(alloc(&ws.v, max_tokens, s.kv_dim, act));
  AX_RETURN_IF_ERROR(alloc(&ws.attn, max_tokens, s.q_dim, act));
  AX_RETURN_IF_ERROR(alloc(&ws.gate_up, max_tokens, s.gate_up, act));
  AX_RETURN_IF_ERROR(alloc(&ws.act, max_tokens, s.gate_up / 2, act));
  if (s.per_layer > 0) {
    AX_RETURN_IF_ERROR(alloc(&ws.per_layer, max_tokens, s.per_layer, act));
    AX_RETURN_IF_ERROR(alloc(&ws.per_layer_tmp, max_tokens, s.per_layer, act));
    AX_RETURN_IF_ERROR(alloc(&ws.per_layer_gate, max_tokens, s.per_layer_dim, act));
  }
  if (s.experts > 0) {
    AX_RETURN_IF_ERROR(alloc(&ws.moe_logits, max_tokens, s.experts, DType::kF32));
    AX_RETURN_IF_ERROR(alloc(&ws.moe_ids, max_tokens, s.top_k, DType::kI32));
    AX_RETURN_IF_ERROR(alloc(&ws.moe_weights, max_tokens, s.top_k, DType::kF32));
    AX_RETURN_IF_ERROR(alloc(&ws.moe_in, max_tokens, s.hidden, act));
    AX_RETURN_IF_ERROR(alloc(&ws.moe_out, max_tokens, s.hidden, act));
    AX_RETURN_IF_ERROR(alloc(&ws.moe_act, max_tokens * s.top_k, s.moe_inter, act));
  }
  if (s.linear_proj > 0) {
    AX_RETURN_IF_ERROR(alloc(&ws.lin_proj, max_tokens, s.linear_proj, act));
    AX_RETURN_IF_ERROR(alloc(&ws.lin_conv, max_tokens, std::max<int64_t>(1, s.linear_conv), DType::kF32));
    AX_RETURN_IF_ERROR(alloc(&ws.lin_out, max_tokens, std::max<int64_t>(1, s.linear_out), act));
  }
  AX_RETURN_IF_ERROR(alloc(&ws.logit_in, max_logit_rows, s.hidden, act));
  AX_RETURN_IF_ERROR(alloc(&ws.logits, max_logit_rows, s.vocab, DType::kF32));
  AX_ASSIGN_OR_RETURN(ws.argmax, backend.Alloc(DType::kI32, Shape{max_logit_rows}));
  const int64_t top_floats = max_logit_rows * (2 * Backend::kMaxTopRows + 1);
  AX_ASSIGN_OR_RETURN(ws.top, backend.Alloc(DType::kF32, Shape{top_floats}));
  ws.top_host.resize(static_cast<size_t>(top_floats));
  return ws;
}

}  // namespace ax
