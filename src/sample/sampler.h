// Token sampling: logits processors (penalties) and warpers (temperature, top-k,
// top-p, min-p), then one seeded draw. Pure CPU, no tensor or backend headers.
//
// Order of operations (Hugging Face's; docs/sampling.md has the details):
//
//   logits ─► repetition penalty ─► frequency ─► presence   (in place, caller's buffer)
//          ─► temperature ─► top-k ─► top-p ─► min-p          (on a candidate id list)
//          ─► inverse-CDF draw over the kept tokens in canonical order
//
// Canonical order: penalised logit descending, then token id ascending. Every cut
// (top-k, top-p) keeps a prefix of that order, so ties at a boundary keep the lower ids;
// min-p is a threshold (p >= min_p * p_max) and never splits a tie.
//
// Determinism: a sample is a pure function of (params, the penalty state, token_index,
// the logits). The one random number is CounterUniform(seed, token_index, 0) from
// base/rng.h, so neither batching nor other requests change a request's tokens.
// Draw indices >= 1 of the same (seed, token_index) are left for speculative
// verification.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ax/status.h"
#include "base/logit_penalty.h"

namespace ax {

struct SamplingParams {
  double temperature = 1.0;         // [0, 2]; 0 → greedy (argmax, lowest id on ties)
  int64_t top_k = 0;                // >= 0; 0 → off; values above vocab mean "all"
  double top_p = 1.0;               // (0, 1]; 1 → off
  double min_p = 0.0;               // [0, 1]; 0 → off; relative to the max probability
  double repetition_penalty = 1.0;  // > 0; 1 → off. HF/CTRL: l > 0 ? l / r : l * r,
                                    //   once per distinct token seen (prompt + output)
  double presence_penalty = 0.0;    // [-2, 2]; OpenAI: l -= presence * (count > 0),
                                    //   count over generated tokens only
  double frequency_penalty = 0.0;   // [-2, 2]; OpenAI: l -= frequency * count,
                                    //   count over generated tokens only
  uint64_t seed = 0;                // the caller picks one when the user gives none
  int32_t top_logprobs = 0;         // [0, 20] alternatives to report; needs logprobs
  bool logprobs = false;            // report the chosen token's logprob

  // InvalidArgument naming the field and the accepted range, e.g.
  // "temperature must be in [0, 2], got 3". NaN fails every range.
  Status Validate() const;
};

struct SampledToken {
  int32_t id = -1;
  // Set only when params.logprobs (else 0). Log-probability of `id` under the
  // processed distribution it was drawn from (after penalties, temperature and all
  // warpers, renormalised over the kept tokens). For greedy (temperature 0) it is the
  // log-softmax of the penalised logits at temperature 1.
  float logprob = 0.0f;
  // Up to params.top_logprobs {id, logprob} from that same distribution, sorted by
  // logprob descending then id ascending. Shorter when fewer tokens survive the
  // warpers; tokens of probability zero (logit -inf) are never listed.
  std::vector<std::pair<int32_t, float>> top;
};

// One token of the processed distribution.
struct TokenProb {
  int32_t id;
  double prob;
};

// The distribution Sample draws from, for already-penalised `logits` (apply
// Sampler::ApplyPenalties first): kept tokens with prob > 0, in canonical order,
// probabilities summing to 1. Greedy (temperature 0) gives {{argmax, 1.0}}.
// Cost: O(vocab) plus a sort of the kept set (the whole vocab when no warper cuts).
// Speculative decoding reads p(draft) from it.
// REQUIRES: params.Validate().ok(); vocab > 0; no NaN or +inf; some logit finite.
std::vector<TokenProb> ProcessedDistribution(const SamplingParams& params, const float* logits,
                                             int64_t vocab);

class CandidateSet;  // sample/candidates.h (internal)

// Per-request sampling state: the params, counts of seen tokens for the penalties
// (prompt tokens count for the repetition penalty only; generated tokens for all three)
// and the number of generated tokens accepted so far.
//
// Thread-safety: none; one request's Sampler is used by one thread at a time.
// Memory: O(distinct seen tokens) for the counts, plus a workspace of 12 bytes per
// vocabulary entry (ids and weights), reused across steps.
class Sampler {
 public:
  // REQUIRES: params.Validate().ok(); every prompt id >= 0.
  Sampler(const SamplingParams& params, std::span<const int32_t> prompt);
  ~Sampler();
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;

