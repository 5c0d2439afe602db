// Expression parsing, following Jinja2's parser.py function by function.
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/parser.h"

namespace ax::jinja {

ExprPtr Parser::MakeExpr(ExprKind kind, const Token& at) {
  // Chains like a.b.c... or 1+1+1... build trees as deep as they are long; the evaluator
  // and destructors recurse over them, so one statement's expressions are bounded.
  if (++expr_nodes_ > kMaxExprNodes) FailAt("expression too large", at);
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = at.line;
  e->column = at.column;
  return e;
}

ExprPtr Parser::Binary(const char* op, ExprPtr a, ExprPtr b, const Token& at) {
  ExprPtr e = MakeExpr(ExprKind::kBinary, at);
  e->name = op;
  e->a = std::move(a);
  e->b = std::move(b);
  return e;
}

ExprPtr Parser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(this);
  if (!with_condexpr) return ParseOr();
  Token at = Cur();
  ExprPtr expr = ParseOr();
  while (SkipName("if")) {
    ExprPtr cond = ParseOr();
    ExprPtr otherwise;
    if (SkipName("else")) otherwise = ParseExpression(true);
    ExprPtr e = MakeExpr(ExprKind::kCondExpr, at);
    e->a = std::move(expr);
    e->b = std::move(cond);
    e->c = std::move(otherwise);
    expr = std::move(e);
    at = Cur();
  }
  return expr;
}

// a, b, c  -> tuple; a single expression without a comma is returned as is.
ExprPtr Parser::ParseTuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end_names) {
  Token at = Cur();
  auto is_end = [&]() {
    TokenType t = Cur().type;
    if (t == TokenType::kVariableEnd || t == TokenType::kBlockEnd || IsOp(")")) return true;
    for (std::string_view n : extra_end_names) {
      if (IsName(n)) return true;
    }
    return false;
  };
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) ExpectOp(",");
    if (is_end()) break;
    items.push_back(ParseExpression(with_condexpr));
    if (IsOp(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    Fail("expected an expression, got " + (Cur().value.empty() ? std::string("end of tag") : "'" + Cur().value + "'"));
  }
  ExprPtr e = MakeExpr(ExprKind::kTuple, at);
  e->items = std::move(items);
  return e;
}

// One left-associative level: operands from `next`, joined while `match` holds; the
// operator is the matched token's text.
template <typename NextOperand, typename Match>
ExprPtr Parser::LeftAssoc(NextOperand next, Match match) {
  ExprPtr left = next();
  while (match()) {
    Token at = Next();
    left = Binary(at.value.c_str(), std::move(left), next(), at);
  }
  return left;
}

ExprPtr Parser::ParseOr() {
  return LeftAssoc([this] { return ParseAnd(); }, [this] { return IsName("or"); });
}

ExprPtr Parser::ParseAnd() {
  return LeftAssoc([this] { return ParseNot(); }, [this] { return IsName("and"); });
}

ExprPtr Parser::ParseNot() {
  if (IsName("not")) {
    DepthGuard guard(this);
    Token at = Next();
    ExprPtr e = MakeExpr(ExprKind::kUnary, at);
    e->name = "not";
    e->a = ParseNot();
    return e;
  }
  return ParseCompare();
}

ExprPtr Parser::ParseCompare() {
  Token at = Cur();
  ExprPtr expr = ParseMath1();
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (Cur().type == TokenType::kOperator &&
        (Cur().value == "==" || Cur().value == "!=" || Cur().value == "<" || Cur().value == "<=" ||
         Cur().value == ">" || Cur().value == ">=")) {
      op = Next().value;
    } else if (IsName("in")) {
      Next();
      op = "in";
    } else if (IsName("not") && Peek().type == TokenType::kName && Peek().value == "in") {
      Next();
      Next();
      op = "not in";
    } else {
      break;
    }
    if (!cmp) {
      cmp = MakeExpr(ExprKind::kCompare, at);
      cmp->a = std::move(expr);
    }
    cmp->ops.push_back(op);
    cmp->items.push_back(ParseMath1());
  }
  return cmp ? std::move(cmp) : std::move(expr);
}

ExprPtr Parser::ParseMath1() {
  return LeftAssoc([this] { return ParseConcat(); }, [this] { return IsOp("+") || IsOp("-"); });
}

