// POST /v1/chat/completions responses: "chat.completion" and "chat.completion.chunk".
#include "format.h"

namespace ax::server {
namespace {

class ChatFormatter final : public Formatter {
 public:
  nlohmann::json Response(const Job& job) const override {
    const ApiRequest& req = job.request();
    nlohmann::json choices = nlohmann::json::array();
    for (size_t c = 0; c < job.choices().size(); ++c) {
      const ChoiceState& s = job.choices()[c];
      nlohmann::json lp = nullptr;
      if (req.logprobs) lp = {{"content", ChatLogprobEntries(job.engine(), s.logprob_tokens)}, {"refusal", nullptr}};
      choices.push_back({{"index", c},
                         {"message", {{"role", "assistant"}, {"content", s.text}, {"refusal", nullptr}}},
                         {"logprobs", std::move(lp)},
                         {"finish_reason", FinishReasonString(s.reason)}});
    }
    nlohmann::json r = Base(job, "chat.completion");
    r["choices"] = std::move(choices);
    r["usage"] = UsageJson(job);
    return r;
  }

  std::vector<nlohmann::json> Prologue(const Job& job) const override {
    std::vector<nlohmann::json> out;
    for (size_t c = 0; c < job.choices().size(); ++c)
      out.push_back(Chunk(job, c, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
    return out;
  }

  std::vector<nlohmann::json> OnEvent(const Job& job, int ci, const StreamEvent& ev) const override {
    const ApiRequest& req = job.request();
    const size_t c = static_cast<size_t>(ci);
    std::vector<nlohmann::json> out;
    if (ev.kind == StreamEvent::Kind::kToken) {
      if (ev.token.text_delta.empty() && !req.logprobs) return out;
      nlohmann::json lp = nullptr;
      if (req.logprobs)
        lp = {{"content", ChatLogprobEntries(job.engine(), {job.choices()[c].logprob_tokens.back()})},
              {"refusal", nullptr}};
      out.push_back(Chunk(job, c, {{"content", ev.token.text_delta}}, std::move(lp), nullptr));
      return out;
    }
    if (!ev.text_tail.empty()) out.push_back(Chunk(job, c, {{"content", ev.text_tail}}, nullptr, nullptr));
    if (ev.finish_reason == FinishReason::kError) out.push_back(EngineErrorJson(ev.error));
    out.push_back(Chunk(job, c, nlohmann::json::object(), nullptr, FinishReasonString(ev.finish_reason)));
    return out;
  }

  std::vector<nlohmann::json> Epilogue(const Job& job) const override {
    if (!job.request().include_usage) return {};
    nlohmann::json r = Base(job, "chat.completion.chunk");
    r["choices"] = nlohmann::json::array();
    r["usage"] = UsageJson(job);
    return {r};
  }

 private:
  static nlohmann::json Base(const Job& job, const char* object) {
    return {{"id", job.id()}, {"object", object}, {"created", job.created()}, {"model", job.model_name()},
            {"system_fingerprint", "ax-engine"}};
  }

  static nlohmann::json Chunk(const Job& job, size_t c, nlohmann::json delta, nlohmann::json logprobs,
                              nlohmann::json finish) {
    nlohmann::json r = Base(job, "chat.completion.chunk");
    r["choices"] = nlohmann::json::array({{{"index", c},
                                           {"delta", std::move(delta)},
                                           {"logprobs", std::move(logprobs)},
                                           {"finish_reason", std::move(finish)}}});
    if (job.request().include_usage) r["usage"] = nullptr;
    return r;
  }
};

}  // namespace

std::unique_ptr<Formatter> MakeChatFormatter() { return std::make_unique<ChatFormatter>(); }

}  // namespace ax::server
