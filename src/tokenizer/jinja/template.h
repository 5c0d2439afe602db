// A compiled Jinja template: the entry point of the jinja module.
//
//   AX_ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(source));
//   jinja::Dict context;
//   context.Set("messages", jinja::FromJson(messages_json));
//   AX_ASSIGN_OR_RETURN(std::string text, t.Render(context));
//
// The language is Jinja2's, evaluated with Python semantics, in the configuration
// transformers' apply_chat_template uses (trim_blocks, lstrip_blocks, the loopcontrols
// extension, an immutable sandbox, its own tojson/raise_exception/strftime_now).
// docs/chat-templates.md lists what is supported and the known differences.
//
// Errors: Parse and Render return InvalidArgument; syntax and runtime errors say
// "line L, column C: <what>"; raise_exception(msg) gives exactly msg. Nothing throws.
// Thread-safety: a Template is immutable; Render may run concurrently.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ax/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/value.h"

namespace ax::jinja {

struct RenderOptions {
  RenderLimits limits;
  std::optional<std::tm> now;  // the clock strftime_now() reads; local time when unset
};

class Template {
 public:
  static Result<Template> Parse(std::string_view source, const LexerOptions& options = {});
  // Variables of `context` are visible to the template beside the globals (range,
  // namespace, dict, raise_exception, strftime_now), which they may shadow.
  Result<std::string> Render(const Dict& context, const RenderOptions& options = {}) const;

 private:
  std::shared_ptr<const Body> body_;
};

}  // namespace ax::jinja
