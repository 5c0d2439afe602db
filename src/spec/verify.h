// Verifying a draft token against the target model's logits at its position.
//
// The target token is drawn exactly as direct decoding draws it (Sampler::Sample:
// greedy argmax, or the seeded draw 0 of (seed, token_index) from the processed
// distribution p), and the draft is accepted iff it equals that token.
//
// This is the speculative-sampling rule for a deterministic proposal, coupled to the
// direct draw: P(accept d) = P(t = d) = p(d), and on rejection t is distributed as p
// with d removed and renormalised — the same acceptance probability and the same
// output distribution as the textbook accept-with-p(d)/resample-the-residual scheme.
// Coupling buys one more property: a request's tokens are the same whether n-gram
// drafting is on or off, whatever draft lengths the cost model picks (given the same
// logits), so seeded requests reproduce exactly on every run and under every policy.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sample/sampler.h"

namespace ax {

struct VerifiedToken {
  int32_t id = -1;
  bool draft_accepted = false;
  float logprob = 0.0f;  // when the sampler reports logprobs
  std::vector<std::pair<int32_t, float>> top;
};

// The token at `token_index` given the draft proposed for it (draft < 0: none).
// Applies the penalties to `logits` in place, unless `penalised` (already applied, e.g.
// by the backend). Does not Accept.
VerifiedToken SampleWithDraft(Sampler& sampler, float* logits, int64_t vocab, int64_t token_index, int32_t draft,
                              bool penalised = false);

}  // namespace ax
