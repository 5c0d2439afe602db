#include "model/layers/moe.h"

namespace ax {

Status CheckMoeWeights(const MoeWeights& w, const std::string& where) {
  if (w.gate_up.dtype == w.down.dtype) return Status::Ok();
  return InvalidArgument(where + ": the experts' gate/up weights are " + DTypeName(w.gate_up.dtype) +
                         " but their down weights " + DTypeName(w.down.dtype) +
                         " (the experts of a MoE block must share one format)");
}

void MoeBlock(Backend& be, const MoeWeights& w, Workspace& ws, const TensorView& router_in, const TensorView& x,
              TensorView out, int64_t prefill_rows) {
  const int64_t n = x.shape[0];
  const int E = w.shape.num_experts, k = w.shape.top_k;
  TensorView logits = View(ws.moe_logits, n, E);    // [n, E] f32
  TensorView ids = View(ws.moe_ids, n, k);          // [n, k] i32
  TensorView weights = View(ws.moe_weights, n, k);  // [n, k] f32
  be.Matmul(router_in, w.router, logits, /*accumulate=*/false, prefill_rows);
  be.RouteTopK(logits, w.per_expert_scale, w.choice_bias, w.shape, ids, weights);
  TensorView act = View(ws.moe_act, n * k, w.shape.inter);  // [n * k, inter]
  be.MoeExperts(x, ids, weights, w.gate_up, w.down, w.shape, act, out, prefill_rows);
}

}  // namespace ax
