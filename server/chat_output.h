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
    std::vector<ToolCallDelta> calls;  // parts of calls (JoinToolCalls makes them whole)
  };

  explicit ChatOutputParser(const ApiRequest& req);

  Piece Feed(const std::string& text);
  Piece Finish();
  // Feed(text), and when `last` also Finish(), as one piece; at the end, each call that
  // did not parse (returned as text) is logged as a warning naming `request_id`.
  Piece Take(const std::string& text, bool last, const std::string& request_id);
  // Calls started so far.
  int calls_so_far() const { return calls_; }
  const std::vector<std::string>& warnings() const;

 private:
  void Add(const ReasoningSplitter::Piece& p, Piece* out);
  void Count(const Piece& p);

  std::optional<ReasoningSplitter> reasoning_;
  ToolCallParser tools_;
  int calls_ = 0;
};

// An id derived from a response's id and two numbers: prefix + 24 hex digits, the same
// whenever it is derived again (streamed and non-streamed forms agree).
std::string DerivedId(const std::string& prefix, const std::string& response_id, size_t a, size_t b);
// Call `index` of choice `choice`: "call_" + 24 hex digits.
inline std::string ToolCallId(const std::string& response_id, size_t choice, size_t index) {
  return DerivedId("call_", response_id, choice, index);
}

}  // namespace ax::server
