// AX Engine public API (std only). One Engine serves one model on one backend.
//
//   auto engine = ax::Engine::Create({.model_dir = "models/x"});
//   ax::GenerateRequest req;
//   req.prompt_text = "Once upon a time";
//   auto result = (*engine)->Generate(req, [](const ax::TokenEvent& e) { fputs(e.text_delta.c_str(), stdout); });
//
// Two ways to drive it:
//  - Generate(): one request, run to completion on the calling thread;
//  - Submit() from any thread + an engine thread (Start(), or RunUntilIdle() called by
//    the owner): every submitted request is batched with the others each step, and its
//    events stream through its RequestStream.
// Thread-safety: Submit, RequestStream, Stats and Start/Stop are thread-safe. The
// engine state is touched only by the thread that runs the steps.
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
  // Activations and KV cache: "auto" (the backend's own: CPU f32, CUDA bf16), "bf16"
  // (CUDA) or "f32" (every backend; on CUDA a precision mode that agrees with the CPU
  // backend to f32 rounding, slower: docs/cuda-backend.md).
  std::string precision = "auto";
  int64_t ctx_size = 0;           // max tokens per sequence; 0 = min(max_position_embeddings, 4096)
  int kv_block_size = 16;
  int64_t max_batch_tokens = 512; // token budget per step (prefill chunks + decodes)
  int max_seqs = 16;              // requests running at once
  int64_t kv_cache_mb = 0;        // KV pool size; 0 = enough for max_seqs × ctx_size, at most 4096 MiB
  bool prefix_caching = true;     // reuse KV of shared prompt prefixes across requests
  std::string policy = "ngram";   // default decode policy: "ngram" (drafts verified in one forward) or "direct"
  int max_draft_tokens = 4;       // drafts per request per step at most (n-gram policy)
  // Sampling defaults for requests that omit a field: "auto" takes the model's
  // generation_config.json (when it sets do_sample: temperature, top_p, top_k, min_p,
  // repetition_penalty, with transformers' defaults for the ones it leaves out);
  // "none" keeps greedy decoding (SamplingOptions' defaults).
  std::string generation_config = "auto";
  // A Jinja chat template file used instead of the model's (its special tokens still come
  // from the model directory); empty: the model's own.
  std::string chat_template_file;
};

// Where Engine::sampling_defaults() came from, and what it is.
struct SamplingDefaults {
  SamplingOptions sampling;  // temperature, top_p, top_k, min_p, repetition_penalty
  std::string source;        // "generation_config.json", or "none" (greedy)
};

// Constrained decoding (docs/structured-output.md): every sampled token keeps the output
// a prefix of a match, and the request ends once the match is complete and nothing may
// follow (or at a stop token, allowed only where the output is complete). N-gram
// drafts are cut at the first token the grammar refuses; drafting stays lossless.
struct OutputConstraint {
  enum class Kind { kNone, kJsonObject, kJsonSchema, kRegex, kChoice, kGrammar };
  // kGrammar: a rule of the GBNF text defined by a JSON schema (the subschema at
  // `pointer` of `schema`, "" = all of it), so a grammar composes literal text with
  // schema-constrained JSON (a forced tool call: tags, name, then the arguments).
  struct SchemaRule {
    std::string name;     // as the GBNF text references it ([a-zA-Z0-9_-]+)
    std::string schema;   // JSON text
    std::string pointer;  // JSON pointer into schema
  };
  Kind kind = Kind::kNone;
  std::string text;                  // kJsonSchema: the schema's JSON text; kRegex; kGrammar: GBNF
  std::vector<std::string> choices;  // kChoice
  std::vector<SchemaRule> schema_rules;  // kGrammar
  // Special tokens the output may contain, by their text (e.g. "<|tool_call>"): where
  // the grammar writes that text the token is allowed. Other special tokens never are.
  std::vector<std::string> special_tokens;
};

