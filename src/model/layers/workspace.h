// Activation buffers of one model, allocated once for up to max_tokens rows per
// forward, in the backend's activation dtype (logits f32). Layers of different shapes
// (per-layer head dims, MLP widths) share them: each buffer is as wide as the widest
// layer needs, and a layer views its beginning densely as [n, its width].
#pragma once

#include <vector>

#include "backend/backend.h"

namespace ax {

// The widest row each buffer must hold, over all layers.
struct WorkspaceSizes {
  int64_t hidden = 0;
  int64_t q_dim = 0;      // n_heads * head_dim
  int64_t kv_dim = 0;     // n_kv_heads * head_dim
  int64_t gate_up = 0;    // 2 * intermediate
  int64_t vocab = 0;
  int64_t per_layer = 0;  // layers * hidden_size_per_layer_input (Gemma 4's PLE), or 0
  int64_t per_layer_dim = 0;  // hidden_size_per_layer_input
  int64_t experts = 0, top_k = 0;  // the widest MoE block, or 0
  int64_t moe_inter = 0;           // the widest expert intermediate size
  // Hybrid models (GatedDelta layers, gated attention), or 0: the widest fused input
  // projection of a linear layer (or attention output gate), its conv channels, and its
  // output (v heads * dv).
  int64_t linear_proj = 0, linear_conv = 0, linear_out = 0;
};

struct Workspace {
  int64_t max_tokens = 0;
  int64_t max_logit_rows = 0;
  TensorView x;                     // [max_tokens, hidden] the residual stream
  TensorView h, o;                  // [max_tokens, hidden] normed input, block output
  TensorView q, k, v, attn;         // [max_tokens, q_dim / kv_dim / kv_dim / q_dim]
  TensorView gate_up, act;          // [max_tokens, gate_up / gate_up / 2]
  TensorView per_layer, per_layer_tmp;  // [max_tokens, per_layer] PLE inputs (empty without PLE)
  TensorView per_layer_gate;            // [max_tokens, per_layer_dim]
  TensorView moe_logits;                // [max_tokens, experts] f32 (empty without MoE)
  TensorView moe_ids, moe_weights;      // [max_tokens, top_k] i32 / f32
  TensorView moe_in, moe_out;           // [max_tokens, hidden]
  TensorView moe_act;                   // [max_tokens * top_k, moe_inter] the experts' activations
  TensorView lin_proj, lin_conv, lin_out;  // [max_tokens, linear_proj / linear_conv / linear_out] f32 (hybrids)
  TensorView logit_in, logits;      // [max_logit_rows, hidden / vocab]
  TensorView argmax;                // [max_logit_rows] i32
  // A forward of r rows and top k: ids [r, k] i32, vals [r, k] f32, mass [r] f32, packed
  // in that order from the start of `top` so one read brings them back.
  TensorView top;               // [max_logit_rows * (2 * Backend::kMaxTopRows + 1)] f32
  std::vector<float> top_host;  // the host side of that read
};

Result<Workspace> AllocateWorkspace(Backend& backend, const WorkspaceSizes& sizes, int64_t max_tokens,
                                    int64_t max_logit_rows);

// The start of buffer t viewed densely as [rows, cols] (cols <= t's width).
TensorView View(const TensorView& t, int64_t rows, int64_t cols);
// The first `rows` rows of a [max_rows, cols] buffer.
TensorView Rows(const TensorView& t, int64_t rows);

}  // namespace ax
