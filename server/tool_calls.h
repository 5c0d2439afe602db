// Tool calls out of a chat completion's text, per model family. The call syntaxes:
//
//   qwen3        <tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>
//                (Qwen2.5, Qwen3, QwQ; Hermes-style templates)
//   qwen3-coder  <tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n</function>\n</tool_call>
//                (Qwen3-Coder, Qwen3.5 / 3.6)
//   glm45        <tool_call>f\n<arg_key>a</arg_key>\n<arg_value>1</arg_value>\n</tool_call>
//                (GLM-4.5 … 4.7)
//   gemma4       <|tool_call>call:f{a:1,s:<|"|>text<|"|>}<tool_call|>
//   llama3-json  {"name": "f", "parameters": {"a": 1}}   (the whole answer; Llama 3.1+,
//                optionally after <|python_tag|>, several calls separated by ";")
//
// Parameter values written as text (qwen3-coder, glm45) take the type the request's tool
// schema gives that parameter (integer "1" → 1; a string parameter stays "1").
//
// Streaming: text outside calls is passed on as content as it comes, holding back only
// a tail that may be the start of an opening tag, and whitespace (dropped when a call
// follows, so an answer of calls only has no content); a call is held until its closing
// tag and then comes out whole. Feed() pieces join to exactly what one Feed() of the
// whole text gives, whatever the chunking, so streamed and non-streamed answers agree.
// A call whose body does not parse (invalid JSON, no name) is returned as text, with a
// warning for the log, never an error.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ax::server {

enum class ToolCallFormat { kNone, kQwen3, kQwen3Coder, kGlm45, kGemma4, kLlama3Json };

// "none", "qwen3", "qwen3-coder", "glm45", "gemma4", "llama3-json".
const char* ToolCallFormatName(ToolCallFormat f);
// False for an unknown name.
bool ParseToolCallFormat(const std::string& name, ToolCallFormat* out);
// The syntax a chat template teaches its model (kNone when it shows none).
ToolCallFormat DetectToolCallFormat(const std::string& chat_template);
// Whether the syntax's tags are special tokens the text must keep (Gemma 4).
bool ToolCallFormatNeedsSpecialTokens(ToolCallFormat f);

struct ToolCall {
  std::string name;
  std::string arguments;  // a JSON object, as text
};

class ToolCallParser {
 public:
  struct Piece {
    std::string content;
    std::vector<ToolCall> calls;
  };

  // tools: the request's "tools" array ({"type": "function", "function": {"name",
  // "parameters": JSON schema}}), read for parameter types.
  ToolCallParser(ToolCallFormat format, const nlohmann::json& tools);

  Piece Feed(const std::string& text);
  Piece Finish();  // the text ended: everything still held
  // One line per call that did not parse (returned as text).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  enum class State { kText, kCall, kWholeUndecided, kWholeCall, kWholeText };
  void FeedTagged(Piece* out);
  void EndCall(const std::string& body, bool closed, Piece* out);
  void EmitText(std::string text, Piece* out);

  ToolCallFormat format_;
  nlohmann::json tools_;
  std::string open_, close_;
  State state_ = State::kText;
  std::string held_;         // undecided text (a possible tag start, or a call's body)
  std::string pending_ws_;   // whitespace after the last emitted text
  bool after_call_ = false;  // no text since the last call
  std::vector<std::string> warnings_;
};

// Parses one call's body (the text between the tags; for llama3-json the whole answer,
// which may hold several calls). False when it is not a call of that syntax.
bool ParseToolCallBody(ToolCallFormat format, const std::string& body, const nlohmann::json& tools,
                       std::vector<ToolCall>* out, std::string* why);

}  // namespace ax::server
