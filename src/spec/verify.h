// Verifying a draft token against the target model's logits at its position.
//
// Greedy: the target's own choice (Sampler::Sample) decides; the draft is accepted
// exactly when it equals that choice, so the output is identical to direct decoding.
// Sampling: speculative sampling for a deterministic proposal — accept d with
// probability p(d) under the processed distribution p, otherwise draw from p with d
// removed and renormalised. P(out = d) = p(d) and P(out = x) = (1 - p(d)) p(x) / (1 - p(d))
// = p(x), so the output distribution equals direct sampling. The uniforms are
// counter-based draws 1 (accept) and 2 (residual) of (seed, token_index); a direct
// step uses draw 0.
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

// The token at `token_index` given the draft proposed for it (draft < 0: none, a
// plain Sampler::Sample). Applies the penalties to `logits` in place. Does not Accept.
VerifiedToken SampleWithDraft(Sampler& sampler, float* logits, int64_t vocab, int64_t token_index, int32_t draft);

}  // namespace ax
