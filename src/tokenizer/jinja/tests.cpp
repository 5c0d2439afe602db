// Jinja tests (`x is defined`, `x is divisibleby 3`, ...), as jinja2/tests.py defines them.
#include <string_view>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

constexpr std::string_view kTests[] = {
    "odd",  "even",     "divisibleby", "defined", "undefined",   "filter",   "test",     "none",
    "boolean", "false", "true",        "integer", "float",       "lower",    "upper",    "string",
    "mapping", "number", "sequence",   "iterable", "callable",   "sameas",   "escaped",  "in",
    "==",   "eq",       "equalto",     "!=",      "ne",          ">",        "gt",       "greaterthan",
    ">=",   "ge",       "<",           "lt",      "lessthan",    "<=",       "le"};

const Value& Arg(const CallArgs& args, std::string_view test) {
  if (args.positional.empty()) throw Error("test '" + std::string(test) + "' needs an argument");
  return args.positional[0];
}

bool Remainder(Interpreter& interp, const Value& v, const Value& divisor, int64_t want) {
  if (!v.is_number() || !divisor.is_number()) {
    if (v.is_undefined()) throw Error(v.undefined_hint());
    throw Error("unsupported operand type(s) for %: '" + TypeName(v) + "' and '" + TypeName(divisor) + "'");
  }
  Value r = BinaryOp("%", v, divisor, interp);
  return r.number() == static_cast<double>(want);
}

}  // namespace

bool IsKnownTest(std::string_view name) {
  for (std::string_view t : kTests) {
    if (t == name) return true;
  }
  return false;
}

bool ApplyTest(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind() == Kind::kBool;
  if (name == "true") return v.kind() == Kind::kBool && v.boolean();
  if (name == "false") return v.kind() == Kind::kBool && !v.boolean();
  if (name == "integer") return v.kind() == Kind::kInt;
  if (name == "float") return v.kind() == Kind::kFloat;
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "callable") return v.kind() == Kind::kCallable;
  if (name == "escaped") return false;
  if (name == "iterable") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  if (name == "sequence") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  if (name == "lower" || name == "upper") {
    std::string s = ToStr(v);
    return name == "lower" ? (PyLower(s) == s && PyUpper(s) != s) : (PyUpper(s) == s && PyLower(s) != s);
  }
  if (name == "odd") return Remainder(interp, v, Value::Int(2), 1);
  if (name == "even") return Remainder(interp, v, Value::Int(2), 0);
  if (name == "divisibleby") return Remainder(interp, v, Arg(args, name), 0);
  if (name == "filter") return v.is_string() && IsKnownFilter(v.str());
  if (name == "test") return v.is_string() && IsKnownTest(v.str());
  if (name == "sameas") return v.SameObject(Arg(args, name));
  if (name == "in") return interp.Contains(Arg(args, name), v);
  if (name == "==" || name == "eq" || name == "equalto") return Equals(v, Arg(args, name));
  if (name == "!=" || name == "ne") return !Equals(v, Arg(args, name));
  int c = Compare(v, Arg(args, name));
  if (name == ">" || name == "gt" || name == "greaterthan") return c > 0;
  if (name == ">=" || name == "ge") return c >= 0;
  if (name == "<" || name == "lt" || name == "lessthan") return c < 0;
  if (name == "<=" || name == "le") return c <= 0;
  throw Error("no test named '" + std::string(name) + "'");
}

}  // namespace ax::jinja
