// The logits stage every architecture shares, and the frame of a whole forward:
//   hidden rows of batch.logit_rows → final norm → lm_head → final-logit softcap
//   → one read-back mode (logits | argmax ids | top-k ids and logits [+ row mass]),
// with penalties applied on the backend first when the caller asks; and the
// record/replay of a forward whose logits fit one chunk (Backend::ReplayForward).
#pragma once

#include <functional>

#include "backend/backend.h"
#include "model/forward_batch.h"
#include "model/layers/workspace.h"

namespace ax {

struct HeadWeights {
  TensorView final_norm;  // [hidden] f32
  TensorView lm_head;     // [vocab, hidden]; the embedding when tied
  float norm_eps = 1e-6f;
  float softcap = 0.0f;   // final_logit_softcapping (0: none)
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
  float* top_mass = nullptr;               // [n_logit_rows], or null
  const float* inv_temperature = nullptr;  // [n_logit_rows], with top_mass
  // With argmax or top_k: penalties applied to the logits rows on the backend first
  // (Backend::ApplyPenalties), so the ids and candidates are of penalised logits.
  LogitPenalties penalties;

  static ForwardOutput Logits(float* logits);
  static ForwardOutput Argmax(int32_t* ids, const LogitPenalties& penalties = {});
  static ForwardOutput Top(int k, int32_t* ids, float* vals, const float* inv_temperature = nullptr,
                           float* mass = nullptr, const LogitPenalties& penalties = {});
};

// Stages `batch`, runs `layers` (which leaves the final hidden rows, before the final
// norm, in ws.x) and the logits stage, and writes the results to `out`.
// REQUIRES: batch validated; 0 < n_tokens <= ws.max_tokens; `out` checked as
// Model::CheckOutput does (exactly one mode, k in range, masses with temperatures,
// penalties only with ids or candidates).
Status RunForward(Backend& be, const HeadWeights& head, Workspace& ws, const ForwardBatch& batch,
                  const ForwardOutput& out, int64_t vocab, const std::function<void()>& layers);

}  // namespace ax
