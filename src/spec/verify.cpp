#include "spec/verify.h"

namespace ax {

VerifiedToken SampleWithDraft(Sampler& sampler, float* logits, int64_t vocab, int64_t token_index, int32_t draft,
                              bool penalised) {
  SampledToken s = penalised ? sampler.SamplePenalised(logits, vocab, token_index)
                             : sampler.Sample(logits, vocab, token_index);
  VerifiedToken out;
  out.id = s.id;
  out.logprob = s.logprob;
  out.top = std::move(s.top);
  out.draft_accepted = draft >= 0 && s.id == draft;
  return out;
}

}  // namespace ax
