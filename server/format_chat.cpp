// POST /v1/chat/completions responses: "chat.completion" and "chat.completion.chunk".
#include "format.h"
#include "reasoning.h"

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
      nlohmann::json message = {{"role", "assistant"}, {"content", s.text}, {"refusal", nullptr}};
      if (req.split_reasoning) {
        ReasoningSplitter sp(req.starts_in_reasoning);
        ReasoningSplitter::Piece all = sp.Feed(s.text);
        const ReasoningSplitter::Piece tail = sp.Finish();
        all.reasoning += tail.reasoning;
        all.content += tail.content;
        message["content"] = all.content;
        message["reasoning_content"] = all.reasoning.empty() ? nlohmann::json(nullptr) : nlohmann::json(all.reasoning);
        message["reasoning"] = message["reasoning_content"];
      }
      choices.push_back({{"index", c},
                         {"message", std::move(message)},
                         {"logprobs", std::move(lp)},
                         {"finish_reason", FinishReasonString(s.reason)}});
    }
    nlohmann::json r = Base(job, "chat.completion");
    r["choices"] = std::move(choices);
    r["usage"] = UsageJson(job);
    return r;
  }

  std::vector<nlohmann::json> Prologue(const Job& job) const override {
    splitters_.assign(job.choices().size(), ReasoningSplitter(job.request().starts_in_reasoning));
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
      nlohmann::json delta = TextDelta(req, c, ev.token.text_delta, /*finish=*/false);
      if (delta.empty() && !req.logprobs) return out;
      if (delta.empty()) delta = {{"content", ""}};
      nlohmann::json lp = nullptr;
      if (req.logprobs)
        lp = {{"content", ChatLogprobEntries(job.engine(), {job.choices()[c].logprob_tokens.back()})},
              {"refusal", nullptr}};
      out.push_back(Chunk(job, c, std::move(delta), std::move(lp), nullptr));
      return out;
    }
    if (nlohmann::json tail = TextDelta(req, c, ev.text_tail, /*finish=*/true); !tail.empty())
      out.push_back(Chunk(job, c, std::move(tail), nullptr, nullptr));
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
  // The delta fields for `text` of choice c: {"content"} as it came, or, when reasoning
  // is split, {"reasoning_content"} and / or {"content"} as the splitter decides (with
  // finish, everything it still held). Empty when nothing is decided yet.
  nlohmann::json TextDelta(const ApiRequest& req, size_t c, const std::string& text, bool finish) const {
    nlohmann::json delta = nlohmann::json::object();
    if (!req.split_reasoning) {
      if (!text.empty()) delta["content"] = text;
      return delta;
    }
    ReasoningSplitter& sp = splitters_[c];
    ReasoningSplitter::Piece p = sp.Feed(text);
    if (finish) {
      const ReasoningSplitter::Piece tail = sp.Finish();
      p.reasoning += tail.reasoning;
      p.content += tail.content;
    }
    if (!p.reasoning.empty()) delta["reasoning_content"] = p.reasoning;
    if (!p.content.empty()) delta["content"] = p.content;
    return delta;
  }

  // One splitter per choice of a streamed answer (a formatter serves one job).
  mutable std::vector<ReasoningSplitter> splitters_;

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
