// POST /v1/messages responses in Anthropic's shapes: a "message" with content blocks
// (thinking, text, tool_use), stop_reason and usage; streamed as the event sequence
// message_start, content_block_start / _delta / _stop per block, message_delta,
// message_stop, each framed "event: <type>\ndata: <json>\n\n".
//
// Blocks follow the text: reasoning (thinking), then content (text), then each tool
// call (tool_use). A stream opens a new block when the kind changes, so text after a
// call is a second text block there, where the non-streamed message joins it into one.
#include <optional>

#include "chat_output.h"
#include "format.h"

namespace ax::server {
namespace {

using json = nlohmann::json;

std::string ToolUseId(const Job& job, size_t index) {
  return DerivedId("toolu_", job.id(), 0, index);
}

json ToolInput(const ToolCall& c) {
  json in = json::parse(c.arguments, nullptr, /*allow_exceptions=*/false);
  return in.is_object() ? in : json::object();
}

// end_turn (EOS), max_tokens, stop_sequence, tool_use; "error" / "cancelled" otherwise.
std::string StopReason(const ChoiceState& s, bool calls) {
  switch (s.reason) {
    case FinishReason::kStop:
      if (calls) return "tool_use";
      return s.stop_string.empty() ? "end_turn" : "stop_sequence";
    case FinishReason::kLength: return "max_tokens";
    default: return FinishReasonString(s.reason);
  }
}

json StopSequence(const ChoiceState& s) {
  return s.reason == FinishReason::kStop && !s.stop_string.empty() ? json(s.stop_string) : json(nullptr);
}

json Usage(const Job& job, int64_t output_tokens) {
  const int64_t cached = job.cached_tokens();
  return {{"input_tokens", job.prompt_tokens() - cached},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", cached},
          {"output_tokens", output_tokens}};
}

class MessagesFormatter final : public TypedEventFormatter {
 public:
  json Response(const Job& job) const override {
    const ChoiceState& s = job.choices()[0];
    ChatOutputParser parser(job.request());
    const ChatOutputParser::Piece all = parser.Take(s.text, /*last=*/true, job.id());
    const std::vector<ToolCall> calls = JoinToolCalls(all.calls);
    json content = json::array();
    if (!all.reasoning.empty()) content.push_back({{"type", "thinking"}, {"thinking", all.reasoning}, {"signature", ""}});
    if (!all.content.empty()) content.push_back({{"type", "text"}, {"text", all.content}});
    for (size_t i = 0; i < calls.size(); ++i)
      content.push_back(
          {{"type", "tool_use"}, {"id", ToolUseId(job, i)}, {"name", calls[i].name}, {"input", ToolInput(calls[i])}});
    json m = Message(job);
    m["content"] = std::move(content);
    m["stop_reason"] = StopReason(s, !calls.empty());
    m["stop_sequence"] = StopSequence(s);
    m["usage"] = Usage(job, job.completion_tokens());
    return m;
  }

  std::vector<json> Prologue(const Job& job) const override {
    parser_.emplace(job.request());
    json m = Message(job);
    m["content"] = json::array();
    m["stop_reason"] = nullptr;
    m["stop_sequence"] = nullptr;
    m["usage"] = Usage(job, 0);
    return {{{"type", "message_start"}, {"message", std::move(m)}}, {{"type", "ping"}}};
  }

  std::vector<json> OnEvent(const Job& job, int, const StreamEvent& ev) const override {
    std::vector<json> out;
    const bool finish = ev.kind == StreamEvent::Kind::kFinish;
    const ChatOutputParser::Piece p = parser_->Take(finish ? ev.text_tail : ev.token.text_delta, finish, job.id());
    if (!p.reasoning.empty()) Delta(Block::kThinking, {{"type", "thinking_delta"}, {"thinking", p.reasoning}}, &out);
    if (!p.content.empty()) Delta(Block::kText, {{"type", "text_delta"}, {"text", p.content}}, &out);
    for (const ToolCallDelta& d : p.calls) {
      if (!d.name.empty()) {
        Close(&out);
        out.push_back({{"type", "content_block_start"},
                       {"index", index_},
                       {"content_block",
                        {{"type", "tool_use"},
                         {"id", ToolUseId(job, d.index)},
                         {"name", d.name},
                         {"input", json::object()}}}});
        open_ = Block::kToolUse;
        ++calls_;
      }
      if (!d.arguments.empty())  // the input's JSON text in pieces, as the chat route streams it
        out.push_back({{"type", "content_block_delta"},
                       {"index", index_},
                       {"delta", {{"type", "input_json_delta"}, {"partial_json", d.arguments}}}});
    }
    if (!finish) return out;
    Close(&out);
    if (ev.finish_reason == FinishReason::kError) {
      out.push_back({{"type", "error"}, {"error", {{"type", "api_error"}, {"message", "generation failed: " + ev.error}}}});
      return out;
    }
    const ChoiceState& s = job.choices()[0];
    out.push_back({{"type", "message_delta"},
                   {"delta", {{"stop_reason", StopReason(s, calls_ > 0)}, {"stop_sequence", StopSequence(s)}}},
                   {"usage", {{"output_tokens", job.completion_tokens()}}}});
    return out;
  }

  std::vector<json> Epilogue(const Job& job) const override {
    if (job.any_error()) return {};
    return {{{"type", "message_stop"}}};
  }

 private:
  enum class Block { kNone, kThinking, kText, kToolUse };

  static json Message(const Job& job) {
    return {{"id", job.id()}, {"type", "message"}, {"role", "assistant"}, {"model", job.model_name()}};
  }

  // A delta for a block of `kind`, opening it (and closing another) first.
  void Delta(Block kind, json delta, std::vector<json>* out) const {
    if (open_ != kind) {
      Close(out);
      json block = kind == Block::kThinking ? json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                                            : json{{"type", "text"}, {"text", ""}};
      out->push_back({{"type", "content_block_start"}, {"index", index_}, {"content_block", std::move(block)}});
      open_ = kind;
    }
    out->push_back({{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(delta)}});
  }

  void Close(std::vector<json>* out) const {
    if (open_ == Block::kNone) return;
    if (open_ == Block::kThinking)  // clients wait for a signature; ours is empty (nothing to verify)
      out->push_back(
          {{"type", "content_block_delta"}, {"index", index_}, {"delta", {{"type", "signature_delta"}, {"signature", ""}}}});
    out->push_back({{"type", "content_block_stop"}, {"index", index_}});
    ++index_;
    open_ = Block::kNone;
  }

  // Stream state (a formatter serves one job of one choice).
  mutable std::optional<ChatOutputParser> parser_;
  mutable Block open_ = Block::kNone;
  mutable int index_ = 0;
  mutable size_t calls_ = 0;
};

}  // namespace

std::unique_ptr<Formatter> MakeMessagesFormatter() { return std::make_unique<MessagesFormatter>(); }

}  // namespace ax::server
