// ax::Engine on top of the backend, model, tokenizer and generator layers.
#include "ax/engine.h"

#include <algorithm>
#include <filesystem>

#include "backend/backend.h"
#include "engine/generator.h"
#include "model/config.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace ax {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "?";
}

double GenerateResult::prefill_tok_s() const {
  return prefill_seconds > 0 ? static_cast<double>(prompt_tokens.size()) / prefill_seconds : 0.0;
}

double GenerateResult::decode_tok_s() const {
  const double n = output_tokens.size() > 1 ? static_cast<double>(output_tokens.size() - 1) : 0.0;
  return decode_seconds > 0 ? n / decode_seconds : 0.0;
}

namespace {

SamplingParams ToSamplingParams(const SamplingOptions& o) {
  SamplingParams p;
  p.temperature = o.temperature;
  p.top_p = o.top_p;
  p.top_k = o.top_k;
  p.min_p = o.min_p;
  p.repetition_penalty = o.repetition_penalty;
  p.presence_penalty = o.presence_penalty;
  p.frequency_penalty = o.frequency_penalty;
  p.seed = o.seed;
  p.logprobs = o.logprobs || o.top_logprobs > 0;
  p.top_logprobs = o.top_logprobs;
  return p;
}

class EngineImpl final : public Engine {
 public:
  Status Init(const EngineConfig& cfg) {
    if (cfg.model_dir.empty()) return InvalidArgument("model_dir: expected a Hugging Face model directory");
    BackendOptions bopts;
    bopts.threads = cfg.threads;
    AX_ASSIGN_OR_RETURN(backend_, CreateBackend(cfg.backend, bopts));
    ModelLoadOptions mopts;
    mopts.max_batch_tokens = cfg.max_batch_tokens;
    AX_ASSIGN_OR_RETURN(model_, Model::Load(cfg.model_dir, *backend_, mopts));
    AX_ASSIGN_OR_RETURN(GenerationConfig gen, LoadGenerationConfig(cfg.model_dir));
    const ModelConfig& mc = model_->config();
    int64_t ctx = cfg.ctx_size > 0 ? cfg.ctx_size : std::min<int64_t>(mc.max_position_embeddings, 4096);
    if (ctx <= 0) ctx = 4096;
    AX_ASSIGN_OR_RETURN(generator_, Generator::Create(*model_, ctx, cfg.kv_block_size));

    if (std::filesystem::exists(std::filesystem::path(cfg.model_dir) / "tokenizer.json")) {
      AX_ASSIGN_OR_RETURN(tokenizer_, Tokenizer::LoadFromDir(cfg.model_dir));
    }
    eos_ids_ = gen.eos_token_ids;
    for (int32_t id : mc.eos_token_ids) eos_ids_.push_back(id);
    if (tokenizer_ && tokenizer_->eos_id()) eos_ids_.push_back(*tokenizer_->eos_id());
    std::sort(eos_ids_.begin(), eos_ids_.end());
    eos_ids_.erase(std::unique(eos_ids_.begin(), eos_ids_.end()), eos_ids_.end());

    route_.backend = BackendKindName(backend_->kind());
    route_.backend_detail = backend_->Describe();
    route_.family = ModelFamilyName(mc.family);
    route_.architecture = mc.architecture;
    route_.dtype = DTypeName(model_->weight_dtype());
    return Status::Ok();
  }

  Result<GenerateResult> Generate(const GenerateRequest& req,
                                  const std::function<void(const TokenEvent&)>& on_token) override {
    GenerateResult result;
    if (req.prompt_text.has_value()) {
      if (!req.prompt_tokens.empty()) return InvalidArgument("give either prompt_text or prompt_tokens, not both");
      AX_ASSIGN_OR_RETURN(result.prompt_tokens, Tokenize(*req.prompt_text, /*add_special_tokens=*/true));
    } else {
      result.prompt_tokens = req.prompt_tokens;
    }
    GenerationParams params;
    params.max_tokens = req.max_tokens;
    params.ignore_eos = req.ignore_eos;
    params.stop_ids = eos_ids_;
    params.stop_ids.insert(params.stop_ids.end(), req.stop_token_ids.begin(), req.stop_token_ids.end());
    params.sampling = ToSamplingParams(req.sampling);

    std::unique_ptr<IncrementalDecoder> detok;
    if (tokenizer_) detok = std::make_unique<IncrementalDecoder>(*tokenizer_, /*skip_special_tokens=*/true);
    auto emit = [&](const GeneratedToken& t) {
      TokenEvent ev;
      ev.id = t.id;
      ev.logprob = t.logprob;
      ev.top_logprobs = t.top;
      if (detok) ev.text_delta = detok->Push(t.id);
      result.text += ev.text_delta;
      if (on_token) on_token(ev);
    };
    AX_ASSIGN_OR_RETURN(GenerationOutput out, generator_->Run(result.prompt_tokens, params, emit));
    if (detok) {
      std::string tail = detok->Flush();
      result.text += tail;
      if (!tail.empty() && on_token) {
        TokenEvent ev;
        ev.id = -1;  // text only: the decoder's held-back bytes at the end
        ev.text_delta = tail;
        on_token(ev);
      }
    }
    for (const GeneratedToken& t : out.tokens) {
      result.output_tokens.push_back(t.id);
      if (params.sampling.logprobs) result.output_logprobs.push_back(t.logprob);
    }
    result.finish_reason = out.reason == StopReason::kStopToken ? FinishReason::kStop : FinishReason::kLength;
    result.prefill_seconds = out.prefill_seconds;
    result.decode_seconds = out.decode_seconds;
    return result;
  }

  Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special_tokens) const override {
    if (!tokenizer_) return NotFound("this model directory has no tokenizer.json: pass token ids instead");
    return tokenizer_->Encode(text, add_special_tokens);
  }

  Result<std::string> Detokenize(const std::vector<int32_t>& ids) const override {
    if (!tokenizer_) return NotFound("this model directory has no tokenizer.json");
    return tokenizer_->Decode(ids, /*skip_special_tokens=*/true);
  }

  RouteInfo route() const override { return route_; }
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t ctx_size() const override { return generator_->ctx_size(); }

 private:
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Generator> generator_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<int32_t> eos_ids_;
  RouteInfo route_;
};

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& config) {
  auto impl = std::make_unique<EngineImpl>();
  AX_RETURN_IF_ERROR(impl->Init(config));
  return std::unique_ptr<Engine>(std::move(impl));
}

}  // namespace ax
