// The parsed template: statements holding expression trees. One generic node type per
// layer (Expr, Stmt) with a kind tag keeps the parser and evaluator short; the field
// comments say which kinds use which fields. The tree is immutable after parsing and
// owned by the Template; macros point into it while rendering.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace ax::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  kLiteral,   // literal
  kName,      // name
  kList,      // items
  kTuple,     // items
  kDict,      // items: key0, value0, key1, value1, ...
  kGetAttr,   // a.name
  kGetItem,   // a[b]
  kSlice,     // a[items[0]:items[1]:items[2]] (null items are omitted bounds)
  kCall,      // a(args)
  kFilter,    // a|name(args); a is null in {% filter %} and block-set filters
  kTest,      // a is name(args)
  kUnary,     // name in {"-", "+", "not"} applied to a
  kBinary,    // a name b; name in {+ - * / // % ** ~ and or}
  kCompare,   // a ops[0] items[0] ops[1] items[1] ... (chained: a < b < c)
  kCondExpr,  // a if b else c (c may be null)
};

struct CallArgsExpr {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star;         // *args
  ExprPtr double_star;  // **kwargs
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  int line = 0;
  int column = 0;
  Value literal;
  std::string name;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;
  CallArgsExpr args;
};

// Assignment target of set/for/with: a name, a tuple of names, or `ns.attr`.
struct Target {
  std::vector<std::string> names;  // one name unless is_tuple
  bool is_tuple = false;
  std::string ns_attr;             // non-empty for `set ns.attr = ...` (names[0] is ns)
};

struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};

enum class StmtKind {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // branches (cond, body)..., else_body
  kFor,          // for target in expr [if cond] body [else else_body]
  kSet,          // set target = expr
  kSetBlock,     // set target [| filter] body endset
  kMacro,        // macro name(params) body
  kCallBlock,    // call(params) expr body   (expr is a kCall)
  kFilterBlock,  // filter expr body          (expr is a kFilter chain with a null operand)
  kWith,         // with assignments body
  kBreak,
  kContinue,
  kScope,        // {% generation %} and other transparent blocks: body
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  int column = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;    // kFor's `if` filter; kSetBlock's filter
  Target target;
  Body body;
  Body else_body;
  std::vector<std::pair<ExprPtr, Body>> branches;
  std::string name;
  std::vector<Param> params;
  std::vector<std::pair<Target, ExprPtr>> assignments;
};

}  // namespace ax::jinja
