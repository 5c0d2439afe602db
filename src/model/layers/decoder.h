// The pre-norm decoder shared by Llama-family architectures (Llama, Qwen3, and later
// Mistral-like ones): embed → N × [x += o(attn(rmsnorm(x))); x += down(silu(gate)·up)]
// → rmsnorm → lm_head, with per-architecture options (q/k RMSNorm for Qwen3).
#pragma once

#include <vector>

#include "backend/backend.h"
#include "model/config.h"
#include "model/forward_batch.h"

namespace ax {

struct DecoderLayerWeights {
  TensorView attn_norm;        // [hidden] f32
  TensorView wq, wk, wv, wo;   // [nq*hd, hidden], [nkv*hd, hidden] ×2, [hidden, nq*hd]
  TensorView q_norm, k_norm;   // [hd] f32, Qwen3 only (data == nullptr otherwise)
  TensorView mlp_norm;         // [hidden] f32
  TensorView w_gate_up;        // [2*inter, hidden]: gate rows then up rows (fused at load)
  TensorView w_down;           // [hidden, inter]
};

struct DecoderWeights {
  TensorView embed;            // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  TensorView final_norm;       // [hidden] f32
  TensorView lm_head;          // [vocab, hidden]; the embedding when tied
  TensorView inv_freq;         // [head_dim/2] f32
};

struct KvCache {
  std::vector<KvLayerView> layers;
  int num_blocks = 0;
  int block_size = 0;
  int64_t num_slots() const { return static_cast<int64_t>(num_blocks) * block_size; }
};

// Activation buffers for up to max_tokens rows per forward (allocated once), in the
// backend's activation dtype; logits are f32.
struct DecoderWorkspace {
  int64_t max_tokens = 0;
  int64_t max_logit_rows = 0;
  TensorView x, h, q, k, v, attn, gate_up, act;  // [max_tokens, ...]
  TensorView logit_in, logits;                   // [max_logit_rows, hidden / vocab]
  TensorView argmax;                             // [max_logit_rows] i32
  // A forward of r rows and top k: ids [r, k] i32, vals [r, k] f32, mass [r] f32, packed
  // in that order from the start of `top` so one read brings them back.
  TensorView top;               // [max_logit_rows * (2 * Backend::kMaxTopRows + 1)] f32
  std::vector<float> top_host;  // the host side of that read
};

// Where a forward's results go (host memory), one of: the logits of batch.logit_rows
// [n_logit_rows, vocab]; only each logit row's argmax [n_logit_rows] (lowest id on
// ties); or each row's top_k best ids and logits [n_logit_rows, top_k] in canonical
// order (Backend::TopRows), with top_mass also each row's mass at its inverse
// temperature (Backend::RowMass). The last two are computed on the backend, so that a
// greedy or sampled step reads back ids (and k logits), not a vocabulary per row.
struct ForwardOutput {
  float* logits = nullptr;
  int32_t* argmax = nullptr;
  int top_k = 0;
  int32_t* top_ids = nullptr;
  float* top_vals = nullptr;
  float* top_mass = nullptr;                    // [n_logit_rows], or null
  const float* inv_temperature = nullptr;       // [n_logit_rows], with top_mass
  // With argmax or top_k: penalties applied to the logits rows on the backend first
  // (Backend::ApplyPenalties), so the ids and candidates are of penalised logits.
  LogitPenalties penalties;
};

Result<DecoderWorkspace> AllocateDecoderWorkspace(Backend& backend, const ModelConfig& cfg,
                                                  int64_t max_tokens, int64_t max_logit_rows);

// Runs the decoder over `batch` (n_tokens ≤ ws.max_tokens) and writes the results of
// batch.logit_rows to `out`.
Status DecoderForward(Backend& backend, const ModelConfig& cfg, const DecoderWeights& w,
                      DecoderWorkspace& ws, KvCache& kv, const ForwardBatch& batch, const ForwardOutput& out);

}  // namespace ax
