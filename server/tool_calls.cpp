// Tool-call syntaxes by name and template, and the streaming split of text and calls.
// The bodies of calls are parsed in tool_call_syntax.cpp.
#include "tool_calls.h"

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

ToolCallParser::ToolCallParser(ToolCallFormat format, const nlohmann::json& tools) : format_(format), tools_(tools) {
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

void ToolCallParser::EmitText(std::string text, Piece* out) {
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

void ToolCallParser::EndCall(const std::string& body, bool closed, Piece* out) {
  std::vector<ToolCall> calls;
  std::string why;
  if (ParseToolCallBody(format_, body, tools_, &calls, &why)) {
    pending_ws_.clear();  // whitespace between text and a call, or between calls
    after_call_ = true;
    for (ToolCall& c : calls) out->calls.push_back(std::move(c));
    return;
  }
  warnings_.push_back(std::string(ToolCallFormatName(format_)) + " tool call returned as text: " + why);
  if (format_ == ToolCallFormat::kLlama3Json) {
    out->content += body;  // the answer as it came
    return;
  }
  EmitText(open_ + body + (closed ? close_ : ""), out);
}

void ToolCallParser::FeedTagged(Piece* out) {
  while (true) {
    if (state_ == State::kText) {
      const size_t at = held_.find(open_);
      if (at == std::string::npos) {
        const size_t keep = PartialTagSuffix(held_, open_);
        EmitText(held_.substr(0, held_.size() - keep), out);
        held_.erase(0, held_.size() - keep);
        return;
      }
      EmitText(held_.substr(0, at), out);
      held_.erase(0, at + open_.size());
      state_ = State::kCall;
    } else {
      const size_t at = held_.find(close_);
      if (at == std::string::npos) return;
      const std::string body = held_.substr(0, at);
      held_.erase(0, at + close_.size());
      state_ = State::kText;
      EndCall(body, /*closed=*/true, out);
    }
  }
}

ToolCallParser::Piece ToolCallParser::Feed(const std::string& text) {
  Piece out;
  if (format_ == ToolCallFormat::kNone || state_ == State::kWholeText) {
    out.content = text;
    return out;
  }
  held_ += text;
  if (state_ == State::kWholeCall) return out;
  if (state_ == State::kWholeUndecided) {
    // The answer is a call when it starts (after whitespace) with JSON or <|python_tag|>.
    const size_t first = held_.find_first_not_of(kSpace);
    if (first == std::string::npos) return out;
    const std::string tag = kPythonTag;
    const std::string rest = held_.substr(first);
    if (rest[0] == '{' || rest[0] == '[' || rest.compare(0, tag.size(), tag) == 0) {
      state_ = State::kWholeCall;
    } else if (rest.size() < tag.size() && tag.compare(0, rest.size(), rest) == 0) {
      return out;  // may still become <|python_tag|>
    } else {
      state_ = State::kWholeText;
      out.content = std::move(held_);
      held_.clear();
    }
    return out;
  }
  FeedTagged(&out);
  return out;
}

ToolCallParser::Piece ToolCallParser::Finish() {
  Piece out;
  switch (state_) {
    case State::kText:
      EmitText(held_, &out);
      break;
    case State::kCall:
      EndCall(held_, /*closed=*/false, &out);
      break;
    case State::kWholeCall:
      EndCall(held_, /*closed=*/true, &out);
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