struct GenerateRequest {
  std::vector<int32_t> prompt_tokens;     // exact ids, nothing added; or
  std::optional<std::string> prompt_text; // text, encoded with the tokenizer's special tokens (e.g. BOS)
  int64_t max_tokens = 128;
  bool ignore_eos = false;
  std::vector<int32_t> stop_token_ids;    // in addition to the model's EOS ids (text not emitted)
  std::vector<std::string> stop;          // stop strings: matched across tokens, never emitted
  SamplingOptions sampling;
  int priority = 0;                       // higher is admitted first (FCFS within a priority)
  std::string policy;                     // "" (engine default), "direct" or "ngram"
  // false: special tokens' text is part of text_delta (a tool-call syntax made of
  // special tokens, e.g. Gemma 4's <|tool_call>). A stop token's text never is.
  bool skip_special_tokens = true;
  // ≥ 0: the logprob of every prompt token after the first, from the prefill's own
  // logits rows, with this many top alternatives each (≤ 20); the request then reuses
  // no cached prefix (every position is computed). max_tokens may be 0 with it.
  int prompt_logprobs = -1;
  OutputConstraint constraint;  // kNone: unconstrained
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* FinishReasonName(FinishReason r);  // "stop", "length", "cancelled", "error"

struct TokenEvent {
  int32_t id = 0;
  std::string text_delta;  // never ends inside a UTF-8 sequence; empty without a tokenizer
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top_logprobs;
};

// One event of a request's stream: a token (with its text delta), or the end.
struct StreamEvent {
  enum class Kind { kToken, kFinish };
  Kind kind = Kind::kToken;
  TokenEvent token;                      // kToken
  FinishReason finish_reason = FinishReason::kStop;  // kFinish
  std::string error;                     // kFinish with kError
  std::string text_tail;                 // kFinish: text held back until the end
  std::string stop_string;               // kFinish with kStop: the stop string that ended it ("" for a stop token)
  // The request's first event (a token, or the finish when max_tokens is 0), when it
  // asked for prompt_logprobs: positions 1 … n-1 of the prompt (text_delta empty).
  std::vector<TokenEvent> prompt_logprobs;
};

// Per-request numbers, complete once the stream has finished.
struct RequestMetrics {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t prefix_hit_tokens = 0;   // prompt tokens whose KV was reused
  int64_t preemptions = 0;
  double queue_seconds = 0;        // submission → first scheduled
  double ttft_seconds = 0;         // submission → first token
  double total_seconds = 0;        // submission → finish
  std::vector<double> itl_seconds; // gaps between consecutive tokens
  // Decode policy and n-gram speculation (zero under "direct").
  std::string policy;              // "direct" | "ngram"
  int64_t forwards = 0;            // engine steps that produced tokens for this request
  int64_t draft_tokens_proposed = 0;
  int64_t draft_tokens_accepted = 0;
  double acceptance_ema = 0;       // the gate's running acceptance estimate
  bool gate_open = false;          // whether drafting was on at the end
  double acceptance_rate() const {
    return draft_tokens_proposed ? static_cast<double>(draft_tokens_accepted) / draft_tokens_proposed : 0.0;
  }
  double tokens_per_forward() const {
    return forwards ? static_cast<double>(completion_tokens) / forwards : 0.0;
  }
};

// The caller's end of a submitted request.
class RequestStream {
 public:
  virtual ~RequestStream() = default;
  virtual int64_t id() const = 0;
  // Waits for the next event (timeout_ms < 0: forever). False on timeout or after the
  // finish event was taken.
  virtual bool Next(StreamEvent* event, int timeout_ms = -1) = 0;
  // Asks the engine to stop the request; its KV blocks are freed within one step and
  // its stream ends with kCancelled.
  virtual void Cancel() = 0;
  virtual bool finished() const = 0;
  virtual RequestMetrics metrics() const = 0;
  virtual std::vector<int32_t> prompt_tokens() const = 0;
};

// Engine counters (for /metrics and benchmark summaries).
struct EngineStats {
  int64_t queued = 0, running = 0;
  int64_t preemptions = 0;           // total
  // KV blocks over every KV group (a group's blocks hold its layers' K/V of block_size tokens).
  int64_t blocks_total = 0, blocks_used = 0, blocks_free = 0, blocks_cached = 0;
  int64_t blocks_used_peak = 0;      // most blocks in use at once since the engine started
  int64_t block_size = 0;
  // Of those, the sliding-window layers' groups (their blocks behind the window go
  // back to the pool, so their use follows the window, not the context).
  int64_t window_blocks_total = 0, window_blocks_used = 0, window_blocks_used_peak = 0;
  int64_t prefix_hit_tokens = 0;     // total
  int64_t steps = 0, tokens_computed = 0;  // forward steps and tokens through them
  int64_t requests_finished = 0, requests_cancelled = 0, requests_failed = 0;
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int64_t draft_tokens_proposed = 0, draft_tokens_accepted = 0;  // totals (n-gram policy)
  // Steps with no prompt rows (pure decode): their whole wall time (drafting, planning,
  // forward, sampling) and the tokens they made, so decode throughput can be read apart
  // from prefill.
  double decode_step_seconds = 0;
  int64_t decode_step_tokens = 0;
  // Of those steps: how many, the part of their time spent in the model's forward
  // (metadata upload, launches, waiting for the device, read-back; the rest is the
  // engine's host work), and how many replayed a recorded forward (CUDA graphs).
  int64_t decode_steps = 0, decode_steps_replayed = 0;
  double decode_forward_seconds = 0;
  int64_t gate_open_requests = 0;    // running requests whose drafting gate is open
  double step_cost_1_token_ms = 0, step_cost_8_tokens_ms = 0;  // the learned step time T(1), T(8)
  // Steps that read whole logit rows back to sample on the host, rather than ids or
  // candidates (penalties, top-k above the candidates, a top-p cut past them, ...).
  int64_t steps_reading_logits = 0;
  double tokens_per_step() const { return steps ? static_cast<double>(tokens_computed) / steps : 0.0; }
};

struct GenerateResult {
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> output_tokens;
  std::vector<float> output_logprobs;  // when sampling.logprobs
  std::string text;
  FinishReason finish_reason = FinishReason::kLength;
  double prefill_seconds = 0;  // submission to the first sampled token
  double decode_seconds = 0;   // first token to the last
  RequestMetrics metrics;
  double prefill_tok_s() const;
  double decode_tok_s() const;  // (output tokens - 1) / decode_seconds
};

// Which route served the work: reported with every benchmark row.
struct RouteInfo {
  std::string backend;         // "cpu" | "cuda"
  std::string backend_detail;  // "cpu (avx2+fma+f16c, 2 threads)"
  std::string family;          // "llama" | "qwen3"
  std::string architecture;    // "Qwen3ForCausalLM"
  std::string dtype;           // stored weight dtype: "BF16" (a quantized checkpoint's scales)
  std::string weights;         // weight format: "BF16", or "affine 4-bit g64" (MLX-quantized)
};

class Engine {
 public:
  virtual ~Engine() = default;
  static Result<std::unique_ptr<Engine>> Create(const EngineConfig& config);

