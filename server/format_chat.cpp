// POST /v1/chat/completions responses: "chat.completion" and "chat.completion.chunk".
#include "chat_output.h"
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
      nlohmann::json message = {{"role", "assistant"}, {"content", s.text}, {"refusal", nullptr}};
      std::string finish = FinishReasonString(s.reason);
      if (req.split_reasoning || req.tool_format != ToolCallFormat::kNone) {
        ChatOutputParser parser(req);
        const ChatOutputParser::Piece all = parser.Take(s.text, /*last=*/true, job.id());
        message["content"] = all.content;
        if (req.split_reasoning) {
          message["reasoning_content"] = all.reasoning.empty() ? nlohmann::json(nullptr) : nlohmann::json(all.reasoning);
          message["reasoning"] = message["reasoning_content"];
        }
        if (!all.calls.empty()) {
          if (all.content.empty()) message["content"] = nullptr;
          message["tool_calls"] = ToolCallsJson(job, c, JoinToolCalls(all.calls));
          if (s.reason == FinishReason::kStop) finish = "tool_calls";
        }
      }
      choices.push_back({{"index", c},
                         {"message", std::move(message)},
                         {"logprobs", std::move(lp)},
                         {"finish_reason", finish}});
    }
    nlohmann::json r = Base(job, "chat.completion");
    r["choices"] = std::move(choices);
    r["usage"] = UsageJson(job);
    return r;
  }

  std::vector<nlohmann::json> Prologue(const Job& job) const override {
    parsers_.clear();
    for (size_t c = 0; c < job.choices().size(); ++c) parsers_.emplace_back(job.request());
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
      nlohmann::json delta = TextDelta(job, c, ev.token.text_delta, /*finish=*/false);
      if (delta.empty() && !req.logprobs) return out;
      if (delta.empty()) delta = {{"content", ""}};
      nlohmann::json lp = nullptr;
      if (req.logprobs)
        lp = {{"content", ChatLogprobEntries(job.engine(), {job.choices()[c].logprob_tokens.back()})},
              {"refusal", nullptr}};
      out.push_back(Chunk(job, c, std::move(delta), std::move(lp), nullptr));
      return out;
    }
    if (nlohmann::json tail = TextDelta(job, c, ev.text_tail, /*finish=*/true); !tail.empty())
      out.push_back(Chunk(job, c, std::move(tail), nullptr, nullptr));
    if (ev.finish_reason == FinishReason::kError) out.push_back(EngineErrorJson(ev.error));
    const bool calls = !parsers_.empty() && parsers_[c].calls_so_far() > 0;
    out.push_back(Chunk(job, c, nlohmann::json::object(), nullptr,
                        calls && ev.finish_reason == FinishReason::kStop ? "tool_calls"
                                                                          : FinishReasonString(ev.finish_reason)));
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
  // or tool calls are parsed, {"reasoning_content"}, {"content"} and {"tool_calls"} as
  // the parser decides (with finish, everything it still held). Empty when nothing is
  // decided yet.
  nlohmann::json TextDelta(const Job& job, size_t c, const std::string& text, bool finish) const {
    const ApiRequest& req = job.request();
    nlohmann::json delta = nlohmann::json::object();
    if (!req.split_reasoning && req.tool_format == ToolCallFormat::kNone) {
      if (!text.empty()) delta["content"] = text;
      return delta;
    }
    const ChatOutputParser::Piece p = parsers_[c].Take(text, finish, job.id());
    if (!p.reasoning.empty()) delta["reasoning_content"] = p.reasoning;
    if (!p.content.empty()) delta["content"] = p.content;
    if (!p.calls.empty()) delta["tool_calls"] = ToolCallDeltasJson(job, c, p.calls);
    return delta;
  }

  // [{"id", "type": "function", "function": {"name", "arguments"}}].
  static nlohmann::json ToolCallsJson(const Job& job, size_t c, const std::vector<ToolCall>& calls) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < calls.size(); ++i)
      out.push_back({{"id", ToolCallId(job.id(), c, i)},
                     {"type", "function"},
                     {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
    return out;
  }

  // Streamed parts, OpenAI's way: a call's first part {"index", "id", "type",
  // "function": {"name", "arguments"}}, later ones {"index", "function": {"arguments"}}.
  static nlohmann::json ToolCallDeltasJson(const Job& job, size_t c, const std::vector<ToolCallDelta>& parts) {
    nlohmann::json out = nlohmann::json::array();
    for (const ToolCallDelta& d : parts) {
      if (d.name.empty()) {
        out.push_back({{"index", d.index}, {"function", {{"arguments", d.arguments}}}});
        continue;
      }
      out.push_back({{"index", d.index},
                     {"id", ToolCallId(job.id(), c, d.index)},
                     {"type", "function"},
                     {"function", {{"name", d.name}, {"arguments", d.arguments}}}});
    }
    return out;
  }

  // One parser per choice of a streamed answer (a formatter serves one job).
  mutable std::vector<ChatOutputParser> parsers_;

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
