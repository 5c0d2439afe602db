#include "reasoning.h"

namespace ax::server {
namespace {

struct Tags {
  const char* open;
  const char* close;
};

Tags TagsOf(ReasoningFormat f) {
  return f == ReasoningFormat::kGemma4 ? Tags{"<|channel>thought", "<channel|>"} : Tags{"<think>", "</think>"};
}

// The length of the longest suffix of s that is a proper prefix of tag (a tag that may
// still complete with the next piece).
size_t PartialTagSuffix(const std::string& s, const std::string& tag) {
  const size_t max = std::min(s.size(), tag.size() - 1);
  for (size_t n = max; n > 0; --n)
    if (s.compare(s.size() - n, n, tag, 0, n) == 0) return n;
  return 0;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool start_in_reasoning, ReasoningFormat format)
    : state_(start_in_reasoning ? State::kReasoning : State::kBefore),
      open_(TagsOf(format).open),
      close_(TagsOf(format).close) {}

void ReasoningSplitter::Emit(Piece* out, size_t end) {
  (state_ == State::kReasoning ? out->reasoning : out->content) += held_.substr(0, end);
  held_.erase(0, end);
}

ReasoningSplitter::Piece ReasoningSplitter::Feed(const std::string& text) {
  Piece out;
  held_ += text;
  while (!held_.empty()) {
    if (state_ == State::kAfter) {
      Emit(&out, held_.size());
      break;
    }
    const std::string& tag = state_ == State::kBefore ? open_ : close_;
    const size_t at = held_.find(tag);
    if (at == std::string::npos) {
      Emit(&out, held_.size() - PartialTagSuffix(held_, tag));
      break;
    }
    Emit(&out, at);
    held_.erase(0, tag.size());
    state_ = state_ == State::kBefore ? State::kReasoning : State::kAfter;
  }
  return out;
}

ReasoningSplitter::Piece ReasoningSplitter::Finish() {
  Piece out;
  Emit(&out, held_.size());
  return out;
}

bool PromptOpensThinking(const std::string& prompt, ReasoningFormat format) {
  size_t end = prompt.size();
  while (end > 0 && (prompt[end - 1] == '\n' || prompt[end - 1] == ' ')) --end;
  const std::string open = TagsOf(format).open;
  return end >= open.size() && prompt.compare(end - open.size(), open.size(), open) == 0;
}

}  // namespace ax::server