  // Runs one request to completion; on_token (optional) sees each token as it is made.
  virtual Result<GenerateResult> Generate(const GenerateRequest& request,
                                          const std::function<void(const TokenEvent&)>& on_token = {}) = 0;

  // Queues a request; thread-safe. Errors (bad ids, prompt longer than the context,
  // a request that can never fit the KV cache) come back here, naming the field.
  virtual Result<std::shared_ptr<RequestStream>> Submit(const GenerateRequest& request) = 0;
  // Runs engine steps on the calling thread until no request is queued or running.
  virtual Status RunUntilIdle() = 0;
  // Starts / stops a background engine thread that steps whenever there is work.
  virtual void Start() = 0;
  virtual void Stop() = 0;
  virtual EngineStats Stats() const = 0;

  // Tokenizer access (NotFound when the model directory has no tokenizer.json).
  virtual Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special_tokens) const = 0;
  virtual Result<std::string> Detokenize(const std::vector<int32_t>& ids) const = 0;

  // Renders the model's chat template (tokenizer_config.json) with a JSON context:
  //   {"messages": [...], "add_generation_prompt": true, "tools": [...], ...}
  // NotFound when the model has no chat template.
  virtual Result<std::string> ApplyChatTemplate(const std::string& context_json) const = 0;
  virtual bool has_chat_template() const = 0;
  // The chat template's Jinja text ("" without one).
  virtual std::string chat_template_source() const = 0;
  // The model's identity for /v1/models ("stories260K": the directory's name).
  virtual std::string model_name() const = 0;

  virtual RouteInfo route() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t ctx_size() const = 0;
  // The sampling a request gets for the fields it omits (EngineConfig::generation_config).
  virtual SamplingDefaults sampling_defaults() const = 0;
};

}  // namespace ax
