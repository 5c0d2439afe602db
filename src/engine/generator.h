// Generator: runs requests on one model through the forward/sample loop.
//
// This is the single-sequence path of the engine: prefill in chunks of
// model.max_batch_tokens(), then one token per step, each step a ForwardBatch over the
// paged KV cache with a block table. The engine core (continuous batching, scheduler,
// prefix reuse) drives the same ForwardBatch and Sampler pieces for many sequences.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ax/status.h"
#include "model/model.h"
#include "sample/sampler.h"

namespace ax {

struct GenerationParams {
  int64_t max_tokens = 128;
  bool ignore_eos = false;
  std::vector<int32_t> stop_ids;  // EOS ids and extra stop ids
  SamplingParams sampling;
};

struct GeneratedToken {
  int32_t id = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;
};

enum class StopReason { kStopToken, kLength };

struct GenerationOutput {
  std::vector<GeneratedToken> tokens;
  StopReason reason = StopReason::kLength;
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

class Generator {
 public:
  // Reserves a KV cache of ctx_size tokens in blocks of block_size.
  static Result<std::unique_ptr<Generator>> Create(Model& model, int64_t ctx_size, int block_size);

  int64_t ctx_size() const { return ctx_size_; }

  // Generates after `prompt` (ids validated against the vocabulary and the context).
  // on_token, when set, sees every token as soon as it is sampled.
  Result<GenerationOutput> Run(const std::vector<int32_t>& prompt, const GenerationParams& params,
                               const std::function<void(const GeneratedToken&)>& on_token);

 private:
  Generator(Model& model) : model_(model) {}
  // One forward of tokens [begin, end) of `seq` (positions begin..end-1); logits of the
  // last row land in logits_.
  Status ForwardChunk(const std::vector<int32_t>& seq, int64_t begin, int64_t end);

  Model& model_;
  KvCache kv_;
  int64_t ctx_size_ = 0;
  std::vector<int32_t> blocks_;  // this sequence's block table
  std::vector<float> logits_;    // [vocab]
};

}  // namespace ax
