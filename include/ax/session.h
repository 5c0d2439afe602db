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
//    and its timings measure the upstream (report().throughput_is_ours is false);
//  - llama_cpp: llama.cpp's llama-server (a GGUF file) at UpstreamConfig::url.
//    Completions go through its native /completion, which takes and returns token ids
//    (report().token_ids is true; chunks carry them); chats through its
//    /v1/chat/completions (text only, as openai_delegated). Timings are llama.cpp's.
//    llama-server's stream leaves out the id of a token whose text ends inside a UTF-8
//    sequence; a streamed answer that lost one says SessionResult::token_ids false and
//    carries no ids from then on (a blocking one has them all).
//    n > 1 is n requests, seeded seed + i (SessionOptions::n).
//    Its CLI variant (LlamaCliConfig, no upstream.url): llama.cpp's llama-completion
//    (tested with the llama.cpp of the npm package node-llama-cpp 3.22.1) run once per
//    choice on a GGUF file, the sampling fields as its flags (penalties need
//    ctx_size, their window), its stdout read as the answer: completions of
//    prompt_text only, text only (report().token_ids false: the CLI prints no ids),
//    no usage counts (0), stop strings matched here on its output. A run whose output
//    llama.cpp lost at exit (its logger is not flushed) is run again, at most 4 times.
// Resolution policies: repo_owned refuses a model the runtime cannot run, with the
// reason `ax-engine-bench doctor` gives; openai_delegated and llama_cpp always
// delegate; auto runs
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
#include <utility>
#include <vector>

#include "ax/engine.h"
#include "ax/status.h"

namespace ax {

enum class ResolutionPolicy { kRepoOwned, kOpenAiDelegated, kLlamaCpp, kAuto };
// "repo_owned" | "openai_delegated" | "llama_cpp" | "auto"
const char* ResolutionPolicyName(ResolutionPolicy p);
// InvalidArgument naming `field` and the accepted names for anything else.
Result<ResolutionPolicy> ParseResolutionPolicy(std::string_view name, std::string_view field);

enum class SupportTier { kRepoOwned, kOpenAiDelegated, kLlamaCpp };
const char* SupportTierName(SupportTier t);  // "repo_owned" | "openai_delegated" | "llama_cpp"

struct UpstreamConfig {
  // "http://host:port" or "https://host:port", optionally with a path prefix; a
  // trailing "/v1" is accepted (OpenAI clients' base-URL convention) and dropped.
  std::string url;
  std::string model;      // the "model" field sent; "": the first id of the upstream's GET /v1/models
  std::string api_key;    // sent as "Authorization: Bearer KEY" when set
  int connect_timeout_s = 10;
  int timeout_s = 300;    // longest wait for the upstream's next bytes (DeadlineExceeded after)
};

// The llama_cpp route without a server: llama.cpp's CLI run per request.
struct LlamaCliConfig {
  std::string binary;  // a path to llama-completion: takes -m -p -n --temp ... -no-cnv --no-display-prompt
  std::string gguf;    // the model file
  int threads = 0;       // -t; 0: llama.cpp's default
  int64_t ctx_size = 0;  // -c, and the penalties' window; 0: llama.cpp's default (no penalties then)
  std::vector<std::string> extra_args;  // appended to every command line as they are
};

struct SessionConfig {
  ResolutionPolicy policy = ResolutionPolicy::kAuto;
  EngineConfig engine;      // model_dir, backend (auto | cpu | cuda), ...: repo_owned and auto
  UpstreamConfig upstream;  // openai_delegated, llama_cpp, and auto's fallback (through the OpenAI API)
  LlamaCliConfig llama_cli; // llama_cpp when upstream.url is empty
};

// Which route serves the session and why: shown by /v1/runtime, /metrics labels and
// every benchmark artifact, so delegated results are never taken for our own.
struct RuntimeReport {
  std::string selected_backend;  // "cpu" | "cuda" | "openai_delegated" | "llama_cpp"
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
  bool token_ids = true;            // false: completions are text only (the upstream returns no ids)
  bool throughput_is_ours = true;   // false: timings measure the upstream
};

// A tool call of a chat answer (OpenAI's message.tool_calls[i]).
struct ToolCall {
  std::string id;  // as the route names it ("call_..."), for the tool message that answers it
  std::string name;
  std::string arguments;  // JSON text, as the model wrote it
};

// A part of a tool call as it streams (OpenAI's delta.tool_calls[j]): a call's first
// part has its id and name; the parts' arguments, joined in order, are the call's.
struct ToolCallPart {
  int index = 0;          // which call of the choice
  std::string id;         // first part only
  std::string name;       // first part only
  std::string arguments;  // the next piece of the arguments text
};

// One piece of a streamed answer, of one choice.
struct SessionChunk {
  int choice = 0;                        // which of SessionOptions::n choices
  std::string text_delta;                // content
  std::string reasoning_delta;           // chat: reasoning the route split from content
  std::vector<ToolCallPart> tool_calls;  // chat: parts of tool calls
  std::optional<int32_t> token;          // absent when the route gives text only
  bool finished = false;                 // the choice's last chunk: finish_reason is set
  FinishReason finish_reason = FinishReason::kStop;
};

// One choice of an answer, complete once its stream has ended.
struct SessionChoice {
  std::string text;                  // content
  std::string reasoning;             // chat: reasoning split from content ("" when none)
  std::vector<ToolCall> tool_calls;  // chat: the calls, parts joined
  FinishReason finish_reason = FinishReason::kLength;
};

struct SessionResult {
  std::string text;                    // choice 0's
  std::vector<int32_t> output_tokens;  // empty when !token_ids
  std::vector<int32_t> prompt_tokens;  // repo_owned
  bool token_ids = true;               // false: output_tokens is empty (the route gave no, or not all, ids)
  FinishReason finish_reason = FinishReason::kLength;  // choice 0's
  // Every choice, choices[0] included (its text and finish_reason are the ones above).
  std::vector<SessionChoice> choices;
  // repo_owned: the engine's numbers. Delegated: prompt/completion tokens from the
  // upstream's usage (0 when it sends none; all choices together) and ttft/total
  // measured here; the rest 0.
  RequestMetrics metrics;
};

// The caller's end of one streamed request.
class SessionStream {
 public:
  virtual ~SessionStream() = default;
  // Waits for the next chunk. False once every choice's finished chunk was taken (or
  // after an error: status() says what failed).
  virtual bool Next(SessionChunk* chunk) = 0;
  // Stops the request; the stream ends with FinishReason::kCancelled.
  virtual void Cancel() = 0;
  // Ok, or why the request failed (bad field, upstream unreachable, timeout, ...).
  virtual Status status() const = 0;
  // The whole answer so far; complete once Next returned false.
  virtual SessionResult result() const = 0;
};

struct ChatMessage {
  ChatMessage() = default;
  // {"user", "Hi"}: a turn of text, the other fields empty.
  ChatMessage(std::string r, std::string c) : role(std::move(r)), content(std::move(c)) {}

