// A mixture-of-experts block (Gemma 4's 26B-A4B, Qwen3-MoE, the hybrid Qwens, GLM):
//   logits = router_in · W_router^T                     [n, E] (f32)
//   ids, w = top-k of softmax(logits) (renormalised, scaled per expert)   [n, k]
//            or GLM / DeepSeek-V3's noaux_tc: sigmoid scores, experts chosen on the scores
//            plus e_score_correction_bias within the topk_group best of n_group groups,
//            weighted by the unbiased scores (renormalised, times routed_scaling_factor)
//   out    = sum_j w[:, j] * expert_{ids[:, j]}(x)      [n, hidden]
// with each expert a gated MLP. The router's input and the experts' input are separate
// (Gemma 4 routes on the residual stream and feeds the experts a normed copy).
#pragma once

#include <string>

#include "backend/backend.h"
#include "model/layers/workspace.h"

namespace ax {

struct MoeWeights {
  TensorView router;            // [E, hidden]
  TensorView per_expert_scale;  // [E] f32, or empty
  TensorView choice_bias;       // [E] f32: the noaux_tc router's e_score_correction_bias, or empty
  TensorView gate_up;           // [E * 2 * inter, hidden]
  TensorView down;              // [E * hidden, inter]
  MoeShape shape;
};

// The experts' two matrices in one dtype (the MoE kernels read both in gate_up's): an
// error names `where` and both dtypes (say, a checkpoint quantized with down_proj kept
// float). Views of a validation-only load (no backend) pass.
Status CheckMoeWeights(const MoeWeights& w, const std::string& where);

// out [n, hidden] = the block's output for router_in and x (both [n, hidden]);
// ws.moe_logits / moe_ids / moe_weights / moe_act are scratch.
void MoeBlock(Backend& be, const MoeWeights& w, Workspace& ws, const TensorView& router_in, const TensorView& x,
              TensorView out, int64_t prefill_rows);

}  // namespace ax