  // Picks the token at `token_index` (0-based among this request's generated tokens;
  // normally num_generated()). Applies the penalties to `logits` IN PLACE first, so
  // afterwards the buffer holds the penalised logits; temperature and the warpers do
  // not write it. Does not Accept the token. Cost: O(vocab + distinct seen tokens).
  // REQUIRES: logits has `vocab` entries; after the penalties no NaN or +inf and at
  // least one finite; every seen id < vocab; token_index >= 0.
  SampledToken Sample(float* logits, int64_t vocab, int64_t token_index);
  // Sample on logits that are already penalised (ApplyPenalties, or a backend applying
  // PenaltyEntries): the same token, without touching the buffer.
  SampledToken SamplePenalised(const float* logits, int64_t vocab, int64_t token_index);

  // The penalty step of Sample alone (in place), e.g. before ProcessedDistribution.
  void ApplyPenalties(float* logits, int64_t vocab) const;
  // A penalty is on: the logits change before anything is selected from them.
  bool Penalised() const;
  // ApplyPenalties as data, for a backend to apply where the logits are: appends one
  // entry per seen token (PenalisedLogit with repetition_factor() and presence()), as
  // if the `pending` tokens had been Accepted first (a draft row's state: the drafts
  // before it), in the order ApplyPenalties would then visit them.
  void PenaltyEntries(std::span<const int32_t> pending, std::vector<LogitPenalty>* out) const;
  // At most this many entries for `pending` tokens.
  size_t max_penalty_entries(size_t pending) const { return Penalised() ? seen_.size() + pending : 0; }
  float repetition_factor() const { return static_cast<float>(params_.repetition_penalty); }
  double presence() const { return params_.presence_penalty; }

  // Records a generated token: it counts for the penalties of later steps.
  // REQUIRES: id >= 0.
  void Accept(int32_t id);

  // The *Suffices checks below say what a caller may compute instead of passing the
  // whole row to Sample; with penalised_logits the row it selects from has had this
  // request's penalties applied (PenaltyEntries), so penalties no longer stand in the
  // way.
  //
  // Greedy with no logprobs: Sample returns the argmax of the (penalised) logits
  // (lowest id on ties), so a caller may compute it anywhere.
  bool ArgmaxSuffices(bool penalised_logits = false) const;
  // Sampling with 1 <= top_k <= k (logprobs allowed): only the row's k best tokens
  // matter, so SampleTop on them gives exactly what Sample gives on the whole row.
  bool TopSuffices(int64_t k, bool penalised_logits = false) const;
  // Sample, from the row's n best tokens in canonical order (logit descending, id
  // ascending: ids and their logits; penalised when a penalty is on), e.g. computed on
  // a device. REQUIRES: TopSuffices(n, true); n <= vocab; the row has no NaN.
  SampledToken SampleTop(const int32_t* ids, const float* logits, int64_t n, int64_t vocab, int64_t token_index);
  // Sampling with no top-k (top-p, min-p or temperature alone), except temperature
  // alone with logprobs: the cut and the draw usually fall among a row's best tokens,
  // so SampleTopMass can often decide them from those.
  bool MassSuffices(bool penalised_logits = false) const;
  // Sample, from the row's n best tokens (as for SampleTop) and `row_mass`, the sum
  // over the whole row of exp((logit - max logit) / temperature), known within a
  // relative `mass_rel_error`: exactly what Sample gives on the whole row, or nullopt
  // when these cannot decide it (a cut or the draw falls past the candidates, or so
  // near a boundary that the mass error could move it); then Sample the whole row.
  // Consumes no state either way. REQUIRES: MassSuffices(true); 1 <= n < vocab; the row
  // has no NaN; 0 <= mass_rel_error < 1.
  std::optional<SampledToken> SampleTopMass(const int32_t* ids, const float* logits, int64_t n, int64_t vocab,
                                            double row_mass, double mass_rel_error, int64_t token_index);

  int64_t num_generated() const { return num_generated_; }
  const SamplingParams& params() const { return params_; }

 private:
  struct Seen {
    int32_t id;
    int32_t output_count;  // generated occurrences; 0 for a prompt-only token
  };
  Seen& Touch(int32_t id);
  LogitPenalty Entry(const Seen& s) const;
  SampledToken SampleGreedy(const float* logits, int64_t vocab);
  // false when the candidates could not decide (SampleTopMass); *out is then unset.
  bool DrawProcessed(int64_t token_index, SampledToken* out);

  SamplingParams params_;
  std::vector<Seen> seen_;                    // first-seen order, one entry per token
  std::unordered_map<int32_t, int32_t> slot_;  // id → index in seen_ (lookup only)
  int64_t num_generated_ = 0;
  std::unique_ptr<CandidateSet> cands_;       // workspace reused across steps
};

}  // namespace ax
