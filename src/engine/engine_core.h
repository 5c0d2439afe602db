// EngineCore: the request lifecycle and the step loop, one model, any backend.
//
//   submitted ─► waiting ─► running ─► finished (stop token | stop string | length |
//                  ▲           │                 cancelled | error)
//                  └─preempted─┘  (KV ran out: blocks freed, recomputed later)
//
// A step: take new submissions and cancellations → the scheduler plans
// {sequence → tokens} and reserves KV blocks → one ForwardBatch over every planned
// sequence → sample for the sequences that caught up → append, stream, finish.
// Prompt chunks and decodes are one rule: num_computed chases tokens.size().
//
// Thread-safety: Submit and Stats may be called from any thread; Step only from the
// engine thread, which alone touches scheduler, KV and request state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ax/engine.h"
#include "engine/request_stream.h"
#include "engine/stop_matcher.h"
#include "kv/kv_manager.h"
#include "model/model.h"
#include "sample/sampler.h"
#include "sched/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace ax {

struct EngineCoreConfig {
  int64_t ctx_size = 4096;        // max tokens per sequence (prompt + output)
  int block_size = 16;
  int num_blocks = 0;             // KV pool size
  int max_seqs = 16;
  int64_t max_batch_tokens = 512; // ≤ the model's workspace
  bool prefix_caching = true;
};

struct CoreRequest {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 128;
  bool ignore_eos = false;
  std::vector<int32_t> stop_ids;   // EOS + extra stop ids
  std::vector<std::string> stop_strings;
  SamplingParams sampling;
  int priority = 0;
};

class EngineCore {
 public:
  // The model (and tokenizer, may be null) must outlive the core.
  static Result<std::unique_ptr<EngineCore>> Create(Model& model, const Tokenizer* tokenizer,
                                                    const EngineCoreConfig& config);
  ~EngineCore();

  Result<std::shared_ptr<StreamImpl>> Submit(CoreRequest request);
  // One engine step; a forward failure finishes the planned requests with kError.
  Status Step();
  bool HasWork() const;
  // Blocks until a submission arrives or timeout_ms passes.
  void WaitForWork(int timeout_ms);
  EngineStats Stats() const;
  const EngineCoreConfig& config() const { return config_; }

 private:
  struct Active;
  EngineCore(Model& model, const Tokenizer* tok, const EngineCoreConfig& cfg);
  void Admit(std::unique_ptr<Active> a);
  void HandleCancellations();
  void SampleAndAppend(Active& a, const float* logits_row);
  void FinishRequest(SeqId id, FinishReason reason, const std::string& error);
  void PublishStats();

  Model& model_;
  const Tokenizer* tokenizer_;
  EngineCoreConfig config_;
  KvManager kv_;
  Scheduler sched_;
  KvCache cache_;
  std::vector<float> logits_;
  std::map<SeqId, std::unique_ptr<Active>> active_;

  mutable std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<std::unique_ptr<Active>> inbox_;
  int64_t next_id_ = 1;

  mutable std::mutex stats_mu_;
  EngineStats stats_;       // published copy
  EngineStats counters_;    // engine-thread totals
};

}  // namespace ax
