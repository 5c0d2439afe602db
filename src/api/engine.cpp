// ax::Engine on top of the backend, model, tokenizer and engine-core layers.
#include "ax/engine.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <filesystem>
#include <thread>

#include "api/constraint.h"
#include "backend/backend.h"
#include "engine/engine_core.h"
#include "model/config.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
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

Result<DecodePolicy> ParsePolicy(const std::string& name, const char* field) {
  if (name == "ngram") return DecodePolicy::kNgram;
  if (name == "direct") return DecodePolicy::kDirect;
  return InvalidArgument(std::string(field) + " '" + name + "': expected \"direct\" or \"ngram\"");
}

// KV pool size (blocks per full-attention group): max_seqs full contexts, capped by
// kv_cache_mb (default 4 GiB) over every KV group's pool. Windowed layers' groups
// take what their window needs (kv/kv_plan.h), so the memory they save goes to the
// full groups: more sequences, or longer ones, within the same cap. A hybrid model's
// recurrent state slots (state_bytes: max_seqs slots and their draft checkpoints) come
// out of an explicit kv_cache_mb first (a cap they do not fit is an error naming what
// to change); the default sizes the pools as for any model and the state sits beside
// them (Qwen3.5-9B's 16 slots with 4 checkpoints each take 4.2 GB on their own).
Result<int> KvBlocks(const EngineConfig& cfg, int64_t ctx, const std::vector<int>& windows,
                     const std::vector<size_t>& bytes_per_token, int64_t state_bytes) {
  const int64_t bs = cfg.kv_block_size;
  const int64_t want_blocks = ctx * cfg.max_seqs / bs;
  const int64_t mib = int64_t{1} << 20;
  const int64_t cap_mb = cfg.kv_cache_mb > 0 ? cfg.kv_cache_mb : 4096;
  if (cfg.kv_cache_mb <= 0) state_bytes = 0;
  if (state_bytes >= cap_mb * mib)
    return InvalidArgument("kv_cache_mb " + std::to_string(cap_mb) + " MiB does not hold the recurrent (GatedDelta) " +
                           "state of max_seqs " + std::to_string(cfg.max_seqs) + " sequences with " +
                           std::to_string(std::max(0, cfg.max_draft_tokens)) + " draft checkpoints each (" +
                           std::to_string((state_bytes + mib - 1) / mib) +
                           " MiB): raise kv_cache_mb or lower max_seqs / max_draft_tokens");
  const int64_t cap_bytes = cap_mb * mib - state_bytes;
  std::vector<int64_t> bytes_per_block;
  int64_t smallest = INT64_MAX;
  for (size_t b : bytes_per_token) {
    bytes_per_block.push_back(static_cast<int64_t>(b) * bs);
    if (b > 0) smallest = std::min(smallest, bytes_per_block.back());
  }
  const KvPlanParams plan{cfg.kv_block_size, cfg.max_seqs, cfg.max_batch_tokens};
  // An explicit cap is filled; by default no more than max_seqs contexts are asked for.
  const int64_t most = cfg.kv_cache_mb > 0 && smallest != INT64_MAX ? cap_bytes / smallest : want_blocks;
  return FullBlocksWithin(windows, bytes_per_block, cap_bytes, std::max<int64_t>(most, 1), plan);
}

class EngineImpl final : public Engine {
 public:
  ~EngineImpl() override { Stop(); }

