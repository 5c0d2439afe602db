// The interpreter's internal error. The lexer, parser and evaluator throw it where
// Jinja2 raises (syntax errors, TypeError, UndefinedError, raise_exception); it never
// leaves the jinja module: Template::Parse and Template::Render turn it into a Status.
// Exceptions keep a recursive evaluator readable; no exception crosses include/ax.
#pragma once

#include <stdexcept>
#include <string>

namespace ax::jinja {

enum class ErrorKind {
  kSyntax,     // the template text is malformed
  kRuntime,    // a type error, undefined value, or limit while rendering
  kRaised,     // the template called raise_exception(message)
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::kRuntime, int line = 0, int column = 0)
      : std::runtime_error(message), kind_(kind), line_(line), column_(column) {}

  ErrorKind kind() const { return kind_; }
  int line() const { return line_; }      // 1-based; 0 when unknown
  int column() const { return column_; }  // 1-based byte column; 0 when unknown
  bool has_position() const { return line_ > 0; }
  void set_position(int line, int column) {
    line_ = line;
    column_ = column;
  }

 private:
  ErrorKind kind_;
  int line_;
  int column_;
};

}  // namespace ax::jinja
