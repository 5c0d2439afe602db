// GatedDelta linear attention of one layer (Qwen3-Next / Qwen3.5 linear_attention):
//   p   = h · W_inᵀ                       [n, q | k | v | z | b | a] (one fused matrix)
//   o   = GatedDelta(p, state slots)      conv1d + silu, l2norm q/k, the delta rule with
//                                         f32 state per v head, gated RMSNorm with silu(z)
//   out (+)= o · W_outᵀ                   [n, hidden]
// The middle line is one backend op (Backend::GatedDelta; kernels/params.h has the
// math); the layer's state lives in the cache's state slots (model/memory.h
// kRecurrent), named per sequence by the staged batch.
#pragma once

#include "backend/backend.h"
#include "model/layers/workspace.h"

namespace ax {

struct GatedDeltaLayerWeights {
  TensorView in_proj;    // [shape.proj_cols(), hidden]
  GatedDeltaWeights gd;  // conv_w, a_log, dt_bias, norm_w (f32)
  TensorView out_proj;   // [hidden, n_v_heads * dv]
};

// out [n, hidden] (+)= the layer's output for h [n, hidden]; ws.lin_proj, lin_conv and
// lin_out are scratch; rows [0, prefill_rows) are prompt rows (Backend::Matmul).
void GatedDeltaBlock(Backend& be, const GatedDeltaShape& shape, const GatedDeltaLayerWeights& w,
                     const KvLayerView& state, Workspace& ws, const TensorView& h, TensorView out, bool accumulate,
                     int64_t prefill_rows);

}  // namespace ax
