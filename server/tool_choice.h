// tool_choice on the chat route (and the Messages and Responses routes rewritten into it):
//
//   "auto" (default)   the model decides; its calls are parsed in its family's syntax
//   "none"             no tools in the prompt, nothing parsed
//   "required"         at least one call, to any of the tools
//   {"type": "function", "function": {"name": "f"}}   exactly one call, to f
//
// A forced choice (required or named) is enforced with the structured-output machinery,
// as vLLM does it: the answer is constrained to a JSON array of calls
//
//   [{"name": "f", "parameters": {...f's parameters schema...}}, ...]
//
// (one item when named or when parallel_tool_calls is false), read back by the
// llama3-json call parser whatever the model's own call syntax, so the calls stream as
// any other. The model's reasoning block is not generated then (the constraint holds
// from the first token).
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

// The JSON schema (as text) a forced choice constrains the answer to; `tools` is the
// request's tools array.
std::string ForcedCallsSchema(const ToolChoice& choice, const nlohmann::json& tools, bool parallel);

}  // namespace ax::server
