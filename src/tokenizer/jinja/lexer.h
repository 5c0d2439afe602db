// Jinja lexer: template text -> tokens, with Jinja2's whitespace rules.
//
// Whitespace control, as Jinja2's lexer does it (transformers renders with
// trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//   {%- / {{- / {#-   strip all whitespace (newlines too) before the tag
//   -%} / -}} / -#}   strip all whitespace after the tag
//   trim_blocks       drop the first newline after %} and #}
//   lstrip_blocks     drop spaces/tabs between a line start and {% or {# (not {{);
//                     {%+ opts out
//   line endings      \r\n and \r become \n; one trailing newline is dropped
// Comments vanish; {% raw %}...{% endraw %} becomes text.
//
// Example (both options on):
//   "  {% if x %}\n    hi\n  {% endif %}\n"
//   -> [BlockBegin Name(if) Name(x) BlockEnd] Text("    hi\n") [BlockBegin Name(endif) BlockEnd]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ax::jinja {

enum class TokenType {
  kText,
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,         // value holds the unescaped string
  kInteger,
  kFloat,
  kOperator,       // + - * / // % ** ~ == != < <= > >= = . : | , ; ( ) [ ] { }
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string value;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
  int column = 1;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws Error(kSyntax) with the line and column of the problem.
std::vector<Token> Tokenize(std::string_view source, const LexerOptions& options);

}  // namespace ax::jinja
