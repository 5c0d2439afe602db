// Statement parsing: text, {{ output }}, and the {% tags %} chat templates use.
#include "tokenizer/jinja/parser.h"

#include "tokenizer/jinja/error.h"

namespace ax::jinja {
namespace {

constexpr int kMaxNesting = 200;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

Body Parse(std::vector<Token> tokens) { return Parser(std::move(tokens)).ParseTemplate(); }

Parser::DepthGuard::DepthGuard(Parser* parser) : p(parser) {
  if (++p->depth_ > kMaxNesting) p->Fail("template nesting too deep");
}

// ---- token stream -----------------------------------------------------------------

const Token& Parser::Peek(size_t ahead) const {
  size_t i = pos_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

const Token& Parser::Next() {
  const Token& t = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool Parser::IsOp(std::string_view op) const { return Cur().type == TokenType::kOperator && Cur().value == op; }
bool Parser::IsName(std::string_view name) const { return Cur().type == TokenType::kName && Cur().value == name; }

bool Parser::SkipOp(std::string_view op) {
  if (!IsOp(op)) return false;
  Next();
  return true;
}

bool Parser::SkipName(std::string_view name) {
  if (!IsName(name)) return false;
  Next();
  return true;
}

namespace {

std::string Describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEof: return "end of template";
    case TokenType::kText: return "text";
    case TokenType::kBlockEnd: return "'%}'";
    case TokenType::kVariableEnd: return "'}}'";
    case TokenType::kBlockBegin: return "'{%'";
    case TokenType::kVariableBegin: return "'{{'";
    case TokenType::kString: return "string";
    case TokenType::kInteger:
    case TokenType::kFloat: return "number " + t.value;
    case TokenType::kName:
    case TokenType::kOperator: return Quoted(t.value);
  }
  return "token";
}

}  // namespace

const Token& Parser::ExpectOp(std::string_view op) {
  if (!IsOp(op)) Fail("expected " + Quoted(op) + ", got " + Describe(Cur()));
  return Next();
}

std::string Parser::ExpectName() {
  if (Cur().type != TokenType::kName) Fail("expected a name, got " + Describe(Cur()));
  return Next().value;
}

void Parser::ExpectBlockEnd() {
  if (Cur().type != TokenType::kBlockEnd) Fail("expected end of statement block '%}', got " + Describe(Cur()));
  Next();
}

void Parser::Fail(const std::string& message) const { FailAt(message, Cur()); }

void Parser::FailAt(const std::string& message, const Token& at) const {
  throw Error(message, ErrorKind::kSyntax, at.line, at.column);
}

// ---- statements --------------------------------------------------------------------

Body Parser::ParseTemplate() {
  Body body = ParseBody({}, "");
  if (Cur().type != TokenType::kEof) Fail("unexpected " + Describe(Cur()));
  return body;
}

Body Parser::ParseBody(std::initializer_list<std::string_view> ends, std::string_view innermost) {
  DepthGuard guard(this);
  Body body;
  while (true) {
    const Token& t = Cur();
    if (t.type == TokenType::kEof) {
      if (ends.size() == 0) return body;
      std::string wanted;
      for (std::string_view e : ends) wanted += (wanted.empty() ? "" : " or ") + Quoted(e);
      Fail("unexpected end of template; looking for " + wanted + " (the innermost open block is " +
           Quoted(innermost) + ")");
    }
    if (t.type == TokenType::kText) {
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kText;
      s->line = t.line;
      s->column = t.column;
      s->text = Next().value;
      body.push_back(std::move(s));
    } else if (t.type == TokenType::kVariableBegin) {
      expr_nodes_ = 0;
      const Token& at = Next();
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kOutput;
      s->line = at.line;
      s->column = at.column;
      s->expr = ParseTuple(true);
      if (Cur().type != TokenType::kVariableEnd) Fail("expected end of print statement '}}', got " + Describe(Cur()));
      Next();
      body.push_back(std::move(s));
    } else if (t.type == TokenType::kBlockBegin) {
      const Token& name = Peek();
      if (name.type == TokenType::kName) {
        for (std::string_view e : ends) {
          if (name.value == e) {
            Next();  // leave Cur() at the end tag's name
            return body;
          }
        }
      }
      Next();
      expr_nodes_ = 0;
      body.push_back(ParseStatement());
    } else {
      Fail("unexpected " + Describe(t));
    }
  }
}

StmtPtr Parser::ParseStatement() {
  if (Cur().type != TokenType::kName) Fail("tag name expected, got " + Describe(Cur()));
  const Token& at = Cur();
  std::string tag = Next().value;
  if (tag == "if") return ParseIf(at);
  if (tag == "for") return ParseFor(at);
  if (tag == "set") return ParseSet(at);
  if (tag == "macro") return ParseMacro(at);
  if (tag == "call") return ParseCallBlock(at);
  if (tag == "filter") return ParseFilterBlock(at);
  if (tag == "with") return ParseWith(at);
  auto s = std::make_unique<Stmt>();
  s->line = at.line;
  s->column = at.column;
  if (tag == "break" || tag == "continue") {
    s->kind = tag == "break" ? StmtKind::kBreak : StmtKind::kContinue;
    ExpectBlockEnd();
    return s;
  }
  if (tag == "print") {
    s->kind = StmtKind::kOutput;
    s->expr = ParseTuple(true);
    ExpectBlockEnd();
    return s;
  }
  if (tag == "generation") {  // transformers' AssistantTracker: renders its body unchanged
    s->kind = StmtKind::kScope;
    ExpectBlockEnd();
    s->body = ParseBody({"endgeneration"}, "generation");
    Next();
    ExpectBlockEnd();
    return s;
  }
  if (tag == "include" || tag == "import" || tag == "from" || tag == "extends" || tag == "block" || tag == "do" ||
      tag == "autoescape") {
    FailAt("unsupported tag " + Quoted(tag) + " (chat templates are single self-contained templates)", at);
  }
  FailAt("encountered unknown tag " + Quoted(tag), at);
}

StmtPtr Parser::ParseIf(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kIf;
  s->line = at.line;
  s->column = at.column;
  ExprPtr cond = ParseTuple(false);
  while (true) {
    ExpectBlockEnd();
    Body body = ParseBody({"elif", "else", "endif"}, "if");
    s->branches.emplace_back(std::move(cond), std::move(body));
    std::string which = Next().value;
    if (which == "elif") {
      cond = ParseTuple(false);
      continue;
    }
    if (which == "else") {
      ExpectBlockEnd();
      s->else_body = ParseBody({"endif"}, "if");
      Next();
    }
    ExpectBlockEnd();
    return s;
  }
}

StmtPtr Parser::ParseFor(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kFor;
  s->line = at.line;
  s->column = at.column;
  s->target = ParseTarget(false);
  if (!SkipName("in")) Fail("expected 'in' in for loop, got " + Describe(Cur()));
  s->expr = ParseTuple(false, {"recursive"});
  if (SkipName("if")) s->cond = ParseExpression(true);
  if (IsName("recursive")) Fail("recursive for loops are not supported");
  ExpectBlockEnd();
  s->body = ParseBody({"endfor", "else"}, "for");
  if (Next().value == "else") {
    ExpectBlockEnd();
    s->else_body = ParseBody({"endfor"}, "for");
    Next();
  }
  ExpectBlockEnd();
  return s;
}

Target Parser::ParseTarget(bool allow_namespace) {
  Target t;
  if (allow_namespace && Cur().type == TokenType::kName && Peek().type == TokenType::kOperator && Peek().value == ".") {
    t.names.push_back(Next().value);
    Next();
    t.ns_attr = ExpectName();
    return t;
  }
  bool paren = SkipOp("(");
  while (true) {
    t.names.push_back(ExpectName());
    if (!IsOp(",")) break;
    Next();
    t.is_tuple = true;
    if (Cur().type != TokenType::kName) break;  // trailing comma
  }
  if (paren) {
    ExpectOp(")");
    t.is_tuple = t.is_tuple || t.names.size() > 1;
  }
  for (const std::string& n : t.names) {
    if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None") {
      Fail("cannot assign to " + Quoted(n));
    }
  }
  return t;
}

StmtPtr Parser::ParseSet(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->line = at.line;
  s->column = at.column;
  s->target = ParseTarget(true);
  if (SkipOp("=")) {
    s->kind = StmtKind::kSet;
    s->expr = ParseTuple(true);
    ExpectBlockEnd();
    return s;
  }
  s->kind = StmtKind::kSetBlock;
  if (IsOp("|")) s->cond = ParseFilter(nullptr, false);
  ExpectBlockEnd();
  s->body = ParseBody({"endset"}, "set");
  Next();
  ExpectBlockEnd();
  return s;
}

std::vector<Param> Parser::ParseParams() {
  std::vector<Param> params;
  ExpectOp("(");
  while (!IsOp(")")) {
    if (!params.empty()) ExpectOp(",");
    if (IsOp(")")) break;
    Param p;
    p.name = ExpectName();
    if (SkipOp("=")) p.default_value = ParseExpression(true);
    params.push_back(std::move(p));
  }
  ExpectOp(")");
  return params;
}

StmtPtr Parser::ParseMacro(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kMacro;
  s->line = at.line;
  s->column = at.column;
  s->name = ExpectName();
  s->params = ParseParams();
  ExpectBlockEnd();
  s->body = ParseBody({"endmacro"}, "macro");
  Next();
  if (Cur().type == TokenType::kName) Next();  // {% endmacro name %}
  ExpectBlockEnd();
  return s;
}

StmtPtr Parser::ParseCallBlock(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kCallBlock;
  s->line = at.line;
  s->column = at.column;
  if (IsOp("(")) s->params = ParseParams();
  s->expr = ParseExpression(true);
  if (s->expr->kind != ExprKind::kCall) FailAt("expected call", at);
  ExpectBlockEnd();
  s->body = ParseBody({"endcall"}, "call");
  Next();
  ExpectBlockEnd();
  return s;
}

StmtPtr Parser::ParseFilterBlock(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kFilterBlock;
  s->line = at.line;
  s->column = at.column;
  s->expr = ParseFilter(nullptr, true);
  ExpectBlockEnd();
  s->body = ParseBody({"endfilter"}, "filter");
  Next();
  ExpectBlockEnd();
  return s;
}

StmtPtr Parser::ParseWith(const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kWith;
  s->line = at.line;
  s->column = at.column;
  while (Cur().type != TokenType::kBlockEnd) {
    if (!s->assignments.empty()) ExpectOp(",");
    Target t = ParseTarget(false);
    ExpectOp("=");
    s->assignments.emplace_back(std::move(t), ParseExpression(true));
  }
  ExpectBlockEnd();
  s->body = ParseBody({"endwith"}, "with");
  Next();
  ExpectBlockEnd();
  return s;
}

}  // namespace ax::jinja
