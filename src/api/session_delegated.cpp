// The openai_delegated route: completions and chats forwarded to an OpenAI-compatible
// upstream (/v1/completions, /v1/chat/completions), blocking or as SSE re-read chunk by
// chunk. The upstream returns text: chunks carry no token ids (RuntimeReport::token_ids
// is false), and the timings are the upstream's.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/session_routes.h"
#include "delegate/upstream_client.h"

namespace ax {
namespace {

using delegate::CancelToken;
using delegate::UpstreamClient;
using Clock = std::chrono::steady_clock;

// Fields of a GenerateRequest an OpenAI-compatible upstream cannot be asked for:
// refused by name rather than dropped.
Status CheckDelegable(const GenerateRequest& r) {
  auto refuse = [](const std::string& field) {
    return InvalidArgument(field + ": not supported by the openai_delegated route (the upstream's OpenAI API has no such field)");
  };
  if (r.constraint.kind != OutputConstraint::Kind::kNone) return refuse("constraint");
  if (r.prompt_logprobs >= 0) return refuse("prompt_logprobs");
  if (!r.stop_token_ids.empty()) return refuse("stop_token_ids");
  if (r.sampling.logprobs || r.sampling.top_logprobs > 0) return refuse("sampling.logprobs");
  if (!r.policy.empty()) return refuse("policy");
  if (r.priority != 0) return refuse("priority");
  if (!r.skip_special_tokens) return refuse("skip_special_tokens");
  if (r.max_tokens < 0) return InvalidArgument("max_tokens: expected 0 (the upstream's default) or more");
  return Status::Ok();
}

// The request body, every sampling field explicit so that the upstream's own defaults
// (a generation_config, say) never stand in for ours.
nlohmann::json RequestBody(const std::string& model, const GenerateRequest& r) {
  const SamplingOptions& s = r.sampling;
  nlohmann::json body = {
      {"model", model},
      {"temperature", s.temperature},
      {"top_p", s.top_p},
      {"top_k", s.top_k > 0 ? s.top_k : -1},  // -1: off (vLLM's spelling; ours accepts it)
      {"min_p", s.min_p},
      {"repetition_penalty", s.repetition_penalty},
      {"presence_penalty", s.presence_penalty},
      {"frequency_penalty", s.frequency_penalty},
      {"seed", static_cast<int64_t>(s.seed)},
  };
  if (r.max_tokens > 0) body["max_tokens"] = r.max_tokens;
  if (!r.stop.empty()) body["stop"] = r.stop;
  if (r.ignore_eos) body["ignore_eos"] = true;
  return body;
}

FinishReason ParseFinish(const std::string& s) {
  if (s == "length") return FinishReason::kLength;
  return FinishReason::kStop;  // "stop", "tool_calls", "content_filter", ...
}

// Text and finish reason of one choice of a blocking answer or a stream chunk.
struct ChoicePart {
  std::string text;
  std::optional<std::string> finish;
};

ChoicePart ReadChoice(const nlohmann::json& j, bool chat) {
  ChoicePart p;
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) return p;
  const auto& c = (*choices)[0];
  const nlohmann::json* holder = &c;
  if (chat) {
    if (c.contains("delta") && c["delta"].is_object()) holder = &c["delta"];
    else if (c.contains("message") && c["message"].is_object()) holder = &c["message"];
  }
  const char* key = chat ? "content" : "text";
  if (holder->contains(key) && (*holder)[key].is_string()) p.text = (*holder)[key].get<std::string>();
  if (c.contains("finish_reason") && c["finish_reason"].is_string()) p.finish = c["finish_reason"].get<std::string>();
  return p;
}

void ReadUsage(const nlohmann::json& j, RequestMetrics* m) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object()) return;
  m->prompt_tokens = u->value("prompt_tokens", m->prompt_tokens);
  m->completion_tokens = u->value("completion_tokens", m->completion_tokens);
}

