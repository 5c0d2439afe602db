// POST /v1/responses answers in OpenAI's Responses shapes: a "response" object whose
// output items are reasoning (reasoning_text content), a message (one output_text
// part) and function calls; streamed as typed events, each with a sequence_number:
//   response.created, response.in_progress,
//   per item: response.output_item.added, then for a message
//     response.content_part.added, response.output_text.delta…, response.output_text.done,
//     response.content_part.done; for reasoning response.reasoning_text.delta… / .done;
//     for a call response.function_call_arguments.delta / .done;
//   response.output_item.done; finally response.completed (or .incomplete, .failed).
// A stream starts a new item when the kind changes, so text after a call is a second
// message item there, where the non-streamed response joins it into one.
#include <optional>

#include "chat_output.h"
#include "format.h"

namespace ax::server {
namespace {

using json = nlohmann::json;

enum class Item { kNone, kReasoning, kMessage, kCall };

std::string ItemId(const Job& job, const char* prefix, size_t index) {
  return DerivedId(prefix, job.id(), 1, index);
}

json ReasoningItem(const std::string& id, const std::string& text) {
  return {{"type", "reasoning"}, {"id", id}, {"summary", json::array()},
          {"content", json::array({{{"type", "reasoning_text"}, {"text", text}}})}};
}

json TextPart(const std::string& text) {
  return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}};
}

json MessageItem(const std::string& id, const std::string& status, json content) {
  return {{"type", "message"}, {"id", id}, {"status", status}, {"role", "assistant"}, {"content", std::move(content)}};
}

json CallItem(const Job& job, size_t call, const std::string& status, const std::string& name,
              const std::string& arguments) {
  return {{"type", "function_call"}, {"id", ItemId(job, "fc_", call)}, {"call_id", ToolCallId(job.id(), 0, call)},
          {"name", name}, {"arguments", arguments}, {"status", status}};
}

