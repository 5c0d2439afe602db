// A chat answer's text → reasoning, content and tool calls: the reasoning split
// (reasoning.h) first, then the tool-call parser (tool_calls.h) on what is content.
// Fed as the text streams; the pieces join to what one Feed() of the whole text gives.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api_request.h"
#include "reasoning.h"
#include "tool_calls.h"

namespace ax::server {

class ChatOutputParser {
 public:
  struct Piece {
    std::string reasoning, content;
    std::vector<ToolCall> calls;
  };

  explicit ChatOutputParser(const ApiRequest& req);

  Piece Feed(const std::string& text);
  Piece Finish();
  int calls_so_far() const { return calls_; }
  const std::vector<std::string>& warnings() const;

 private:
  void Add(const ReasoningSplitter::Piece& p, Piece* out);

  std::optional<ReasoningSplitter> reasoning_;
  ToolCallParser tools_;
  int calls_ = 0;
};

// The id of call `index` of choice `choice` of a response: "call_" + 24 hex digits,
// the same in its streamed and non-streamed forms.
std::string ToolCallId(const std::string& response_id, size_t choice, size_t index);

}  // namespace ax::server
