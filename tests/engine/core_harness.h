// Builds an EngineCore over a model directory on the CPU backend with an explicit KV
// pool, so tests can step the engine and squeeze memory.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "engine/engine_core.h"
#include "model/config.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace ax::testing {

struct CoreOptions {
  int num_blocks = 512;
  int block_size = 4;
  int max_seqs = 8;
  int64_t max_batch_tokens = 64;
  int64_t ctx_size = 256;
  bool prefix_caching = true;
  DecodePolicy policy = DecodePolicy::kNgram;
  int max_draft = 4;
  bool draft_guard = true;
  bool release_window_blocks = true;
  Precision precision = Precision::kAuto;  // kF32: an f32 KV cache, for comparisons with references
};

struct Output {
  std::vector<int32_t> tokens;
  std::string text;
  FinishReason reason = FinishReason::kError;
  RequestMetrics metrics;
};

class CoreHarness {
 public:
  CoreHarness(const std::string& dir, const CoreOptions& o) {
    BackendOptions bo;
    bo.threads = 2;
    bo.precision = o.precision;
    backend_ = std::move(CreateBackend("cpu", bo).value());
    ModelLoadOptions mo;
    mo.max_batch_tokens = o.max_batch_tokens;
    model_ = std::move(Model::Load(dir, *backend_, mo).value());
    if (std::filesystem::exists(dir + "/tokenizer.json")) tok_ = std::move(Tokenizer::LoadFromDir(dir).value());
    eos_ = LoadModelConfig(dir).value().eos_token_ids;
    EngineCoreConfig c;
    c.num_blocks = o.num_blocks;
    c.block_size = o.block_size;
    c.max_seqs = o.max_seqs;
    c.max_batch_tokens = o.max_batch_tokens;
    c.ctx_size = o.ctx_size;
    c.prefix_caching = o.prefix_caching;
    c.default_policy = o.policy;
    c.max_draft = o.max_draft;
    c.draft_guard = o.draft_guard;
    c.release_window_blocks = o.release_window_blocks;
    core_ = std::move(EngineCore::Create(*model_, tok_.get(), c).value());
  }

  EngineCore& core() { return *core_; }
  const Tokenizer& tokenizer() const { return *tok_; }

  CoreRequest Request(const std::string& text, int64_t max_tokens, double temperature = 0, uint64_t seed = 0) {
    CoreRequest r;
    r.prompt = tok_->Encode(text, true);
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    r.stop_ids = eos_;
    r.sampling.temperature = temperature;
    r.sampling.top_p = temperature > 0 ? 0.9 : 1.0;
    r.sampling.seed = seed;
    return r;
  }

  std::shared_ptr<StreamImpl> Submit(CoreRequest r) { return core_->Submit(std::move(r)).value(); }

  void RunUntilIdle() {
    while (core_->HasWork()) ASSERT_TRUE(core_->Step().ok());
  }

  static Output Collect(RequestStream& s) {
    Output o;
    StreamEvent ev;
    while (s.Next(&ev, 0)) {
      if (ev.kind == StreamEvent::Kind::kToken) {
        o.tokens.push_back(ev.token.id);
        o.text += ev.token.text_delta;
      } else {
        o.reason = ev.finish_reason;
        o.text += ev.text_tail;
      }
    }
    o.metrics = s.metrics();
    return o;
  }

  // Submits every request, steps until idle, and collects the outputs in order.
  std::vector<Output> RunTogether(std::vector<CoreRequest> reqs) {
    std::vector<std::shared_ptr<StreamImpl>> streams;
    for (CoreRequest& r : reqs) streams.push_back(Submit(std::move(r)));
    RunUntilIdle();
    std::vector<Output> outs;
    for (auto& s : streams) outs.push_back(Collect(*s));
    return outs;
  }

 private:
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<EngineCore> core_;
  std::vector<int32_t> eos_;
};

}  // namespace ax::testing