  Status Init(const EngineConfig& cfg) {
    if (cfg.model_dir.empty()) return InvalidArgument("model_dir: expected a Hugging Face model directory");
    if (cfg.max_seqs <= 0) return InvalidArgument("max_seqs must be positive");
    if (cfg.kv_block_size <= 0) return InvalidArgument("kv_block_size must be positive");
    // Generated rows per forward at most: one per sequence plus its drafts.
    const int64_t max_logit_rows = std::max<int64_t>(int64_t{cfg.max_seqs} * (1 + std::max(0, cfg.max_draft_tokens)), 1);
    BackendOptions bopts;
    bopts.threads = cfg.threads;
    bopts.max_sequences = cfg.max_seqs;
    AX_ASSIGN_OR_RETURN(bopts.precision, ParsePrecision(cfg.precision, "precision"));
    AX_ASSIGN_OR_RETURN(backend_, CreateBackend(cfg.backend, bopts));
    ModelLoadOptions mopts;
    mopts.max_batch_tokens = cfg.max_batch_tokens;
    mopts.max_logit_rows = max_logit_rows;
    AX_ASSIGN_OR_RETURN(model_, Model::Load(cfg.model_dir, *backend_, mopts));
    AX_ASSIGN_OR_RETURN(GenerationConfig gen, LoadGenerationConfig(cfg.model_dir));
    if (cfg.generation_config != "auto" && cfg.generation_config != "none")
      return InvalidArgument("generation_config '" + cfg.generation_config + "': expected auto or none");
    sampling_defaults_.source = "none";
    if (cfg.generation_config == "auto" && gen.do_sample) {
      // transformers' GenerationConfig defaults stand in for the fields the file omits.
      SamplingOptions& d = sampling_defaults_.sampling;
      d.temperature = gen.temperature;
      d.top_p = gen.top_p;
      d.top_k = gen.top_k_given ? gen.top_k : 50;
      d.min_p = gen.min_p;
      d.repetition_penalty = gen.repetition_penalty;
      sampling_defaults_.source = "generation_config.json";
    }
    const ModelConfig& mc = model_->config();
    if (std::filesystem::exists(std::filesystem::path(cfg.model_dir) / "tokenizer.json")) {
      AX_ASSIGN_OR_RETURN(tokenizer_, Tokenizer::LoadFromDir(cfg.model_dir));
    }
    constraints_ = std::make_unique<ConstraintCompiler>(tokenizer_.get());

    auto tmpl = ChatTemplate::LoadFromDir(cfg.model_dir, cfg.chat_template_file);
    if (tmpl.ok()) {
      chat_template_ = std::move(tmpl).value();
    } else if (tmpl.status().code() != StatusCode::kNotFound) {
      return tmpl.status();
    }
    model_name_ = std::filesystem::path(cfg.model_dir).lexically_normal().filename().string();
    if (model_name_.empty()) model_name_ = std::filesystem::path(cfg.model_dir).parent_path().filename().string();

    EngineCoreConfig core;
    core.ctx_size = cfg.ctx_size > 0 ? cfg.ctx_size : std::min<int64_t>(mc.max_position_embeddings, 4096);
    if (core.ctx_size <= 1) core.ctx_size = 4096;
    core.block_size = cfg.kv_block_size;
    const std::vector<int> windows = model_->KvGroupWindows(core.release_window_blocks);
    const int64_t state_bytes =
        static_cast<int64_t>(model_->StateBytes(cfg.max_seqs, std::max(0, cfg.max_draft_tokens)));
    AX_ASSIGN_OR_RETURN(core.num_blocks,
                        KvBlocks(cfg, core.ctx_size, windows, model_->KvGroupBytesPerToken(windows), state_bytes));
    core.max_seqs = cfg.max_seqs;
    core.max_batch_tokens = cfg.max_batch_tokens;
    core.prefix_caching = cfg.prefix_caching;
    AX_ASSIGN_OR_RETURN(core.default_policy, ParsePolicy(cfg.policy, "policy"));
    core.max_draft = cfg.max_draft_tokens;
    AX_ASSIGN_OR_RETURN(core_, EngineCore::Create(*model_, tokenizer_.get(), core));

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
    route_.weights = model_->weight_format();
    return Status::Ok();
  }

  Result<std::shared_ptr<RequestStream>> Submit(const GenerateRequest& req) override {
    CoreRequest r;
    if (req.prompt_text.has_value()) {
      if (!req.prompt_tokens.empty()) return InvalidArgument("give either prompt_text or prompt_tokens, not both");
      AX_ASSIGN_OR_RETURN(r.prompt, Tokenize(*req.prompt_text, /*add_special_tokens=*/true));
    } else {
      r.prompt = req.prompt_tokens;
    }
    r.max_tokens = req.max_tokens;
    r.ignore_eos = req.ignore_eos;
    r.stop_ids = eos_ids_;
    r.stop_ids.insert(r.stop_ids.end(), req.stop_token_ids.begin(), req.stop_token_ids.end());
    r.stop_strings = req.stop;
    if (!req.stop.empty() && !tokenizer_) return InvalidArgument("stop: stop strings need a tokenizer.json");
    r.sampling = ToSamplingParams(req.sampling);
    r.priority = req.priority;
    r.skip_special_tokens = req.skip_special_tokens;
    r.prompt_logprobs = req.prompt_logprobs;
    if (!req.policy.empty()) {
      AX_ASSIGN_OR_RETURN(DecodePolicy p, ParsePolicy(req.policy, "policy"));
      r.policy = p;
    }
    if (req.constraint.kind != OutputConstraint::Kind::kNone) {
      AX_ASSIGN_OR_RETURN(ConstraintCompiler::Compiled c, constraints_->Compile(req.constraint));
      r.grammar = std::move(c.grammar);
      r.vocab = std::move(c.vocab);
    }
    AX_ASSIGN_OR_RETURN(std::shared_ptr<StreamImpl> s, core_->Submit(std::move(r)));
    return std::shared_ptr<RequestStream>(std::move(s));
  }