// A request in flight on its own thread; chunks queue up for Next().
class DelegatedStream final : public SessionStream {
 public:
  DelegatedStream(std::shared_ptr<const UpstreamClient> client, std::string path, nlohmann::json body, bool chat,
                  bool streaming)
      : client_(std::move(client)), path_(std::move(path)), chat_(chat), t0_(Clock::now()) {
    result_.token_ids = false;
    if (streaming) {
      body["stream"] = true;
      body["stream_options"] = {{"include_usage", true}};
    }
    worker_ = std::thread([this, body = std::move(body), streaming] {
      const Status s = streaming ? RunStreaming(body) : RunBlocking(body);
      Finish(s);
    });
  }

  ~DelegatedStream() override {
    cancel_.Cancel();
    worker_.join();
  }

  bool Next(SessionChunk* chunk) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || ended_; });
    if (queue_.empty()) return false;
    *chunk = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }

  void Cancel() override { cancel_.Cancel(); }

  Status status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  SessionResult result() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return result_;
  }

 private:
  Status RunBlocking(const nlohmann::json& body) {
    AX_ASSIGN_OR_RETURN(nlohmann::json j, client_->PostJson(path_, body, &cancel_));
    const ChoicePart p = ReadChoice(j, chat_);
    if (!j.contains("choices")) return Unavailable("upstream " + client_->Url(path_) + ": the answer has no choices");
    std::lock_guard<std::mutex> lock(mu_);
    ReadUsage(j, &result_.metrics);
    Push(p.text);
    if (p.finish) finish_ = ParseFinish(*p.finish);
    return Status::Ok();
  }

  Status RunStreaming(const nlohmann::json& body) {
    bool done = false;
    Status failed;
    Status s = client_->PostSse(path_, body, [&](const std::string& data) {
      if (data == "[DONE]") {
        done = true;
        return false;
      }
      auto j = nlohmann::json::parse(data, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        failed = Unavailable("upstream " + client_->Url(path_) + ": an SSE event is not JSON: " + data.substr(0, 200));
        return false;
      }
      if (j.contains("error")) {
        failed = Unavailable("upstream " + client_->Url(path_) + " failed mid-stream: " +
                             delegate::UpstreamErrorMessage(data));
        return false;
      }
      const ChoicePart p = ReadChoice(j, chat_);
      std::lock_guard<std::mutex> lock(mu_);
      ReadUsage(j, &result_.metrics);
      Push(p.text);
      if (p.finish) finish_ = ParseFinish(*p.finish);
      return true;
    }, &cancel_);
    AX_RETURN_IF_ERROR(s);
    AX_RETURN_IF_ERROR(failed);
    if (!done && !finish_)
      return Unavailable("upstream " + client_->Url(path_) + ": the stream ended before a finish_reason or [DONE]");
    return Status::Ok();
  }

  // REQUIRES: mu_ held.
  void Push(const std::string& text) {
    if (text.empty()) return;
    if (result_.text.empty()) result_.metrics.ttft_seconds = Seconds();
    result_.text += text;
    SessionChunk c;
    c.text_delta = text;
    queue_.push_back(std::move(c));
    cv_.notify_all();
  }

  void Finish(const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    SessionChunk last;
    last.finished = true;
    if (cancel_.cancelled()) {
      last.finish_reason = FinishReason::kCancelled;
    } else if (!s.ok()) {
      status_ = s;
      last.finish_reason = FinishReason::kError;
    } else {
      last.finish_reason = finish_.value_or(FinishReason::kStop);
    }
    result_.finish_reason = last.finish_reason;
    result_.metrics.total_seconds = Seconds();
    if (status_.ok()) queue_.push_back(std::move(last));
    ended_ = true;
    cv_.notify_all();
  }

  double Seconds() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

  const std::shared_ptr<const UpstreamClient> client_;
  const std::string path_;
  const bool chat_;
  const Clock::time_point t0_;
  CancelToken cancel_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SessionChunk> queue_;
  SessionResult result_;
  std::optional<FinishReason> finish_;
  Status status_;
  bool ended_ = false;
  std::thread worker_;  // last: starts once every member above exists
};

class DelegatedSession final : public Session {
 public:
  DelegatedSession(std::shared_ptr<const UpstreamClient> client, std::string model, RuntimeReport report)
      : client_(std::move(client)), model_(std::move(model)), report_(std::move(report)) {}
  ~DelegatedSession() override { CancelAll(); }

