// The grammar a forced tool_choice (tool_choice.h) constrains a chat answer to: calls
// in the call syntax of the request's tool-call parser (tool_calls.h), each to one of
// the allowed tools, its arguments constrained by that tool's `parameters` schema. It
// is GBNF text for the literal parts (tags, names, separators) with the argument
// schemas as schema rules (OutputConstraint::SchemaRule), compiled by the engine.
//
//   qwen3        <tool_call>\n{"name": "f", "arguments": ARGS}\n</tool_call>
//   llama3-json  {"name": "f", "parameters": ARGS}           (calls separated by "; ")
//   qwen3-coder  <tool_call>\n<function=f>\n(<parameter=k>\nVALUE\n</parameter>\n)*</function>\n</tool_call>
//   glm45        <tool_call>f\n(<arg_key>k</arg_key>\n<arg_value>VALUE</arg_value>\n)*</tool_call>
//   gemma4       <|tool_call>call:f{k:GVALUE,...}<tool_call|>     (calls written back to back)
//
// ARGS is exactly the parameters schema (docs/structured-output.md has what a schema
// may hold). The XML syntaxes write each parameter on its own, in the schema's order,
// the required ones always and the others optionally; no parameter the schema does not
// declare. A VALUE is typed as the parser reads it back (ParamType): a parameter of one
// non-string type is that property's schema as JSON; a string parameter (and one with
// no single type) is raw text: one of its enum/const strings if it has them, else any
// text without the closing tags (its pattern, format and lengths are not enforced).
// Without "type", enum/const values of one JSON type give that type ({"enum": [1, 2]}
// is an integer).
//
// gemma4 writes its keys sorted (as its template's dictsort does), each required one
// always, and values in Gemma's syntax: a string <|"|>text<|"|> (one of its enum
// strings if it has them), a scalar of one non-string type as that property's schema
// (numbers, booleans and null read the same as JSON), an object, array or untyped value
// as any Gemma value (its shape is not held to the schema).
//
// Each syntax's tags are named in OutputConstraint::special_tokens: where the model's
// tokenizer has them as special tokens (Gemma 4's always), it may write them as those
// tokens.
//
// Several calls (required with parallel_tool_calls) are separated as the family's
// template separates them ("\n", "; " for llama3-json, nothing for gemma4). Without a
// parser (--tool-call-parser none) the llama3-json form is used and read back
// (ForcedCalls::format says which).
//
// Reasoning: the constraint holds from the first token, so a model that would open its
// thinking block itself answers without one. When the prompt already opened the block
// (in_reasoning), the grammar first takes any text up to the closing tag, then the calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ax/engine.h"
#include "tool_calls.h"
#include "tool_choice.h"

namespace ax::server {

struct ForcedCallsSpec {
  ToolCallFormat format = ToolCallFormat::kQwen3;
  ToolChoice choice;                      // required or named
  const nlohmann::json* tools = nullptr;  // the request's tools array
  // The same array in the request's own key order (parameters' properties are written
  // in it); null: tools' (sorted) order.
  const nlohmann::ordered_json* ordered_tools = nullptr;
  bool parallel = true;         // required: one or more calls (else exactly one)
  std::string reasoning_close;  // non-empty: the prompt opened a block this tag closes
};

struct ForcedCalls {
  OutputConstraint constraint;  // kGrammar with schema rules; kNone: no named function to call
  ToolCallFormat format;        // the syntax the answer is read back with
};

ForcedCalls BuildForcedCalls(const ForcedCallsSpec& spec);

// GBNF pieces (exposed for tests).
// `s` as a GBNF string literal, quotes included.
std::string GbnfLiteral(std::string_view s);
// Rules: `name` ::= any text that contains none of `forbidden` (non-empty ASCII
// strings), one rule per partial match of them (name, name-1, name-2, ...).
std::string GbnfTextWithout(const std::string& name, const std::vector<std::string>& forbidden);

}  // namespace ax::server
