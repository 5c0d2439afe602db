// AX Engine SDK (std only): a Session is one model behind one route, chosen explicitly.
//
//   ax::SessionConfig cfg;
//   cfg.engine.model_dir = "models/ax-demo-qwen3";
//   auto session = ax::Session::Open(cfg);          // policy auto: repo-owned if supported
//   ax::GenerateRequest req;
//   req.prompt_text = "def read_lines(path):\n";
//   req.max_tokens = 32;
//   auto out = (*session)->Generate(req);           // out->text, out->output_tokens
//   (*session)->report().support_tier;              // kRepoOwned
//
// Routes (support tiers):
//  - repo_owned: our model graphs on the CPU or CUDA backend (EngineConfig::backend);
//  - openai_delegated: any OpenAI-compatible server (vLLM, SGLang, mlx_lm.server,
//    llama-server, another ax-engine-server) at UpstreamConfig::url, through its
//    /v1/completions and /v1/chat/completions. Its answers carry text only: the
//    report's token_ids is false and outputs have no token ids (never guessed ones),
//    and its timings measure the upstream (report().throughput_is_ours is false).
// Resolution policies: repo_owned refuses a model the runtime cannot run, with the
// reason `ax-engine-bench doctor` gives; openai_delegated always delegates; auto runs
// the model here when doctor accepts it and otherwise delegates to the configured
// upstream, saying so in report().resolution_reason (an error when none is configured).
//
// Thread-safety: every method of Session and SessionStream may be called from any
// thread; requests from several threads are batched together (repo_owned) or sent as
// concurrent HTTP requests (delegated).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ax/engine.h"
#include "ax/status.h"

namespace ax {

enum class ResolutionPolicy { kRepoOwned, kOpenAiDelegated, kAuto };
const char* ResolutionPolicyName(ResolutionPolicy p);  // "repo_owned" | "openai_delegated" | "auto"
// InvalidArgument naming `field` and the accepted names for anything else.
Result<ResolutionPolicy> ParseResolutionPolicy(std::string_view name, std::string_view field);

enum class SupportTier { kRepoOwned, kOpenAiDelegated };
const char* SupportTierName(SupportTier t);  // "repo_owned" | "openai_delegated"

struct UpstreamConfig {
  // "http://host:port" or "https://host:port", optionally with a path prefix; a
  // trailing "/v1" is accepted (OpenAI clients' base-URL convention) and dropped.
  std::string url;
  std::string model;      // the "model" field sent; "": the first id of the upstream's GET /v1/models
  std::string api_key;    // sent as "Authorization: Bearer KEY" when set
  int connect_timeout_s = 10;
  int timeout_s = 300;    // longest wait for the upstream's next bytes (DeadlineExceeded after)
};

struct SessionConfig {
  ResolutionPolicy policy = ResolutionPolicy::kAuto;
  EngineConfig engine;      // model_dir, backend (auto | cpu | cuda), ...: repo_owned and auto
  UpstreamConfig upstream;  // openai_delegated, and auto's fallback
};

// Which route serves the session and why: shown by /v1/runtime, /metrics labels and
// every benchmark artifact, so delegated results are never taken for our own.
struct RuntimeReport {
  std::string selected_backend;     // "cpu" | "cuda" | "openai_delegated"
  SupportTier support_tier = SupportTier::kRepoOwned;
  ResolutionPolicy resolution_policy = ResolutionPolicy::kAuto;
  std::string resolution_reason;    // "auto: doctor accepts Qwen3ForCausalLM" / "auto: doctor: ...; delegated to URL"
  std::string backend_detail;       // "cpu (avx2+fma+f16c, 2 threads)" / "OpenAI-compatible upstream http://..."
  std::string model_id;             // the model directory's name, or the upstream's model id
  std::string model_dir;            // repo_owned
  std::string architecture;         // repo_owned: "Qwen3ForCausalLM"; delegated: "" (the upstream's own)
  std::string family;               // repo_owned: "qwen3"
  std::string weight_format;        // repo_owned: "BF16", "affine 4-bit g64"; delegated: "" (unknown here)
  std::string upstream_url;         // delegated: the server root (no "/v1")
  bool token_ids = true;            // false: outputs are text only (the upstream returns no ids)
  bool throughput_is_ours = true;   // false: timings measure the upstream
};

// One piece of a streamed answer.
struct SessionChunk {
  std::string text_delta;
  std::optional<int32_t> token;     // absent when the route gives text only
  bool finished = false;            // the last chunk: finish_reason is set
  FinishReason finish_reason = FinishReason::kStop;
};

struct SessionResult {
  std::string text;
  std::vector<int32_t> output_tokens;  // empty when !token_ids
  std::vector<int32_t> prompt_tokens;  // repo_owned
  bool token_ids = true;
  FinishReason finish_reason = FinishReason::kLength;
  // repo_owned: the engine's numbers. Delegated: prompt/completion tokens from the
  // upstream's usage (0 when it sends none) and ttft/total measured here; the rest 0.
  RequestMetrics metrics;
};

// The caller's end of one streamed request.
class SessionStream {
 public:
  virtual ~SessionStream() = default;
  // Waits for the next chunk. False once the finished chunk was taken (or after an
  // error: status() says what failed).
  virtual bool Next(SessionChunk* chunk) = 0;
  // Stops the request; the stream ends with FinishReason::kCancelled.
  virtual void Cancel() = 0;
  // Ok, or why the request failed (bad field, upstream unreachable, timeout, ...).
  virtual Status status() const = 0;
  // The whole answer so far; complete once Next returned false.
  virtual SessionResult result() const = 0;
};

struct ChatMessage {
  std::string role;     // system | user | assistant | tool
  std::string content;
};

class Session {
 public:
  virtual ~Session() = default;
  // Resolves the route (see above) and opens it: loads the model, or checks that the
  // upstream answers GET /v1/models (and takes its first model id when none is set).
  static Result<std::unique_ptr<Session>> Open(const SessionConfig& config);

