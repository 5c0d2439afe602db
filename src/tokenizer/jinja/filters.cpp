// Filters on scalars and strings, plus transformers' tojson. Sequence filters are in
// filters_seq.cpp. Each follows jinja2/filters.py (argument names, defaults, results).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

constexpr std::string_view kFilters[] = {
    "abs",   "attr",  "capitalize", "count",  "d",        "default", "dictsort", "e",         "escape",
    "first", "float", "forceescape", "format", "indent",  "int",     "items",    "join",      "last",
    "length", "list", "lower",      "map",    "max",      "min",     "reject",   "rejectattr", "replace",
    "reverse", "round", "safe",     "select", "selectattr", "sort",  "string",   "sum",       "title",
    "tojson", "trim", "unique",     "upper",  "wordcount", "center"};

bool ArgBool(const CallArgs& args, size_t i, std::string_view name, bool dflt) {
  const Value* v = args.Get(i, name);
  return v == nullptr ? dflt : v->Truthy();
}

Value Length(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return Value::Int(0);
    case Kind::kString: return Value::Int(static_cast<int64_t>(CodePointCount(v.str())));
    case Kind::kList: return Value::Int(static_cast<int64_t>(v.list().size()));
    case Kind::kDict: return Value::Int(static_cast<int64_t>(v.dict().size()));
    case Kind::kNone:
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
    case Kind::kNamespace:
    case Kind::kCallable:
      break;
  }
  throw Error("object of type '" + TypeName(v) + "' has no len()");
}

Value ToJsonFilter(const Value& v, const CallArgs& args) {
  JsonOptions o;
  o.ensure_ascii = ArgBool(args, 0, "ensure_ascii", false);
  if (const Value* indent = args.Get(1, "indent"); indent != nullptr && !indent->is_none()) {
    if (indent->is_integral()) {
      o.indent = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(indent->integer(), 64)));
    } else if (indent->is_string()) {
      o.indent = 0;
      o.indent_string = indent->str();
    } else {
      throw Error("tojson: indent must be an integer or a string");
    }
  }
  if (const Value* sep = args.Get(2, "separators"); sep != nullptr && !sep->is_none()) {
    if (!sep->is_list() || sep->list().size() != 2 || !sep->list()[0].is_string() || !sep->list()[1].is_string()) {
      throw Error("tojson: separators must be a pair of strings");
    }
    o.item_separator = sep->list()[0].str();
    o.key_separator = sep->list()[1].str();
  }
  o.sort_keys = ArgBool(args, 3, "sort_keys", false);
  return Value::String(ToJson(v, o));
}

Value IntFilter(const Value& v, const CallArgs& args) {
  const Value* dflt = args.Get(0, "default");
  const Value* base_v = args.Get(1, "base");
  int base = base_v != nullptr && base_v->is_integral() ? static_cast<int>(base_v->integer()) : 10;
  int64_t i = 0;
  double d = 0;
  if (v.is_integral()) return Value::Int(v.integer());
  if (v.kind() == Kind::kFloat && std::isfinite(v.number()) && std::fabs(v.number()) < 9.2e18) {
    return Value::Int(static_cast<int64_t>(v.number()));
  }
  if (v.is_string()) {
    if (ParseIntLiteral(v.str(), base, &i)) return Value::Int(i);
    if (ParseFloatLiteral(v.str(), &d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return dflt != nullptr ? *dflt : Value::Int(0);
}

Value FloatFilter(const Value& v, const CallArgs& args) {
  const Value* dflt = args.Get(0, "default");
  double d = 0;
  if (v.is_number()) return Value::Float(v.number());
  if (v.is_string() && ParseFloatLiteral(v.str(), &d)) return Value::Float(d);
  return dflt != nullptr ? *dflt : Value::Float(0.0);
}

Value RoundFilter(const Value& v, const CallArgs& args) {
  const Value* prec_v = args.Get(0, "precision");
  const Value* method_v = args.Get(1, "method");
  int64_t precision = prec_v != nullptr && prec_v->is_integral() ? prec_v->integer() : 0;
  std::string method = method_v != nullptr && method_v->is_string() ? method_v->str() : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    throw Error("method must be common, ceil or floor");
  }
  if (!v.is_number()) throw Error("type " + TypeName(v) + " doesn't define __round__ method");
  if (precision < -300 || precision > 300) throw Error("round: precision out of range");
  double scale = std::pow(10.0, static_cast<double>(precision));
  if (method != "common") {
    double x = v.number() * scale;
    return Value::Float((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
  }
  if (v.is_integral()) return Value::Int(v.integer());
  if (precision < 0) return Value::Float(std::nearbyint(v.number() * scale) / scale);
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 100)), v.number());
  return Value::Float(std::strtod(buf, nullptr));
}

Value IndentFilter(const Value& v, const CallArgs& args) {
  const Value* width = args.Get(0, "width");
  std::string indention = width == nullptr ? "    "
                          : width->is_string() ? width->str()
                          : std::string(static_cast<size_t>(std::clamp<int64_t>(width->is_integral() ? width->integer() : 4, 0, 1024)), ' ');
  bool first = ArgBool(args, 1, "first", false);
  bool blank = ArgBool(args, 2, "blank", false);
  std::vector<std::string> lines = PySplitLines(ToStr(v) + "\n");
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i > 0 ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : indention + lines[i]);
  }
  return Value::String(first ? indention + rv : rv);
}