  void CancelAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : streams_)
      if (auto s = w.lock()) s->Cancel();
  }

  const RuntimeReport& report() const override { return report_; }
  Engine* engine() override { return nullptr; }

 protected:
  Result<std::shared_ptr<SessionStream>> Start(const GenerateRequest& request, const std::vector<ChatMessage>* messages,
                                               bool streaming) override {
    AX_RETURN_IF_ERROR(CheckDelegable(request));
    nlohmann::json body = RequestBody(model_, request);
    std::string path;
    if (messages) {
      if (!request.prompt_tokens.empty() || request.prompt_text)
        return InvalidArgument("chat: the options carry a prompt (prompt_tokens / prompt_text); the messages are the prompt");
      if (messages->empty()) return InvalidArgument("messages: expected at least one message");
      nlohmann::json msgs = nlohmann::json::array();
      for (const ChatMessage& m : *messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
      body["messages"] = std::move(msgs);
      path = "/v1/chat/completions";
    } else {
      if (request.prompt_text) body["prompt"] = *request.prompt_text;
      else if (!request.prompt_tokens.empty()) body["prompt"] = request.prompt_tokens;
      else return InvalidArgument("prompt: expected prompt_text or prompt_tokens");
      path = "/v1/completions";
    }
    auto stream = std::make_shared<DelegatedStream>(client_, path, std::move(body), messages != nullptr, streaming);
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(streams_, [](const std::weak_ptr<DelegatedStream>& w) { return w.expired(); });
    streams_.push_back(stream);
    return std::shared_ptr<SessionStream>(stream);
  }

 private:
  const std::shared_ptr<const UpstreamClient> client_;
  const std::string model_;
  const RuntimeReport report_;
  std::mutex mu_;
  std::vector<std::weak_ptr<DelegatedStream>> streams_;
};

// The upstream's first model id (GET /v1/models): also the check that it answers.
Result<std::string> FirstModel(const UpstreamClient& client) {
  AX_ASSIGN_OR_RETURN(nlohmann::json j, client.GetJson("/v1/models"));
  auto data = j.find("data");
  if (data == j.end() || !data->is_array() || data->empty() || !(*data)[0].is_object() ||
      !(*data)[0].contains("id") || !(*data)[0]["id"].is_string())
    return Unavailable("upstream " + client.Url("/v1/models") + ": lists no model; set upstream.model");
  return (*data)[0]["id"].get<std::string>();
}

}  // namespace

Result<std::unique_ptr<Session>> OpenDelegatedSession(const UpstreamConfig& config, RuntimeReport report) {
  delegate::UpstreamOptions opts;
  AX_ASSIGN_OR_RETURN(opts.address, delegate::ParseUpstreamUrl(config.url, "upstream.url"));
  if (config.timeout_s < 1) return InvalidArgument("upstream.timeout_s: expected at least 1");
  if (config.connect_timeout_s < 1) return InvalidArgument("upstream.connect_timeout_s: expected at least 1");
  opts.api_key = config.api_key;
  opts.connect_timeout_s = config.connect_timeout_s;
  opts.timeout_s = config.timeout_s;
  auto client = std::make_shared<const UpstreamClient>(opts);
  std::string model = config.model;
  if (model.empty()) {
    AX_ASSIGN_OR_RETURN(model, FirstModel(*client));
  } else {
    AX_ASSIGN_OR_RETURN(nlohmann::json ignored, client->GetJson("/v1/models"));  // reachable?
    (void)ignored;
  }
  report.selected_backend = "openai_delegated";
  report.support_tier = SupportTier::kOpenAiDelegated;
  report.upstream_url = opts.address.root_url();
  report.backend_detail = "OpenAI-compatible upstream " + report.upstream_url;
  report.model_id = model;
  report.token_ids = false;
  report.throughput_is_ours = false;
  return std::unique_ptr<Session>(new DelegatedSession(std::move(client), std::move(model), std::move(report)));
}

}  // namespace ax
