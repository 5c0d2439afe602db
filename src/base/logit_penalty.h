// Sampling penalties as data: what Sampler::ApplyPenalties does to one seen token's
// logit, in a form a backend can apply to logits it holds (a device), with the same
// bits. Shared by sample/ (which builds and applies them) and backend/ (which applies
// them before a step's argmax or top-k), so both run this one function on the host and
// the CUDA kernel mirrors it operation for operation.
#pragma once

#include <cstdint>

namespace ax {

// One seen token of a request (prompt or generated).
struct LogitPenalty {
  int32_t id;
  int32_t generated;      // 1: generated at least once (frequency and presence apply)
  double frequency_term;  // frequency_penalty * generated count, rounded once
};

// l → the penalised logit: repetition (HF/CTRL, in float: l > 0 ? l / r : l * r), then
// for generated tokens frequency and presence in double with one rounding to float.
// repetition == 1 leaves the repetition step out (as ApplyPenalties does).
inline float PenalisedLogit(float l, float repetition, double presence, const LogitPenalty& e) {
  if (repetition != 1.0f) l = l > 0.0f ? l / repetition : l * repetition;
  if (e.generated != 0) l = static_cast<float>((static_cast<double>(l) - e.frequency_term) - presence);
  return l;
}

// The penalties of a step's logit rows: row r's entries are
// entries[begin[r], begin[r + 1]) (distinct ids), with that row's repetition factor and
// presence penalty; a row without penalties has no entries.
struct LogitPenalties {
  const int32_t* begin = nullptr;  // [rows + 1]
  const LogitPenalty* entries = nullptr;
  const float* repetition = nullptr;  // [rows]
  const double* presence = nullptr;   // [rows]
  bool any() const { return begin != nullptr; }
};

}  // namespace ax
