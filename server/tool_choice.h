// tool_choice on the chat route (and the Messages and Responses routes rewritten into it):
//
//   "auto" (default)   the model decides; its calls are parsed in its family's syntax
//   "none"             no tools in the prompt, nothing parsed
//   "required"         at least one call, to any of the tools
//   {"type": "function", "function": {"name": "f"}}   exactly one call, to f
//
// A forced choice (required or named) is enforced with the structured-output machinery:
// the answer is constrained to calls in the syntax of the server's tool-call parser,
// their arguments to the tools' parameters schemas (tool_call_grammar.h), one call when
// named or when parallel_tool_calls is false, one or more otherwise.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "json_fields.h"

namespace ax::server {

struct ToolChoice {
  enum class Kind { kAuto, kNone, kRequired, kNamed };
  Kind kind = Kind::kAuto;
  std::string name;  // kNamed
  bool forced() const { return kind == Kind::kRequired || kind == Kind::kNamed; }
};

// Reads body's "tool_choice" (checked against body's "tools": a forced choice needs
// tools, a named one one of them); failures go to r naming tool_choice.
ToolChoice ReadToolChoice(FieldReader& r, const nlohmann::json& body);

}  // namespace ax::server