  Result<GenerateResult> Generate(const GenerateRequest& req,
                                  const std::function<void(const TokenEvent&)>& on_token) override {
    AX_ASSIGN_OR_RETURN(std::shared_ptr<RequestStream> stream, Submit(req));
    GenerateResult result;
    result.prompt_tokens = stream->prompt_tokens();
    Status failure;
    auto drain = [&] {
      StreamEvent ev;
      while (stream->Next(&ev, running_.load() ? 100 : 0)) {
        if (ev.kind == StreamEvent::Kind::kToken) {
          result.output_tokens.push_back(ev.token.id);
          if (req.sampling.logprobs || req.sampling.top_logprobs > 0) result.output_logprobs.push_back(ev.token.logprob);
          result.text += ev.token.text_delta;
          if (on_token) on_token(ev.token);
        } else {
          result.finish_reason = ev.finish_reason;
          result.text += ev.text_tail;
          if (!ev.text_tail.empty() && on_token) {
            TokenEvent tail;
            tail.id = -1;  // text only: held back until the end
            tail.text_delta = ev.text_tail;
            on_token(tail);
          }
          if (ev.finish_reason == FinishReason::kError) failure = Internal(ev.error);
        }
      }
    };
    while (!stream->finished()) {
      if (!running_.load()) {
        Status st = core_->Step();
        if (!st.ok() && failure.ok()) failure = st;
      }
      drain();
    }
    drain();
    if (!failure.ok()) return failure;
    result.metrics = stream->metrics();
    result.prefill_seconds = result.metrics.ttft_seconds;
    double decode = 0;
    for (double d : result.metrics.itl_seconds) decode += d;
    result.decode_seconds = decode;
    return result;
  }

  Status RunUntilIdle() override {
    if (running_.load()) return FailedPrecondition("the background engine thread is running");
    while (core_->HasWork()) AX_RETURN_IF_ERROR(core_->Step());
    return Status::Ok();
  }

  void Start() override {
    if (running_.exchange(true)) return;
    thread_ = std::thread([this] {
      while (running_.load()) {
        if (core_->HasWork()) {
          (void)core_->Step();  // failures reach the affected streams
        } else {
          core_->WaitForWork(50);
        }
      }
    });
  }

  void Stop() override {
    if (!running_.exchange(false)) return;
    if (thread_.joinable()) thread_.join();
  }

  EngineStats Stats() const override { return core_->Stats(); }

  Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special_tokens) const override {
    if (!tokenizer_) return NotFound("this model directory has no tokenizer.json: pass token ids instead");
    return tokenizer_->Encode(text, add_special_tokens);
  }

  Result<std::string> Detokenize(const std::vector<int32_t>& ids) const override {
    if (!tokenizer_) return NotFound("this model directory has no tokenizer.json");
    return tokenizer_->Decode(ids, /*skip_special_tokens=*/true);
  }

  Result<std::string> ApplyChatTemplate(const std::string& context_json) const override {
    if (!chat_template_) return NotFound("this model has no chat template (tokenizer_config.json chat_template)");
    return chat_template_->Render(context_json);
  }
  bool has_chat_template() const override { return chat_template_ != nullptr; }
  std::string chat_template_source() const override { return chat_template_ ? chat_template_->source() : ""; }
  std::string model_name() const override { return model_name_; }

  RouteInfo route() const override { return route_; }
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t ctx_size() const override { return core_->config().ctx_size; }
  SamplingDefaults sampling_defaults() const override { return sampling_defaults_; }

 private:
  SamplingDefaults sampling_defaults_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ConstraintCompiler> constraints_;
  std::unique_ptr<ChatTemplate> chat_template_;
  std::unique_ptr<EngineCore> core_;
  std::vector<int32_t> eos_ids_;
  std::string model_name_;
  RouteInfo route_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& config) {
  auto impl = std::make_unique<EngineImpl>();
  AX_RETURN_IF_ERROR(impl->Init(config));
  return std::unique_ptr<Engine>(std::move(impl));
}

}  // namespace ax