  // A completion of prompt_tokens (exact ids) or prompt_text. Delegated routes forward
  // max_tokens (0: left to the upstream's default), stop, ignore_eos and every
  // SamplingOptions field but logprobs, all explicit (the upstream's defaults never
  // stand in for ours); other
  // fields they cannot honour (constraint, prompt_logprobs, stop_token_ids, ...) are
  // refused with InvalidArgument naming them.
  Result<std::shared_ptr<SessionStream>> Stream(const GenerateRequest& request) {
    return Start(request, nullptr, /*streaming=*/true);
  }
  // The model's chat template (repo_owned) or the upstream's /v1/chat/completions;
  // `options` gives max_tokens, stop and sampling, and must carry no prompt.
  Result<std::shared_ptr<SessionStream>> StreamChat(const std::vector<ChatMessage>& messages,
                                                    const GenerateRequest& options) {
    return Start(options, &messages, /*streaming=*/true);
  }

  // Run to completion. on_chunk (optional) sees each chunk; returning false cancels.
  Result<SessionResult> Generate(const GenerateRequest& request,
                                 const std::function<bool(const SessionChunk&)>& on_chunk = {});
  Result<SessionResult> Chat(const std::vector<ChatMessage>& messages, const GenerateRequest& options,
                             const std::function<bool(const SessionChunk&)>& on_chunk = {});
  // Cancels every request of this session still running.
  virtual void CancelAll() = 0;

  virtual const RuntimeReport& report() const = 0;
  // The engine of a repo_owned session (tokenizer, chat template, stats); null when
  // delegated.
  virtual Engine* engine() = 0;

 protected:
  // messages null: a completion of request's prompt, else a chat. streaming false: the
  // route may answer in one piece (a delegated route sends one non-streaming request).
  virtual Result<std::shared_ptr<SessionStream>> Start(const GenerateRequest& request,
                                                       const std::vector<ChatMessage>* messages,
                                                       bool streaming) = 0;
};

}  // namespace ax
