#include "engine/generator.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "base/timer.h"

namespace ax {

Result<std::unique_ptr<Generator>> Generator::Create(Model& model, int64_t ctx_size, int block_size) {
  if (ctx_size <= 0) return InvalidArgument("ctx_size must be positive");
  std::unique_ptr<Generator> g(new Generator(model));
  const int num_blocks = static_cast<int>((ctx_size + block_size - 1) / block_size);
  AX_ASSIGN_OR_RETURN(g->kv_, model.AllocateKvCache(num_blocks, block_size));
  g->ctx_size_ = ctx_size;
  g->blocks_.resize(static_cast<size_t>(num_blocks));
  std::iota(g->blocks_.begin(), g->blocks_.end(), 0);
  g->logits_.resize(static_cast<size_t>(model.config().vocab_size));
  return g;
}

Status Generator::ForwardChunk(const std::vector<int32_t>& seq, int64_t begin, int64_t end) {
  ForwardBatch batch;
  batch.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), blocks_, kv_.block_size,
                    /*want_last_logits=*/true);
  return model_.Forward(batch, kv_, logits_.data());
}

Result<GenerationOutput> Generator::Run(const std::vector<int32_t>& prompt, const GenerationParams& params,
                                        const std::function<void(const GeneratedToken&)>& on_token) {
  const int64_t vocab = model_.config().vocab_size;
  if (prompt.empty()) return InvalidArgument("prompt: expected at least one token");
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= vocab)
      return InvalidArgument("prompt token " + std::to_string(i) + " = " + std::to_string(prompt[i]) +
                             " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt >= ctx_size_)
    return InvalidArgument("prompt of " + std::to_string(n_prompt) + " tokens does not fit the context of " +
                           std::to_string(ctx_size_) + " tokens");
  if (params.max_tokens <= 0) return InvalidArgument("max_tokens must be positive");
  AX_RETURN_IF_ERROR(params.sampling.Validate());

  GenerationOutput out;
  Sampler sampler(params.sampling, prompt);
  std::vector<int32_t> seq = prompt;
  // The context bounds generation: the last token sampled needs no KV slot.
  const int64_t budget = std::min(params.max_tokens, ctx_size_ - n_prompt + 1);
  const int64_t chunk = model_.max_batch_tokens();

  double t0 = NowSeconds();
  for (int64_t begin = 0; begin < n_prompt; begin += chunk)
    AX_RETURN_IF_ERROR(ForwardChunk(seq, begin, std::min(n_prompt, begin + chunk)));

  for (int64_t i = 0; i < budget; ++i) {
    if (i > 0) AX_RETURN_IF_ERROR(ForwardChunk(seq, static_cast<int64_t>(seq.size()) - 1, static_cast<int64_t>(seq.size())));
    SampledToken s = sampler.Sample(logits_.data(), vocab, i);
    sampler.Accept(s.id);
    const double t = NowSeconds();
    (i == 0 ? out.prefill_seconds : out.decode_seconds) += t - t0;
    t0 = t;
    GeneratedToken tok{s.id, s.logprob, std::move(s.top)};
    out.tokens.push_back(tok);
    seq.push_back(s.id);
    if (on_token) on_token(out.tokens.back());
    t0 = NowSeconds();  // the callback's time is the caller's
    if (!params.ignore_eos &&
        std::find(params.stop_ids.begin(), params.stop_ids.end(), s.id) != params.stop_ids.end()) {
      out.reason = StopReason::kStopToken;
      return out;
    }
  }
  out.reason = StopReason::kLength;
  return out;
}

}  // namespace ax
