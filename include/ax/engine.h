// AX Engine public API (std only). One Engine serves one model on one backend.
//
//   auto engine = ax::Engine::Create({.model_dir = "models/x"});
//   ax::GenerateRequest req;
//   req.prompt_text = "Once upon a time";
//   auto result = (*engine)->Generate(req, [](const ax::TokenEvent& e) { fputs(e.text_delta.c_str(), stdout); });
//
// Thread-safety: an Engine is used from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ax/status.h"

namespace ax {

struct SamplingOptions {
  double temperature = 0.0;  // 0: greedy
  double top_p = 1.0;
  int64_t top_k = 0;         // 0: off
  double min_p = 0.0;
  double repetition_penalty = 1.0;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  uint64_t seed = 0;         // same seed + same request → same tokens, on every run
  bool logprobs = false;
  int32_t top_logprobs = 0;
};

struct EngineConfig {
  std::string model_dir;
  std::string backend = "auto";   // auto | cpu | cuda
  int threads = 0;                // CPU threads; 0 = all the process may use
  int64_t ctx_size = 0;           // max tokens per sequence; 0 = min(max_position_embeddings, 4096)
  int kv_block_size = 16;
  int64_t max_batch_tokens = 512; // tokens per forward (prefill chunk size)
};

struct GenerateRequest {
  std::vector<int32_t> prompt_tokens;     // exact ids, nothing added; or
  std::optional<std::string> prompt_text; // text, encoded with the tokenizer's special tokens (e.g. BOS)
  int64_t max_tokens = 128;
  bool ignore_eos = false;
  std::vector<int32_t> stop_token_ids;    // in addition to the model's EOS ids
  SamplingOptions sampling;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* FinishReasonName(FinishReason r);  // "stop", "length", "cancelled", "error"

struct TokenEvent {
  int32_t id = 0;
  std::string text_delta;  // never ends inside a UTF-8 sequence; empty without a tokenizer
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top_logprobs;
};

struct GenerateResult {
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> output_tokens;
  std::vector<float> output_logprobs;  // when sampling.logprobs
  std::string text;
  FinishReason finish_reason = FinishReason::kLength;
  double prefill_seconds = 0;  // prompt forward(s) up to the first sampled token
  double decode_seconds = 0;   // every later step
  double prefill_tok_s() const;
  double decode_tok_s() const;  // (output tokens - 1) / decode_seconds
};

// Which route served the work: reported with every benchmark row.
struct RouteInfo {
  std::string backend;         // "cpu" | "cuda"
  std::string backend_detail;  // "cpu (avx2+fma+f16c, 2 threads)"
  std::string family;          // "llama" | "qwen3"
  std::string architecture;    // "Qwen3ForCausalLM"
  std::string dtype;           // stored weight dtype: "BF16"
};

class Engine {
 public:
  virtual ~Engine() = default;
  static Result<std::unique_ptr<Engine>> Create(const EngineConfig& config);

  // Runs one request to completion; on_token (optional) sees each token as it is made.
  virtual Result<GenerateResult> Generate(const GenerateRequest& request,
                                          const std::function<void(const TokenEvent&)>& on_token = {}) = 0;

  // Tokenizer access (NotFound when the model directory has no tokenizer.json).
  virtual Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special_tokens) const = 0;
  virtual Result<std::string> Detokenize(const std::vector<int32_t>& ids) const = 0;

  virtual RouteInfo route() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t ctx_size() const = 0;
};

}  // namespace ax
