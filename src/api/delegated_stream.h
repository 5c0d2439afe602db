// The SessionStream of every delegated route: HTTP requests to the upstream, each on its
// own thread, blocking or SSE, whose answers a route-specific reader turns into
// per-choice parts (session_delegated.cpp reads OpenAI's shapes, session_llama_cpp.cpp
// llama-server's /completion). Usually one request for all n choices; the llama_cpp
// route sends one request per choice (llama-server gives one choice per request), and
// the requests' choices are numbered one after the other.
#pragma once

#include <chrono>
#include <atomic>
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

// Requests in flight, each on its own thread; chunks queue up for Next(). Each choice's
// finished chunk is queued once every request has ended (after their usage). The first
// request to fail cancels the others and is the stream's status. Usage over several
// requests: prompt_tokens the largest one's (the prompt, counted once, as OpenAI's n
// does), completion_tokens the sum.
// Parts with several ids become one chunk per id, the text on the last (as the
// repo-owned route gives an id whose text is not complete yet an empty text_delta).
// Once a part says ids were left out, chunks carry none and the result says token_ids
// false with no output_tokens: an incomplete list is never passed off as the answer's.
class DelegatedStream final : public SessionStream {
 public:
  // REQUIRES: calls not empty, every call with the same token_ids.
  DelegatedStream(std::shared_ptr<const delegate::UpstreamClient> client, std::vector<UpstreamCall> calls);
  ~DelegatedStream() override;

  bool Next(SessionChunk* chunk) override;
  void Cancel() override;
  Status status() const override;
  SessionResult result() const override;

 private:
  // Request k of calls_.
  Status RunBlocking(size_t k);
  Status RunStreaming(size_t k);
  void Done(size_t k, const Status& s);  // the request's end; the last one ends the stream
  // The reader's parts, its errors naming the URL. REQUIRES: mu_ held.
  Status Read(size_t k, const nlohmann::json& j, std::vector<ChoicePart>* parts);
  Status Take(size_t k, std::vector<ChoicePart> parts);  // REQUIRES: mu_ held
  void Queue(const ChoicePart& p);                       // its chunks; REQUIRES: mu_ held
  void Finish();                                         // REQUIRES: mu_ held
  double Seconds() const;
  std::string Url(size_t k) const { return client_->Url(calls_[k].path); }

  const std::shared_ptr<const delegate::UpstreamClient> client_;
  const std::vector<UpstreamCall> calls_;
  const std::chrono::steady_clock::time_point t0_;
  std::vector<int> first_choice_;             // [calls]: the number of request k's choice 0
  std::deque<delegate::CancelToken> cancels_;  // [calls]
  std::atomic<bool> cancelled_{false};        // Cancel() was called
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SessionChunk> queue_;
  SessionResult result_;                               // token_ids, output_tokens, metrics
  std::vector<RequestMetrics> usage_;                  // [calls]: each request's usage
  std::vector<SessionChoice> choices_;                 // [n]
  std::vector<std::optional<FinishReason>> finishes_;  // [n]: the upstream's finish reasons
  bool first_piece_ = false;
  bool ids_lost_ = false;  // a part had ids_left_out: the result says token_ids false
  Status status_;          // the first request's failure
  size_t running_ = 0;     // requests not yet done
  bool ended_ = false;
  std::vector<std::thread> workers_;  // last: they start once every member above exists
};

// Every choice of an OpenAI answer or chunk (choices[i].text, or for chats
// message/delta content, reasoning_content (or vLLM's "reasoning") and tool_calls),
// and its usage (session_delegated.cpp).
Status ReadOpenAiAnswer(const nlohmann::json& j, bool chat, std::vector<ChoicePart>* parts, RequestMetrics* usage);

// A completion through llama-server's native /completion (session_llama_cpp.cpp): the
// prompt as text or exact ids, the sampling fields in llama.cpp's names, the answer's
// ids returned. n_ctx: llama-server's context per slot, the window of its penalties (0:
// unknown, and then a penalty is refused). InvalidArgument naming what it cannot ask
// for (chat fields; n > 1: the caller sends n calls, one per choice).
Result<UpstreamCall> LlamaCompletionCall(const GenerateRequest& request, const SessionOptions& extra, bool streaming,
                                         int64_t n_ctx);

}  // namespace ax