Value FormatFilter(const Value& v, const CallArgs& args) {
  if (!args.positional.empty() && !args.keyword.empty()) {
    throw Error("can't handle positional and keyword arguments at the same time");
  }
  if (!args.keyword.empty()) {
    Dict d;
    for (const auto& [k, val] : args.keyword) d.Set(k, val);
    return Value::String(PercentFormat(ToStr(v), Value::MakeDict(std::move(d))));
  }
  return Value::String(PercentFormat(ToStr(v), Value::Tuple(args.positional)));
}

size_t WordCount(const std::string& s) {
  size_t n = 0;
  bool in_word = false;
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = DecodeUtf8(s, &i);
    bool word = c == '_' || (c < 0x80 ? std::isalnum(static_cast<int>(c)) != 0 : !IsPyWhitespace(c));
    if (word && !in_word) ++n;
    in_word = word;
  }
  return n;
}

}  // namespace

bool IsKnownFilter(std::string_view name) {
  for (std::string_view f : kFilters) {
    if (f == name) return true;
  }
  return false;
}

Value ApplyFilter(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args) {
  Value seq_result;
  if (ApplySequenceFilter(interp, name, v, args, &seq_result)) return seq_result;
  if (name == "default" || name == "d") {
    const Value* dflt = args.Get(0, "default_value");
    bool boolean = ArgBool(args, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.Truthy())) return dflt != nullptr ? *dflt : Value::String("");
    return v;
  }
  if (name == "tojson") return ToJsonFilter(v, args);
  if (name == "length" || name == "count") return Length(v);
  if (name == "string") return Value::String(ToStr(v));
  if (name == "safe") return v.is_string() ? v : Value::String(ToStr(v));
  if (name == "escape" || name == "e" || name == "forceescape") return Value::String(HtmlEscape(ToStr(v)));
  if (name == "upper") return Value::String(PyUpper(ToStr(v)));
  if (name == "lower") return Value::String(PyLower(ToStr(v)));
  if (name == "title") return Value::String(JinjaTitle(ToStr(v)));
  if (name == "capitalize") return Value::String(PyCapitalize(ToStr(v)));
  if (name == "wordcount") return Value::Int(static_cast<int64_t>(WordCount(ToStr(v))));
  if (name == "trim") {
    const Value* chars = args.Get(0, "chars");
    std::string set = chars != nullptr && chars->is_string() ? chars->str() : std::string();
    bool use_chars = chars != nullptr && !chars->is_none();
    return Value::String(PyStrip(ToStr(v), use_chars ? &set : nullptr, true, true));
  }
  if (name == "replace") {
    const Value* from = args.Get(0, "old");
    const Value* to = args.Get(1, "new");
    const Value* count = args.Get(2, "count");
    if (from == nullptr || to == nullptr) throw Error("replace() needs the old and new strings");
    long n = count != nullptr && count->is_integral() ? static_cast<long>(count->integer()) : -1;
    std::string s = PyReplace(ToStr(v), ToStr(*from), ToStr(*to), n);
    interp.CheckSize(s.size());
    return Value::String(std::move(s));
  }
  if (name == "indent") return IndentFilter(v, args);
  if (name == "center") {
    const Value* w = args.Get(0, "width");
    std::string s = ToStr(v);
    auto width = static_cast<size_t>(std::clamp<int64_t>(w != nullptr && w->is_integral() ? w->integer() : 80, 0, 4096));
    size_t n = CodePointCount(s);
    if (width <= n) return Value::String(s);
    size_t pad = width - n, left = pad / 2 + (pad & width & 1);
    return Value::String(std::string(left, ' ') + s + std::string(pad - left, ' '));
  }
  if (name == "format") return FormatFilter(v, args);
  if (name == "int") return IntFilter(v, args);
  if (name == "float") return FloatFilter(v, args);
  if (name == "round") return RoundFilter(v, args);
  if (name == "abs") {
    if (v.kind() == Kind::kFloat) return Value::Float(std::fabs(v.number()));
    if (v.is_integral()) {
      if (v.integer() == INT64_MIN) throw Error("integer overflow");
      return Value::Int(v.integer() < 0 ? -v.integer() : v.integer());
    }
    throw Error("bad operand type for abs(): '" + TypeName(v) + "'");
  }
  if (name == "attr") {
    const Value* attr = args.Get(0, "name");
    if (attr == nullptr || !attr->is_string()) throw Error("attr() needs an attribute name");
    // Python getattr only: dict keys are not attributes (methods are).
    if (v.is_dict()) {
      Value m = GetMethod(v, attr->str());
      return m.kind() == Kind::kCallable ? m : Value::Undefined("'dict object' has no attribute '" + attr->str() + "'");
    }
    return interp.GetAttr(v, attr->str());
  }
  throw Error("no filter named '" + std::string(name) + "'");
}

}  // namespace ax::jinja