json Usage(const Job& job) {
  const int64_t in = job.prompt_tokens(), out = job.completion_tokens();
  return {{"input_tokens", in},
          {"input_tokens_details", {{"cached_tokens", job.cached_tokens()}}},
          {"output_tokens", out},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", in + out}};
}

// The response object around `output` (status in_progress while streaming).
json ResponseObject(const Job& job, const std::string& status, json output) {
  const ApiRequest& req = job.request();
  json r = {{"id", job.id()},
            {"object", "response"},
            {"created_at", job.created()},
            {"status", status},
            {"model", job.model_name()},
            {"output", std::move(output)},
            {"error", nullptr},
            {"incomplete_details", nullptr},
            {"instructions", nullptr},
            {"tools", json::array()},
            {"tool_choice", "auto"},
            {"parallel_tool_calls", true},
            {"store", false},
            {"usage", nullptr}};
  for (auto it = req.repeated.begin(); it != req.repeated.end(); ++it) r[it.key()] = it.value();
  if (status == "in_progress") return r;
  const ChoiceState& s = job.choices()[0];
  if (s.reason == FinishReason::kLength) {
    r["status"] = "incomplete";
    r["incomplete_details"] = {{"reason", "max_output_tokens"}};
  } else if (s.reason == FinishReason::kError) {
    r["status"] = "failed";
    r["error"] = {{"code", "server_error"}, {"message", "generation failed: " + s.error}};
  }
  r["usage"] = Usage(job);
  return r;
}

class ResponsesFormatter final : public TypedEventFormatter {
 public:
  json Response(const Job& job) const override {
    ChatOutputParser parser(job.request());
    const ChatOutputParser::Piece all = parser.Take(job.choices()[0].text, /*last=*/true, job.id());
    json output = json::array();
    if (!all.reasoning.empty()) output.push_back(ReasoningItem(ItemId(job, "rs_", 0), all.reasoning));
    if (!all.content.empty())
      output.push_back(MessageItem(ItemId(job, "msg_", 0), "completed", json::array({TextPart(all.content)})));
    const std::vector<ToolCall> calls = JoinToolCalls(all.calls);
    for (size_t i = 0; i < calls.size(); ++i)
      output.push_back(CallItem(job, i, "completed", calls[i].name, calls[i].arguments));
    return ResponseObject(job, "completed", std::move(output));
  }

  std::vector<json> Prologue(const Job& job) const override {
    parser_.emplace(job.request());
    const json r = ResponseObject(job, "in_progress", json::array());
    return {Event("response.created", {{"response", r}}), Event("response.in_progress", {{"response", r}})};
  }

  std::vector<json> OnEvent(const Job& job, int, const StreamEvent& ev) const override {
    std::vector<json> out;
    const bool finish = ev.kind == StreamEvent::Kind::kFinish;
    const ChatOutputParser::Piece p = parser_->Take(finish ? ev.text_tail : ev.token.text_delta, finish, job.id());
    if (!p.reasoning.empty()) {
      Open(job, Item::kReasoning, &out);
      text_ += p.reasoning;
      out.push_back(Event("response.reasoning_text.delta", Where({{"delta", p.reasoning}})));
    }
    if (!p.content.empty()) {
      Open(job, Item::kMessage, &out);
      text_ += p.content;
      out.push_back(Event("response.output_text.delta", Where({{"delta", p.content}})));
    }
    for (const ToolCallDelta& d : p.calls) {
      if (!d.name.empty()) {  // a call item stays open while its arguments stream
        Close(job, &out);
        open_ = Item::kCall;
        call_ = d.index;
        call_name_ = d.name;
        text_.clear();
        const json item = CallItem(job, call_, "in_progress", d.name, "");
        item_id_ = item["id"];
        out.push_back(Event("response.output_item.added", {{"output_index", index_}, {"item", item}}));
      }
      if (d.arguments.empty()) continue;
      text_ += d.arguments;
      out.push_back(Event("response.function_call_arguments.delta",
                          {{"item_id", item_id_}, {"output_index", index_}, {"delta", d.arguments}}));
    }
    if (!finish) return out;
    Close(job, &out);
    const json r = ResponseObject(job, "completed", output_);
    const std::string status = r["status"];
    out.push_back(Event(status == "completed" ? "response.completed"
                        : status == "incomplete" ? "response.incomplete"
                                                 : "response.failed",
                        {{"response", r}}));
    return out;
  }

  std::vector<json> Epilogue(const Job&) const override { return {}; }

 private:
  json Event(const char* type, json fields) const {
    fields["type"] = type;
    fields["sequence_number"] = sequence_++;
    return fields;
  }

  // {"item_id", "output_index", "content_index": 0} + extra, for the open item's deltas.
  json Where(json extra) const {
    extra["item_id"] = item_id_;
    extra["output_index"] = index_;
    extra["content_index"] = 0;
    return extra;
  }

  void Open(const Job& job, Item kind, std::vector<json>* out) const {
    if (open_ == kind) return;
    Close(job, out);
    open_ = kind;
    text_.clear();
    if (kind == Item::kReasoning) {
      item_id_ = ItemId(job, "rs_", static_cast<size_t>(index_));
      out->push_back(Event("response.output_item.added",
                           {{"output_index", index_},
                            {"item", {{"type", "reasoning"}, {"id", item_id_}, {"summary", json::array()}}}}));
    } else {
      item_id_ = ItemId(job, "msg_", static_cast<size_t>(index_));
      out->push_back(Event("response.output_item.added",
                           {{"output_index", index_}, {"item", MessageItem(item_id_, "in_progress", json::array())}}));
      out->push_back(Event("response.content_part.added", Where({{"part", TextPart("")}})));
    }
  }

  void Close(const Job& job, std::vector<json>* out) const {
    if (open_ == Item::kNone) return;
    json item;
    if (open_ == Item::kCall) {
      out->push_back(Event("response.function_call_arguments.done",
                           {{"item_id", item_id_}, {"output_index", index_}, {"arguments", text_}}));
      item = CallItem(job, call_, "completed", call_name_, text_);
    } else if (open_ == Item::kReasoning) {
      out->push_back(Event("response.reasoning_text.done", Where({{"text", text_}})));
      item = ReasoningItem(item_id_, text_);
    } else {
      out->push_back(Event("response.output_text.done", Where({{"text", text_}})));
      out->push_back(Event("response.content_part.done", Where({{"part", TextPart(text_)}})));
      item = MessageItem(item_id_, "completed", json::array({TextPart(text_)}));
    }
    out->push_back(Event("response.output_item.done", {{"output_index", index_}, {"item", item}}));
    output_.push_back(std::move(item));
    ++index_;
    open_ = Item::kNone;
  }

  // Stream state (a formatter serves one job of one choice).
  mutable std::optional<ChatOutputParser> parser_;
  mutable Item open_ = Item::kNone;
  mutable int index_ = 0;  // output_index of the open (or next) item
  mutable size_t call_ = 0;  // the open call's index
  mutable int64_t sequence_ = 0;
  mutable std::string item_id_, text_, call_name_;  // text_: the open item's text or arguments
  mutable json output_ = json::array();  // the finished items, for response.completed
};

}  // namespace

std::unique_ptr<Formatter> MakeResponsesFormatter() { return std::make_unique<ResponsesFormatter>(); }

}  // namespace ax::server
