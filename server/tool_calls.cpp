// Tool-call syntaxes by name and template, and the streaming split of text and calls.
// The bodies of calls are parsed in tool_call_syntax.cpp.
#include "tool_calls.h"

#include "tool_call_stream.h"

namespace ax::server {
namespace {

constexpr const char* kPythonTag = "<|python_tag|>";

struct FormatName {
  ToolCallFormat format;
  const char* name;
};
constexpr FormatName kNames[] = {
    {ToolCallFormat::kNone, "none"},         {ToolCallFormat::kQwen3, "qwen3"},
    {ToolCallFormat::kQwen3Coder, "qwen3-coder"}, {ToolCallFormat::kGlm45, "glm45"},
    {ToolCallFormat::kGemma4, "gemma4"},     {ToolCallFormat::kLlama3Json, "llama3-json"},
};

// The length of the longest suffix of s that is a proper prefix of tag.
size_t PartialTagSuffix(const std::string& s, const std::string& tag) {
  const size_t max = std::min(s.size(), tag.size() - 1);
  for (size_t n = max; n > 0; --n)
    if (s.compare(s.size() - n, n, tag, 0, n) == 0) return n;
  return 0;
}

bool Contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

constexpr const char* kSpace = " \t\r\n";

}  // namespace

const char* ToolCallFormatName(ToolCallFormat f) {
  for (const FormatName& n : kNames)
    if (n.format == f) return n.name;
  return "none";
}

bool ParseToolCallFormat(const std::string& name, ToolCallFormat* out) {
  for (const FormatName& n : kNames)
    if (name == n.name) {
      *out = n.format;
      return true;
    }
  return false;
}

ToolCallFormat DetectToolCallFormat(const std::string& t) {
  if (Contains(t, "<|tool_call>")) return ToolCallFormat::kGemma4;
  if (Contains(t, "<arg_key>")) return ToolCallFormat::kGlm45;
  if (Contains(t, "<function=") && Contains(t, "<parameter=")) return ToolCallFormat::kQwen3Coder;
  if (Contains(t, "<tool_call>")) return ToolCallFormat::kQwen3;
  // Llama 3.1+: "Respond in the format {\"name\": function name, \"parameters\": ...}".
  if (Contains(t, "<|start_header_id|>") && (Contains(t, kPythonTag) || Contains(t, "\"parameters\"")))
    return ToolCallFormat::kLlama3Json;
  return ToolCallFormat::kNone;
}

bool ToolCallFormatNeedsSpecialTokens(ToolCallFormat f) { return f == ToolCallFormat::kGemma4; }

std::vector<ToolCall> JoinToolCalls(const std::vector<ToolCallDelta>& parts) {
  std::vector<ToolCall> calls;
  for (const ToolCallDelta& p : parts) {
    if (p.index >= calls.size()) calls.resize(p.index + 1);
    calls[p.index].name += p.name;
    calls[p.index].arguments += p.arguments;
  }
  return calls;
}

ToolCallParser::ToolCallParser(ToolCallFormat format, nlohmann::json tools)
    : format_(format), tools_(std::move(tools)) {
  switch (format) {
    case ToolCallFormat::kGemma4:
      open_ = "<|tool_call>";
      close_ = "<tool_call|>";
      break;
    case ToolCallFormat::kLlama3Json:
      state_ = State::kWholeUndecided;
      break;
    default:
      open_ = "<tool_call>";
      close_ = "</tool_call>";
  }
}

ToolCallParser::~ToolCallParser() = default;
ToolCallParser::ToolCallParser(ToolCallParser&&) noexcept = default;
ToolCallParser& ToolCallParser::operator=(ToolCallParser&&) noexcept = default;

void ToolCallParser::Warn(const std::string& what) {
  warnings_.push_back(std::string(ToolCallFormatName(format_)) + " tool call: " + what);
}

void ToolCallParser::EmitText(const std::string& text, Piece* out) {
  const size_t last = text.find_last_not_of(kSpace);
  if (last == std::string::npos) {
    pending_ws_ += text;
    return;
  }
  out->content += pending_ws_;
  out->content.append(text, 0, last + 1);
  pending_ws_ = text.substr(last + 1);
  after_call_ = false;
}

void ToolCallParser::AddPart(bool start, const std::string& name, const std::string& arguments, Piece* out) {
  if (start) {
    pending_ws_.clear();  // whitespace between text and a call, or between calls
    after_call_ = true;
    out->calls.push_back({calls_++, name, arguments});
    return;
  }
  if (arguments.empty()) return;
  if (!out->calls.empty() && out->calls.back().index == calls_ - 1) out->calls.back().arguments += arguments;
  else out->calls.push_back({calls_ - 1, "", arguments});
}

CallReadState ToolCallParser::ReadCall(std::string_view body, bool complete, Piece* out) {
  std::string name, arguments;
  const CallReadState st = reader_->Read(body, complete, &name, &arguments);
  AddPart(!name.empty(), name, arguments, out);
  return st;
}

void ToolCallParser::EndStreamedCall(std::string_view body) {
  for (const std::string& w : reader_->warnings()) Warn(w);
  const size_t end = reader_->end();
  if (body.find_first_not_of(kSpace, end) != std::string_view::npos)
    Warn("text after the call was ignored: " + std::string(body.substr(end)));
  reader_.reset();
}

void ToolCallParser::EndCall(const std::string& body, bool closed, Piece* out) {
  std::vector<ToolCall> calls;
  std::string why;
  if (ParseToolCallBody(format_, body, tools_, &calls, &why)) {
    for (const ToolCall& c : calls) AddPart(/*start=*/true, c.name, c.arguments, out);
    return;
  }
  warnings_.push_back(std::string(ToolCallFormatName(format_)) + " tool call returned as text: " + why);
  if (format_ == ToolCallFormat::kLlama3Json) {
    out->content += body;  // the answer as it came
    return;
  }
  EmitText(open_ + body + (closed ? close_ : ""), out);
}

void ToolCallParser::FeedTagged(bool finishing, Piece* out) {
  while (true) {
    if (state_ == State::kText) {
      const size_t at = held_.find(open_);
      if (at == std::string::npos) {
        const size_t keep = finishing ? 0 : PartialTagSuffix(held_, open_);
        EmitText(held_.substr(0, held_.size() - keep), out);
        held_.erase(0, held_.size() - keep);
        return;
      }
      EmitText(held_.substr(0, at), out);
      held_.erase(0, at + open_.size());
      state_ = State::kCall;
      reader_ = MakeCallReader(format_, tools_);
      continue;
    }
    // kCall: the body is held_ up to the closing tag, or to a tail that may become it.
    const size_t at = held_.find(close_);
    const bool closed = at != std::string::npos, complete = closed || finishing;
    const size_t n = closed ? at : finishing ? held_.size() : held_.size() - PartialTagSuffix(held_, close_);
    const std::string_view body(held_.data(), n);
    const CallReadState st = ReadCall(body, complete, out);
    if (!complete) return;
    if (st == CallReadState::kWhole) {
      reader_.reset();
      EndCall(std::string(body), closed, out);
    } else {
      EndStreamedCall(body);
    }
    held_.erase(0, closed ? at + close_.size() : held_.size());
    state_ = State::kText;
  }
}

void ToolCallParser::FeedSequence(bool finishing, Piece* out) {
  const std::string tag = kPythonTag;
  while (state_ == State::kSequence) {
    if (!reader_) {
      size_t at = seq_pos_;
      if (at == 0) {  // a leading <|python_tag|> (kWholeUndecided waited for all of it)
        at = held_.find_first_not_of(kSpace);
        if (held_.compare(at, tag.size(), tag) == 0) at += tag.size();
      }
      while (true) {  // whitespace, ";" between calls, and an array's "[", "," and "]"
        at = std::min(held_.find_first_not_of(kSpace, at), held_.size());
        if (at >= held_.size() || std::string_view(";,[]").find(held_[at]) == std::string_view::npos) break;
        ++at;
      }
      seq_pos_ = at;
      if (at >= held_.size()) return;
      obj_start_ = at;
      if (held_[at] != '{') {
        state_ = State::kRest;
        return;
      }
      reader_ = MakeJsonCallReader();
    }
    const std::string_view body = std::string_view(held_).substr(obj_start_);
    const CallReadState st = ReadCall(body, finishing, out);
    if (st == CallReadState::kWhole) {
      reader_.reset();
      state_ = State::kRest;
      return;
    }
    if (st != CallReadState::kDone) return;
    seq_pos_ = obj_start_ + reader_->end();
    EndStreamedCall(body.substr(0, reader_->end()));
  }
}

ToolCallParser::Piece ToolCallParser::Feed(const std::string& text) {
  Piece out;
  if (format_ == ToolCallFormat::kNone || state_ == State::kWholeText) {
    out.content = text;
    return out;
  }
  held_ += text;
  if (state_ == State::kWholeUndecided) {
    // The answer is calls when it starts (after whitespace) with JSON or <|python_tag|>.
    const size_t first = held_.find_first_not_of(kSpace);
    if (first == std::string::npos) return out;
    const std::string tag = kPythonTag;
    const std::string rest = held_.substr(first);
    if (rest[0] == '{' || rest[0] == '[' || rest.compare(0, tag.size(), tag) == 0) {
      state_ = State::kSequence;
    } else if (rest.size() < tag.size() && tag.compare(0, rest.size(), rest) == 0) {
      return out;  // may still become <|python_tag|>
    } else {
      state_ = State::kWholeText;
      out.content = std::move(held_);
      held_.clear();
      return out;
    }
  }
  if (state_ == State::kSequence) FeedSequence(/*finishing=*/false, &out);
  if (state_ == State::kText || state_ == State::kCall) FeedTagged(/*finishing=*/false, &out);
  return out;
}

ToolCallParser::Piece ToolCallParser::Finish() {
  Piece out;
  switch (state_) {
    case State::kText:
    case State::kCall:
      FeedTagged(/*finishing=*/true, &out);
      break;
    case State::kSequence:
      FeedSequence(/*finishing=*/true, &out);
      if (state_ != State::kRest) break;
      [[fallthrough]];
    case State::kRest:
      // From the first object that could not stream (or text after calls) to the end,
      // parsed whole; when nothing streamed before it, the answer as it came.
      if (held_.find_first_not_of(kSpace, obj_start_) != std::string::npos) {
        EndCall(calls_ == 0 ? held_ : held_.substr(obj_start_), /*closed=*/true, &out);
      }
      break;
    case State::kWholeUndecided:
      out.content = held_;  // whitespace only
      break;
    case State::kWholeText:
      break;
  }
  held_.clear();
  if (!after_call_) out.content += pending_ws_;  // trailing whitespace after a call is dropped
  pending_ws_.clear();
  return out;
}

}  // namespace ax::server
