// Reading one tool call's body as it streams (used by ToolCallParser, tool_calls.h).
//
// A reader is shown the body so far again and again (it only grows) and decides, from
// what it has seen, the call's name and the next bytes of its arguments' JSON text.
// Its decisions depend only on the bytes seen, never on how they were chunked, so the
// parts join to what one read of the whole body gives.
//
//   kUndecided  the body so far may still be a call the reader can stream; nothing out
//   kStreaming  the name is out (the call has started) and the arguments are streaming
//   kDone       the call and its arguments ended; the rest of the body is ignored
//   kWhole      the body does not begin the way a streamable call does: the caller
//               parses it whole once it ends (ParseToolCallBody), as a call or as text
//
// Once a call has started it stays a call: a body that breaks the syntax later keeps
// what was read (XML-style arguments are closed with "}", JSON arguments stay as the
// model wrote them) and says so in warnings().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tool_calls.h"

namespace ax::server {

class CallReader {
 public:
  using State = CallReadState;

  virtual ~CallReader() = default;
  // body: the call's text so far (after its opening tag; it only grows). complete: no
  // more will come. Appends the call's name (once, when it starts) to *name and the
  // decided argument bytes to *args.
  virtual State Read(std::string_view body, bool complete, std::string* name, std::string* args) = 0;
  // After kDone: the bytes of the body the call took (the JSON object's end).
  size_t end() const { return end_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 protected:
  size_t end_ = 0;
  std::vector<std::string> warnings_;
};

// {"name": "f", "arguments" | "parameters": {...}} (qwen3, llama3-json): streamable when
// the name comes first and the arguments are an object; they stream as written, less
// the whitespace outside strings.
std::unique_ptr<CallReader> MakeJsonCallReader();
// The call syntax of `format` (qwen3-coder, glm45 and gemma4 besides the JSON ones);
// `tools` gives parameter types. Values stream as they come where their type is a
// string; others come out once whole.
std::unique_ptr<CallReader> MakeCallReader(ToolCallFormat format, const nlohmann::json& tools);

// Shared with tool_call_syntax.cpp.
// The JSON schema type of parameter `param` of tool `tool` ("" if not one type; without
// "type", the one type of its enum / const values).
std::string ParamType(const nlohmann::json& tools, const std::string& tool, const std::string& param);
// A parameter value written as text → JSON, by the schema's type.
nlohmann::ordered_json TypedValue(const std::string& text, const std::string& type);
// Gemma 4's value syntax (<|"|>text<|"|>, {k:v}, […], numbers, true, false, null): the
// whole of `text` as one value; false when it is not one.
bool ParseGemmaValue(const std::string& text, nlohmann::ordered_json* out);
// `s` as the inside of a JSON string (no quotes): ", \ and control bytes escaped, other
// bytes as they are, so a string's escaped parts join to the escaped whole.
std::string JsonEscape(std::string_view s);
// v as compact JSON text; invalid UTF-8 in strings is replaced rather than thrown on.
std::string JsonText(const nlohmann::ordered_json& v);

}  // namespace ax::server
