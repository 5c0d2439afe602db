// Recursive-descent parser: tokens -> Body. Mirrors Jinja2's grammar and precedence
// (lowest first):
//   a if c else b  >  or  >  and  >  not  >  comparisons (== != < <= > >= in, not in)
//   >  + -  >  ~  >  * / // %  >  **  >  unary - +  >  postfix (.x [i] (args))
//   with filters `|f` and tests `is t` binding to the postfix expression.
// Unknown filters and tests are syntax errors here, as in Jinja2 ("No filter named 'x'").
// Statement parsing is in parser.cpp, expressions in parser_expr.cpp.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace ax::jinja {

// Throws Error(kSyntax) naming the line and column.
Body Parse(std::vector<Token> tokens);

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  Body ParseTemplate();

 private:
  // ---- token stream
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Peek(size_t ahead = 1) const;
  const Token& Next();
  bool IsOp(std::string_view op) const;
  bool IsName(std::string_view name) const;
  bool SkipOp(std::string_view op);
  bool SkipName(std::string_view name);
  const Token& ExpectOp(std::string_view op);
  std::string ExpectName();
  void ExpectBlockEnd();
  [[noreturn]] void Fail(const std::string& message) const;
  [[noreturn]] void FailAt(const std::string& message, const Token& at) const;

  // ---- statements (parser.cpp)
  // Parses until a {% name %} with name in `ends`; leaves Cur() at that name.
  Body ParseBody(std::initializer_list<std::string_view> ends, std::string_view innermost);
  StmtPtr ParseStatement();
  StmtPtr ParseIf(const Token& at);
  StmtPtr ParseFor(const Token& at);
  StmtPtr ParseSet(const Token& at);
  StmtPtr ParseMacro(const Token& at);
  StmtPtr ParseCallBlock(const Token& at);
  StmtPtr ParseFilterBlock(const Token& at);
  StmtPtr ParseWith(const Token& at);
  Target ParseTarget(bool allow_namespace);
  std::vector<Param> ParseParams();

  // ---- expressions (parser_expr.cpp)
  ExprPtr ParseExpression(bool with_condexpr = true);
  ExprPtr ParseTuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end_names = {});
  ExprPtr ParseOr();
  ExprPtr ParseAnd();
  ExprPtr ParseNot();
  ExprPtr ParseCompare();
  ExprPtr ParseMath1();
  ExprPtr ParseConcat();
  ExprPtr ParseMath2();
  ExprPtr ParsePow();
  ExprPtr ParseUnary(bool with_filter);
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr node);
  ExprPtr ParseFilterExpr(ExprPtr node);
  ExprPtr ParseSubscript(ExprPtr node);
  ExprPtr ParseFilter(ExprPtr node, bool start_inline);
  ExprPtr ParseTest(ExprPtr node);
  ExprPtr ParseList(const Token& at);
  ExprPtr ParseDict(const Token& at);
  void ParseCallArgs(CallArgsExpr* args);
  ExprPtr MakeExpr(ExprKind kind, const Token& at);
  ExprPtr Binary(const char* op, ExprPtr a, ExprPtr b, const Token& at);
  template <typename NextOperand, typename Match>
  ExprPtr LeftAssoc(NextOperand next, Match match);  // parser_expr.cpp
  static constexpr int kMaxExprNodes = 10000;

  struct DepthGuard {
    explicit DepthGuard(Parser* p);
    ~DepthGuard() { --p->depth_; }
    Parser* p;
  };

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int expr_nodes_ = 0;  // nodes in the current statement's expressions (bounds tree depth)
};

// Names the evaluator implements (filters.cpp, tests.cpp).
bool IsKnownFilter(std::string_view name);
bool IsKnownTest(std::string_view name);

}  // namespace ax::jinja
