#include "spec/verify.h"

#include <algorithm>
#include <cmath>

#include "base/rng.h"

namespace ax {
namespace {

void FillLogprobs(const SamplingParams& p, const std::vector<TokenProb>& dist, VerifiedToken* out) {
  if (!p.logprobs) return;
  for (const TokenProb& t : dist)
    if (t.id == out->id) out->logprob = static_cast<float>(std::log(t.prob));
  const size_t n = std::min<size_t>(dist.size(), static_cast<size_t>(std::max(0, p.top_logprobs)));
  for (size_t i = 0; i < n; ++i) out->top.emplace_back(dist[i].id, static_cast<float>(std::log(dist[i].prob)));
}

}  // namespace

VerifiedToken SampleWithDraft(Sampler& sampler, float* logits, int64_t vocab, int64_t token_index, int32_t draft) {
  const SamplingParams& params = sampler.params();
  VerifiedToken out;
  if (draft < 0 || params.temperature == 0.0) {
    SampledToken s = sampler.Sample(logits, vocab, token_index);
    out.id = s.id;
    out.logprob = s.logprob;
    out.top = std::move(s.top);
    out.draft_accepted = draft >= 0 && s.id == draft;
    return out;
  }
  sampler.ApplyPenalties(logits, vocab);
  // Canonical order: probability descending, id ascending.
  const std::vector<TokenProb> dist = ProcessedDistribution(params, logits, vocab);
  double p_draft = 0;
  for (const TokenProb& t : dist)
    if (t.id == draft) p_draft = t.prob;
  const uint64_t idx = static_cast<uint64_t>(token_index);
  if (CounterUniform(params.seed, idx, 1) < p_draft) {
    out.id = draft;
    out.draft_accepted = true;
  } else {
    // Residual: p without the draft, renormalised, walked in canonical order.
    const double u = CounterUniform(params.seed, idx, 2) * (1.0 - p_draft);
    double acc = 0;
    for (const TokenProb& t : dist) {
      if (t.id == draft) continue;
      acc += t.prob;
      out.id = t.id;
      if (u < acc) break;
    }
  }
  FillLogprobs(params, dist, &out);
  return out;
}

}  // namespace ax