ExprPtr Parser::ParseConcat() {
  return LeftAssoc([this] { return ParseMath2(); }, [this] { return IsOp("~"); });
}

ExprPtr Parser::ParseMath2() {
  return LeftAssoc([this] { return ParsePow(); },
                   [this] { return IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"); });
}

ExprPtr Parser::ParsePow() {
  return LeftAssoc([this] { return ParseUnary(true); }, [this] { return IsOp("**"); });
}

ExprPtr Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(this);
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    Token at = Next();
    node = MakeExpr(ExprKind::kUnary, at);
    node->name = at.value;
    node->a = ParseUnary(false);
  } else {
    node = ParsePrimary();
  }
  node = ParsePostfix(std::move(node));
  if (with_filter) node = ParseFilterExpr(std::move(node));
  return node;
}

ExprPtr Parser::ParsePrimary() {
  const Token& t = Cur();
  if (t.type == TokenType::kName) {
    Token at = Next();
    ExprPtr e = MakeExpr(ExprKind::kLiteral, at);
    if (at.value == "true" || at.value == "True") {
      e->literal = Value::Bool(true);
    } else if (at.value == "false" || at.value == "False") {
      e->literal = Value::Bool(false);
    } else if (at.value == "none" || at.value == "None") {
      e->literal = Value::None();
    } else {
      e->kind = ExprKind::kName;
      e->name = at.value;
    }
    return e;
  }
  if (t.type == TokenType::kString) {
    Token at = Next();
    std::string s = at.value;
    while (Cur().type == TokenType::kString) s += Next().value;
    ExprPtr e = MakeExpr(ExprKind::kLiteral, at);
    e->literal = Value::String(std::move(s));
    return e;
  }
  if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
    Token at = Next();
    ExprPtr e = MakeExpr(ExprKind::kLiteral, at);
    e->literal = at.type == TokenType::kInteger ? Value::Int(at.int_value) : Value::Float(at.float_value);
    return e;
  }
  if (IsOp("(")) {
    Token at = Next();
    ExprPtr e;
    if (IsOp(")")) {
      e = MakeExpr(ExprKind::kTuple, at);
    } else {
      e = ParseTuple(true);
    }
    ExpectOp(")");
    return e;
  }
  if (IsOp("[")) return ParseList(Next());
  if (IsOp("{")) return ParseDict(Next());
  if (t.type == TokenType::kEof || t.type == TokenType::kBlockEnd || t.type == TokenType::kVariableEnd) {
    Fail("unexpected end of expression");
  }
  Fail("unexpected '" + t.value + "'");
}

ExprPtr Parser::ParseList(const Token& at) {
  ExprPtr e = MakeExpr(ExprKind::kList, at);
  while (!IsOp("]")) {
    if (!e->items.empty()) ExpectOp(",");
    if (IsOp("]")) break;
    e->items.push_back(ParseExpression(true));
  }
  ExpectOp("]");
  return e;
}

ExprPtr Parser::ParseDict(const Token& at) {
  ExprPtr e = MakeExpr(ExprKind::kDict, at);
  while (!IsOp("}")) {
    if (!e->items.empty()) ExpectOp(",");
    if (IsOp("}")) break;
    e->items.push_back(ParseExpression(true));
    ExpectOp(":");
    e->items.push_back(ParseExpression(true));
  }
  ExpectOp("}");
  return e;
}

