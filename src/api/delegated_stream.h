// The SessionStream of every delegated route: one HTTP request to the upstream on its
// own thread, blocking or SSE, whose answers a route-specific reader turns into
// per-choice parts (session_delegated.cpp reads OpenAI's shapes, session_llama_cpp.cpp
// llama-server's /completion).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ax/session.h"
#include "delegate/upstream_client.h"

namespace ax {

// What one choice of a blocking answer or of a stream event says.
struct ChoicePart {
  int index = 0;
  std::string text, reasoning;
  std::vector<ToolCallPart> calls;
  std::vector<int32_t> tokens;         // the ids behind `text`, when the upstream gives them
  bool ids_left_out = false;           // the upstream generated ids it did not send (see Take)
  std::optional<FinishReason> finish;  // the upstream said the choice ended, and why
  bool empty() const { return text.empty() && reasoning.empty() && calls.empty() && tokens.empty(); }
};

// Reads one answer (blocking) or one SSE event's JSON into parts and usage
// (prompt/completion tokens). A non-ok status ends the request with that error.
using UpstreamReader =
    std::function<Status(const nlohmann::json& j, std::vector<ChoicePart>* parts, RequestMetrics* usage)>;

struct UpstreamCall {
  std::string path;  // "/v1/completions", "/completion", ...
  nlohmann::json body;
  bool streaming = true;
  int n = 1;               // choices asked for: parts name 0 … n-1
  bool token_ids = false;  // the reader gives ids (SessionResult::output_tokens, chunks' token)
  // Sets the body's streaming fields (OpenAI: stream + stream_options).
  std::function<void(nlohmann::json*)> ask_for_stream;
  UpstreamReader read;
};

// A request in flight on its own thread; chunks queue up for Next(). Each choice's
// finished chunk is queued once the upstream's answer has ended (after its usage).
// Parts with several ids become one chunk per id, the text on the last (as the
// repo-owned route gives an id whose text is not complete yet an empty text_delta).
// Once a part says ids were left out, chunks carry none and the result says token_ids
// false with no output_tokens: an incomplete list is never passed off as the answer's.
class DelegatedStream final : public SessionStream {
 public:
  DelegatedStream(std::shared_ptr<const delegate::UpstreamClient> client, UpstreamCall call);
  ~DelegatedStream() override;

  bool Next(SessionChunk* chunk) override;
  void Cancel() override { cancel_.Cancel(); }
  Status status() const override;
  SessionResult result() const override;

 private:
  Status RunBlocking();
  Status RunStreaming();
  // The reader's parts, its errors naming the URL. REQUIRES: mu_ held.
  Status Read(const nlohmann::json& j, std::vector<ChoicePart>* parts);
  Status Take(const std::vector<ChoicePart>& parts);  // REQUIRES: mu_ held
  void Queue(const ChoicePart& p);                    // its chunks; REQUIRES: mu_ held
  void Finish(const Status& s);
  double Seconds() const;
  std::string Url() const { return client_->Url(call_.path); }

  const std::shared_ptr<const delegate::UpstreamClient> client_;
  const UpstreamCall call_;
  const std::chrono::steady_clock::time_point t0_;
  delegate::CancelToken cancel_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SessionChunk> queue_;
  SessionResult result_;                               // token_ids, output_tokens, metrics
  std::vector<SessionChoice> choices_;                 // [n]
  std::vector<std::optional<FinishReason>> finishes_;  // [n]: the upstream's finish reasons
  bool first_piece_ = false;
  bool ids_lost_ = false;  // a part had ids_left_out: the result says token_ids false
  Status status_;
  bool ended_ = false;
  std::thread worker_;  // last: starts once every member above exists
};

// Every choice of an OpenAI answer or chunk (choices[i].text, or for chats
// message/delta content, reasoning_content (or vLLM's "reasoning") and tool_calls),
// and its usage (session_delegated.cpp).
Status ReadOpenAiAnswer(const nlohmann::json& j, bool chat, std::vector<ChoicePart>* parts, RequestMetrics* usage);

// A completion through llama-server's native /completion (session_llama_cpp.cpp): the
// prompt as text or exact ids, the sampling fields in llama.cpp's names, the answer's
// ids returned. n_ctx: llama-server's context per slot, the window of its penalties (0:
// unknown, and then a penalty is refused). InvalidArgument naming what it cannot ask
// for (n > 1, chat fields).
Result<UpstreamCall> LlamaCompletionCall(const GenerateRequest& request, const SessionOptions& extra, bool streaming,
                                         int64_t n_ctx);

}  // namespace ax
