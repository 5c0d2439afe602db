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
//                optionally after <|python_tag|>, several calls separated by ";" or
//                in a JSON array; also the form a forced tool_choice takes without a
//                tool-call parser)
//
// Parameter values written as text (qwen3-coder, glm45) take the type the request's tool
// schema gives that parameter (integer "1" → 1; a string parameter stays "1").
//
// Streaming: text outside calls is passed on as content as it comes, holding back only
// a tail that may be the start of an opening tag, and whitespace (dropped when a call
// follows, so an answer of calls only has no content). A call starts (its name comes
// out) as soon as the body shows its name, and its arguments' JSON text then comes out
// as it is decided (tool_call_stream.h): JSON arguments as the model writes them, less
// whitespace outside strings; parameters written as text one by one, string values
// byte by byte. Feed() pieces join to exactly what one Feed() of the whole text gives,
// whatever the chunking, so streamed and non-streamed answers agree.
//
// A body that does not begin as a call of the syntax (invalid JSON, no name) is
// returned as text, with a warning for the log, never an error. Once a call has
// started it stays a call: a break in the syntax later (or a length stop inside it)
// keeps the arguments read so far, with a warning.
#pragma once

#include <memory>
#include <string>
#include <string_view>
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

// A part of call `index` (calls are numbered from 0 in the order they start): a call's
// first part has its name; every part adds the next bytes of its arguments.
struct ToolCallDelta {
  size_t index = 0;
  std::string name;       // non-empty exactly on a call's first part
  std::string arguments;  // may be empty
};

// The calls the parts add up to, in order.
std::vector<ToolCall> JoinToolCalls(const std::vector<ToolCallDelta>& parts);

class CallReader;
// Where reading one call's body stands (tool_call_stream.h).
enum class CallReadState { kUndecided, kStreaming, kDone, kWhole };

class ToolCallParser {
 public:
  struct Piece {
    std::string content;
    std::vector<ToolCallDelta> calls;  // at most one part per call, in call order
  };

  // tools: the request's "tools" array ({"type": "function", "function": {"name",
  // "parameters": JSON schema}}), read for parameter types.
  ToolCallParser(ToolCallFormat format, nlohmann::json tools);
  ~ToolCallParser();
  ToolCallParser(ToolCallParser&&) noexcept;
  ToolCallParser& operator=(ToolCallParser&&) noexcept;

  Piece Feed(const std::string& text);
  Piece Finish();  // the text ended: everything still held
  // One line per call that did not parse (returned as text).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  // kText / kCall: tagged syntaxes, outside and inside a call. llama3-json:
  // kWholeUndecided until the answer shows whether it is calls (kSequence: objects
  // separated by ";" or in an array, each read as it streams; kRest: the rest, parsed
  // whole at the end) or text (kWholeText).
  enum class State { kText, kCall, kWholeUndecided, kSequence, kRest, kWholeText };
  void FeedTagged(bool finishing, Piece* out);
  void FeedSequence(bool finishing, Piece* out);
  // The reader on body: its parts into *out; its state.
  CallReadState ReadCall(std::string_view body, bool complete, Piece* out);
  void AddPart(bool start, const std::string& name, const std::string& arguments, Piece* out);
  void EndCall(const std::string& body, bool closed, Piece* out);
  // A streamed call ended with `body` its whole text: warnings, the reader dropped.
  void EndStreamedCall(std::string_view body);
  void EmitText(const std::string& text, Piece* out);
  void Warn(const std::string& what);

  ToolCallFormat format_;
  nlohmann::json tools_;
  std::string open_, close_;
  State state_ = State::kText;
  std::string held_;                    // undecided text (a possible tag start, or a call's body)
  std::string pending_ws_;              // whitespace after the last emitted text
  bool after_call_ = false;             // no text since the last call
  size_t calls_ = 0;                    // calls started
  std::unique_ptr<CallReader> reader_;  // the call being read
  size_t seq_pos_ = 0;                  // kSequence: where the next object may start in held_
  size_t obj_start_ = 0;                // kSequence: the object being read; kRest: the rest
  std::vector<std::string> warnings_;
};

// Parses one call's body (the text between the tags; for llama3-json the whole answer,
// which may hold several calls). False when it is not a call of that syntax.
bool ParseToolCallBody(ToolCallFormat format, const std::string& body, const nlohmann::json& tools,
                       std::vector<ToolCall>* out, std::string* why);

}  // namespace ax::server