  std::string role;     // system | user | assistant | tool
  std::string content;
  std::string name;                  // optional: the author's name
  std::vector<ToolCall> tool_calls;  // assistant: the calls it made (sent back with their results)
  std::string tool_call_id;          // tool: the call this message answers
  std::string reasoning_content;     // assistant: its reasoning, for templates that keep it
};

// What a request adds to GenerateRequest on a Session route.
struct SessionOptions {
  // Independent choices of one prompt (OpenAI's n), 1 to 128. openai_delegated forwards
  // it: the upstream seeds them as it does its own n. llama_cpp sends n requests of one
  // choice each (llama-server's /completion has no n), choice i with sampling.seed + i
  // as the server's own n > 1 seeds them, so choice i equals a request of n 1 with seed
  // + i; usage is the prompt once and every choice's completion tokens. repo_owned
  // takes 1 only (the server's own routes serve n > 1).
  int n = 1;
  // Chat only, forwarded by delegated routes as OpenAI's fields (repo_owned refuses
  // them: the server's /v1/chat/completions parses tools and reasoning itself):
  std::string tools_json;        // "tools": a JSON array of {"type": "function", ...}; "" none
  std::string tool_choice_json;  // "tool_choice": JSON ("\"auto\"", {"type": "function", ...}); "" unset
  std::optional<bool> parallel_tool_calls;
  std::string reasoning_effort;  // "" unset, else "none" | "minimal" | "low" | "medium" | "high"
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
  Result<std::shared_ptr<SessionStream>> Stream(const GenerateRequest& request, const SessionOptions& options = {}) {
    return Start(request, nullptr, /*streaming=*/true, options);
  }
  // The model's chat template (repo_owned) or the upstream's /v1/chat/completions;
  // `options` gives max_tokens, stop and sampling, and must carry no prompt.
  // Delegated chats pass the upstream's reasoning and tool calls on as it sends them
  // (SessionChunk::reasoning_delta, tool_calls).
  Result<std::shared_ptr<SessionStream>> StreamChat(const std::vector<ChatMessage>& messages,
                                                    const GenerateRequest& options, const SessionOptions& extra = {}) {
    return Start(options, &messages, /*streaming=*/true, extra);
  }

  // Run to completion. on_chunk (optional) sees each chunk; returning false cancels.
  Result<SessionResult> Generate(const GenerateRequest& request,
                                 const std::function<bool(const SessionChunk&)>& on_chunk = {},
                                 const SessionOptions& extra = {});
  Result<SessionResult> Chat(const std::vector<ChatMessage>& messages, const GenerateRequest& options,
                             const std::function<bool(const SessionChunk&)>& on_chunk = {},
                             const SessionOptions& extra = {});
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
                                                       const std::vector<ChatMessage>* messages, bool streaming,
                                                       const SessionOptions& extra) = 0;
};

}  // namespace ax
