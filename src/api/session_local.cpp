// The repo_owned route: a Session over our Engine, stepping on its own thread so that
// requests from every caller thread are batched together.
#include <mutex>

#include <nlohmann/json.hpp>

#include "api/session_routes.h"

namespace ax {
namespace {

constexpr const char* kServerOnly =
    "not supported by the repo_owned Session route (ax-engine-server's /v1/chat/completions parses tools, "
    "reasoning and n > 1 itself)";

// The SessionOptions this route takes: none but the defaults.
Status CheckOptions(const SessionOptions& o) {
  if (o.n != 1) return InvalidArgument(std::string("n: ") + std::to_string(o.n) + " choices " + kServerOnly);
  if (!o.tools_json.empty()) return InvalidArgument(std::string("tools: ") + kServerOnly);
  if (!o.tool_choice_json.empty()) return InvalidArgument(std::string("tool_choice: ") + kServerOnly);
  if (o.parallel_tool_calls) return InvalidArgument(std::string("parallel_tool_calls: ") + kServerOnly);
  if (!o.reasoning_effort.empty()) return InvalidArgument(std::string("reasoning_effort: ") + kServerOnly);
  return Status::Ok();
}

class LocalStream final : public SessionStream {
 public:
  explicit LocalStream(std::shared_ptr<RequestStream> rs) : rs_(std::move(rs)) {
    result_.prompt_tokens = rs_->prompt_tokens();
  }

  bool Next(SessionChunk* chunk) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return false;
    }
    StreamEvent ev;
    if (!rs_->Next(&ev)) return false;
    *chunk = {};
    std::lock_guard<std::mutex> lock(mu_);
    if (ev.kind == StreamEvent::Kind::kToken) {
      chunk->token = ev.token.id;
      chunk->text_delta = std::move(ev.token.text_delta);
      result_.output_tokens.push_back(ev.token.id);
    } else {
      chunk->finished = true;
      chunk->finish_reason = ev.finish_reason;
      chunk->text_delta = std::move(ev.text_tail);
      result_.finish_reason = ev.finish_reason;
      result_.metrics = rs_->metrics();
      if (ev.finish_reason == FinishReason::kError) status_ = Internal("engine: " + ev.error);
      done_ = true;
    }
    result_.text += chunk->text_delta;
    return true;
  }

  void Cancel() override { rs_->Cancel(); }

  Status status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  SessionResult result() const override {
    std::lock_guard<std::mutex> lock(mu_);
    SessionResult r = result_;
    r.choices = {SessionChoice{r.text, "", {}, r.finish_reason}};
    return r;
  }

 private:
  const std::shared_ptr<RequestStream> rs_;
  mutable std::mutex mu_;
  SessionResult result_;
  Status status_;
  bool done_ = false;
};

class LocalSession final : public Session {
 public:
  LocalSession(std::unique_ptr<Engine> engine, RuntimeReport report)
      : engine_(std::move(engine)), report_(std::move(report)) {
    engine_->Start();
  }
  ~LocalSession() override {
    CancelAll();
    engine_->Stop();
  }

  void CancelAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : streams_)
      if (auto s = w.lock()) s->Cancel();
  }

  const RuntimeReport& report() const override { return report_; }
  Engine* engine() override { return engine_.get(); }

 protected:
  Result<std::shared_ptr<SessionStream>> Start(const GenerateRequest& request, const std::vector<ChatMessage>* messages,
                                               bool /*streaming: the engine always streams*/,
                                               const SessionOptions& extra) override {
    AX_RETURN_IF_ERROR(CheckOptions(extra));
    GenerateRequest req = request;
    if (messages) {
      if (!req.prompt_tokens.empty() || req.prompt_text)
        return InvalidArgument("chat: the options carry a prompt (prompt_tokens / prompt_text); the messages are the prompt");
      AX_ASSIGN_OR_RETURN(req.prompt_tokens, RenderChat(*messages));
    }
    AX_ASSIGN_OR_RETURN(std::shared_ptr<RequestStream> rs, engine_->Submit(req));
    auto stream = std::make_shared<LocalStream>(std::move(rs));
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(streams_, [](const std::weak_ptr<LocalStream>& w) { return w.expired(); });
    streams_.push_back(stream);
    return std::shared_ptr<SessionStream>(stream);
  }

 private:
  // The prompt ids the server's /v1/chat/completions would make of these messages.
  Result<std::vector<int32_t>> RenderChat(const std::vector<ChatMessage>& messages) const {
    if (messages.empty()) return InvalidArgument("messages: expected at least one message");
    nlohmann::json msgs = nlohmann::json::array();
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string& role = messages[i].role;
      if (role != "system" && role != "user" && role != "assistant" && role != "tool")
        return InvalidArgument("messages[" + std::to_string(i) + "].role: expected system, user, assistant or tool, got '" +
                               role + "'");
      const ChatMessage& m = messages[i];
      if (!m.tool_calls.empty() || !m.tool_call_id.empty())
        return InvalidArgument("messages[" + std::to_string(i) + "]: tool_calls / tool_call_id " + kServerOnly);
      nlohmann::json msg = {{"role", role}, {"content", m.content}};
      if (!m.name.empty()) msg["name"] = m.name;
      if (!m.reasoning_content.empty()) msg["reasoning_content"] = m.reasoning_content;
      msgs.push_back(std::move(msg));
    }
    const nlohmann::json context = {{"messages", msgs}, {"add_generation_prompt", true}};
    AX_ASSIGN_OR_RETURN(std::string text, engine_->ApplyChatTemplate(context.dump()));
    AX_ASSIGN_OR_RETURN(std::vector<int32_t> ids, engine_->Tokenize(text, /*add_special_tokens=*/false));
    if (ids.empty()) return InvalidArgument("messages: the rendered conversation has no tokens");
    return ids;
  }

  std::unique_ptr<Engine> engine_;
  const RuntimeReport report_;
  std::mutex mu_;
  std::vector<std::weak_ptr<LocalStream>> streams_;
};

}  // namespace

Result<std::unique_ptr<Session>> OpenLocalSession(const EngineConfig& config, RuntimeReport report) {
  AX_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Create(config));
  const RouteInfo route = engine->route();
  report.selected_backend = route.backend;
  report.support_tier = SupportTier::kRepoOwned;
  report.backend_detail = route.backend_detail;
  report.model_id = engine->model_name();
  report.model_dir = config.model_dir;
  report.architecture = route.architecture;
  report.family = route.family;
  report.weight_format = route.weights;
  report.token_ids = true;
  report.throughput_is_ours = true;
  return std::unique_ptr<Session>(new LocalSession(std::move(engine), std::move(report)));
}

}  // namespace ax