ExprPtr Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (IsOp(".") || IsOp("[")) {
      node = ParseSubscript(std::move(node));
    } else if (IsOp("(")) {
      Token at = Cur();
      ExprPtr call = MakeExpr(ExprKind::kCall, at);
      call->a = std::move(node);
      ParseCallArgs(&call->args);
      node = std::move(call);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (IsOp("|")) {
      node = ParseFilter(std::move(node), false);
    } else if (IsName("is")) {
      node = ParseTest(std::move(node));
    } else if (IsOp("(")) {
      Token at = Cur();
      ExprPtr call = MakeExpr(ExprKind::kCall, at);
      call->a = std::move(node);
      ParseCallArgs(&call->args);
      node = std::move(call);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::ParseSubscript(ExprPtr node) {
  Token at = Next();
  if (at.value == ".") {
    Token attr = Next();
    if (attr.type == TokenType::kName) {
      ExprPtr e = MakeExpr(ExprKind::kGetAttr, attr);
      e->a = std::move(node);
      e->name = attr.value;
      return e;
    }
    if (attr.type != TokenType::kInteger) FailAt("expected name or number after '.'", attr);
    ExprPtr e = MakeExpr(ExprKind::kGetItem, attr);
    e->a = std::move(node);
    e->b = MakeExpr(ExprKind::kLiteral, attr);
    e->b->literal = Value::Int(attr.int_value);
    return e;
  }
  // '[' subscript or slice ']'
  auto bound_end = [&]() { return IsOp("]") || IsOp(",") || IsOp(":"); };
  ExprPtr start;
  if (!IsOp(":")) {
    start = ParseExpression(true);
    if (!IsOp(":")) {
      if (IsOp(",")) Fail("tuple subscripts are not supported");
      ExpectOp("]");
      ExprPtr e = MakeExpr(ExprKind::kGetItem, at);
      e->a = std::move(node);
      e->b = std::move(start);
      return e;
    }
  }
  ExprPtr e = MakeExpr(ExprKind::kSlice, at);
  e->a = std::move(node);
  e->items.resize(3);
  e->items[0] = std::move(start);
  ExpectOp(":");
  if (!bound_end()) e->items[1] = ParseExpression(true);
  if (SkipOp(":")) {
    if (!bound_end()) e->items[2] = ParseExpression(true);
  }
  ExpectOp("]");
  return e;
}

ExprPtr Parser::ParseFilter(ExprPtr node, bool start_inline) {
  while (IsOp("|") || start_inline) {
    if (!start_inline) Next();
    start_inline = false;
    Token at = Cur();
    std::string name = ExpectName();
    while (IsOp(".")) {
      Next();
      name += "." + ExpectName();
    }
    if (!IsKnownFilter(name)) FailAt("no filter named '" + name + "'", at);
    ExprPtr e = MakeExpr(ExprKind::kFilter, at);
    e->name = name;
    e->a = std::move(node);
    if (IsOp("(")) ParseCallArgs(&e->args);
    node = std::move(e);
  }
  return node;
}

ExprPtr Parser::ParseTest(ExprPtr node) {
  Token at = Next();  // 'is'
  bool negated = SkipName("not");
  Token name_at = Cur();
  std::string name = ExpectName();
  while (IsOp(".")) {
    Next();
    name += "." + ExpectName();
  }
  if (!IsKnownTest(name)) FailAt("no test named '" + name + "'", name_at);
  ExprPtr e = MakeExpr(ExprKind::kTest, at);
  e->name = name;
  e->a = std::move(node);
  const Token& t = Cur();
  bool arg_start = t.type == TokenType::kName || t.type == TokenType::kString || t.type == TokenType::kInteger ||
                   t.type == TokenType::kFloat || IsOp("(") || IsOp("[") || IsOp("{");
  if (IsOp("(")) {
    ParseCallArgs(&e->args);
  } else if (arg_start && !IsName("else") && !IsName("or") && !IsName("and")) {
    if (IsName("is")) Fail("you cannot chain multiple tests with is");
    e->args.positional.push_back(ParsePostfix(ParsePrimary()));
  }
  if (!negated) return e;
  ExprPtr n = MakeExpr(ExprKind::kUnary, at);
  n->name = "not";
  n->a = std::move(e);
  return n;
}

void Parser::ParseCallArgs(CallArgsExpr* args) {
  Token open = ExpectOp("(");
  bool require_comma = false;
  auto ensure = [&](bool ok) {
    if (!ok) FailAt("invalid syntax for function call expression", open);
  };
  while (!IsOp(")")) {
    if (require_comma) {
      ExpectOp(",");
      if (IsOp(")")) break;
    }
    if (IsOp("*")) {
      ensure(!args->star && !args->double_star);
      Next();
      args->star = ParseExpression(true);
    } else if (IsOp("**")) {
      ensure(!args->double_star);
      Next();
      args->double_star = ParseExpression(true);
    } else if (Cur().type == TokenType::kName && Peek().type == TokenType::kOperator && Peek().value == "=") {
      ensure(!args->double_star);
      std::string key = Next().value;
      Next();
      args->keyword.emplace_back(key, ParseExpression(true));
    } else {
      ensure(!args->star && !args->double_star && args->keyword.empty());
      args->positional.push_back(ParseExpression(true));
    }
    require_comma = true;
  }
  ExpectOp(")");
}

}  // namespace ax::jinja
