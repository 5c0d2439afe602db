// Methods templates call on values: str (startswith, split, strip, ...), dict (items,
// keys, values, get) and list (index, count). Mutating methods (list.append, dict.pop)
// are refused, as in transformers' ImmutableSandboxedEnvironment.
#include <unicode/uchar.h>

#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

constexpr std::string_view kStrMethods[] = {
    "upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
    "startswith", "endswith", "replace", "find", "rfind", "count", "join", "format", "isdigit", "isalpha",
    "isalnum", "isspace", "islower", "isupper", "index", "rindex"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get"};
constexpr std::string_view kDictAttrs[] = {"clear", "copy", "fromkeys", "get", "items", "keys",
                                           "pop", "popitem", "setdefault", "update", "values"};
constexpr std::string_view kListMutators[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};

template <size_t N>
bool In(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

const std::string* OptString(const CallArgs& args, size_t i, std::string_view name, std::string* storage) {
  const Value* v = args.Get(i, name);
  if (v == nullptr || v->is_none()) return nullptr;
  if (!v->is_string()) throw Error(std::string(name) + " must be str or None, not " + TypeName(*v));
  *storage = v->str();
  return storage;
}

long OptInt(const CallArgs& args, size_t i, std::string_view name, long dflt) {
  const Value* v = args.Get(i, name);
  if (v == nullptr || v->is_none()) return dflt;
  if (!v->is_integral()) throw Error(std::string(name) + " must be an integer");
  return static_cast<long>(v->integer());
}

const std::string& StrArg(const CallArgs& args, size_t i, std::string_view method) {
  if (i >= args.positional.size() || !args.positional[i].is_string()) {
    throw Error(std::string(method) + "() argument must be str");
  }
  return args.positional[i].str();
}

Value StrList(const std::vector<std::string>& parts) {
  ValueList out;
  for (const std::string& p : parts) out.push_back(Value::String(p));
  return Value::List(std::move(out));
}

bool AllChars(const std::string& s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  size_t i = 0;
  while (i < s.size()) {
    if (!pred(DecodeUtf8(s, &i))) return false;
  }
  return true;
}

bool IsDigitChar(char32_t c) { return u_isdigit(static_cast<UChar32>(c)) != 0; }
bool IsAlphaChar(char32_t c) { return u_isalpha(static_cast<UChar32>(c)) != 0; }
bool IsAlnumChar(char32_t c) { return IsAlphaChar(c) || IsDigitChar(c) || u_getNumericValue(static_cast<UChar32>(c)) != U_NO_NUMERIC_VALUE; }

// Code-point index of a byte offset.
int64_t CharIndex(const std::string& s, size_t byte) { return static_cast<int64_t>(CodePointCount(std::string_view(s).substr(0, byte))); }

// str.format with {} / {0} / {name} fields and {{ }} escapes (no format specs).
std::string StrFormat(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}' ) {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else throw Error("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string::npos) throw Error("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    bool repr = false;
    if (field.size() >= 2 && field[field.size() - 2] == '!') {
      repr = field.back() == 'r';
      field.resize(field.size() - 2);
    }
    if (field.find(':') != std::string::npos) throw Error("format specs in str.format are not supported");
    const Value* v = nullptr;
    if (field.empty()) {
      v = auto_index < args.positional.size() ? &args.positional[auto_index++] : nullptr;
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      size_t k = static_cast<size_t>(std::atol(field.c_str()));
      v = k < args.positional.size() ? &args.positional[k] : nullptr;
    } else {
      v = args.Kw(field);
    }
    if (v == nullptr) throw Error("Replacement index " + field + " out of range for positional args tuple");
    out += repr ? Repr(*v) : ToStr(*v);
  }
  return out;
}

bool PrefixMatch(const std::string& s, const Value& prefix, bool at_end) {
  auto one = [&](const Value& p) {
    if (!p.is_string()) throw Error(std::string(at_end ? "endswith" : "startswith") + " first arg must be str or a tuple of str");
    const std::string& x = p.str();
    if (x.size() > s.size()) return false;
    return at_end ? s.compare(s.size() - x.size(), x.size(), x) == 0 : s.compare(0, x.size(), x) == 0;
  };
  if (prefix.is_list()) return std::any_of(prefix.list().begin(), prefix.list().end(), one);
  return one(prefix);
}

Value CallStrMethod(Interpreter& interp, const std::string& s, const std::string& name, const CallArgs& args) {
  std::string storage;
  if (name == "upper") return Value::String(PyUpper(s));
  if (name == "lower") return Value::String(PyLower(s));
  if (name == "title") return Value::String(PyTitle(s));
  if (name == "capitalize") return Value::String(PyCapitalize(s));
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const std::string* chars = OptString(args, 0, "chars", &storage);
    return Value::String(PyStrip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    const std::string* sep = OptString(args, 0, "sep", &storage);
    long maxsplit = OptInt(args, 1, "maxsplit", -1);
    return StrList(name == "split" ? PySplit(s, sep, maxsplit) : PyRSplit(s, sep, maxsplit));
  }
  if (name == "splitlines") return StrList(PySplitLines(s));
  if (name == "startswith" || name == "endswith") {
    if (args.positional.empty()) throw Error(name + "() takes at least 1 argument (0 given)");
    return Value::Bool(PrefixMatch(s, args.positional[0], name == "endswith"));
  }
  if (name == "replace") {
    std::string r = PyReplace(s, StrArg(args, 0, name), StrArg(args, 1, name), OptInt(args, 2, "count", -1));
    interp.CheckSize(r.size());
    return Value::String(std::move(r));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    const std::string& sub = StrArg(args, 0, name);
    size_t at = name == "find" || name == "index" ? s.find(sub) : s.rfind(sub);
    if (at == std::string::npos && (name == "index" || name == "rindex")) throw Error("substring not found");
    return Value::Int(at == std::string::npos ? -1 : CharIndex(s, at));
  }
  if (name == "count") {
    const std::string& sub = StrArg(args, 0, name);
    if (sub.empty()) return Value::Int(static_cast<int64_t>(CodePointCount(s)) + 1);
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
    return Value::Int(n);
  }
  if (name == "join") {
    if (args.positional.empty()) throw Error("join() takes exactly one argument (0 given)");
    std::string out;
    bool first = true;
    for (const Value& item : interp.Iterate(args.positional[0])) {
      if (!item.is_string()) throw Error("sequence item: expected str instance, " + TypeName(item) + " found");
      if (!first) out += s;
      first = false;
      out += item.str();
      interp.CheckSize(out.size());
    }
    return Value::String(std::move(out));
  }
  if (name == "format") return Value::String(StrFormat(s, args));
  if (name == "isdigit") return Value::Bool(AllChars(s, IsDigitChar));
  if (name == "isalpha") return Value::Bool(AllChars(s, IsAlphaChar));
  if (name == "isalnum") return Value::Bool(AllChars(s, IsAlnumChar));
  if (name == "isspace") return Value::Bool(AllChars(s, IsPyWhitespace));
  if (name == "islower") return Value::Bool(PyLower(s) == s && PyUpper(s) != s);
  if (name == "isupper") return Value::Bool(PyUpper(s) == s && PyLower(s) != s);
  throw Error("'str' object has no attribute '" + name + "'");
}

Value CallDictMethod(const Dict& d, const std::string& name, const CallArgs& args) {
  if (name == "items" || name == "keys" || name == "values") {
    ValueList out;
    for (const auto& [k, v] : d.items()) {
      out.push_back(name == "items" ? Value::Tuple({Value::String(k), v}) : name == "keys" ? Value::String(k) : v);
    }
    return Value::List(std::move(out));
  }
  // get(key, default=None)
  if (args.positional.empty()) throw Error("get expected at least 1 argument, got 0");
  const Value* dflt = args.Get(1, "default");
  const Value& key = args.positional[0];
  if (key.is_string()) {
    if (const Value* v = d.Find(key.str())) return *v;
  }
  return dflt != nullptr ? *dflt : Value::None();
}

Value CallListMethod(const ValueList& items, const std::string& name, const CallArgs& args) {
  if (args.positional.empty()) throw Error(name + "() takes exactly one argument (0 given)");
  const Value& x = args.positional[0];
  if (name == "count") {
    return Value::Int(static_cast<int64_t>(std::count_if(items.begin(), items.end(), [&](const Value& v) { return Equals(v, x); })));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (Equals(items[i], x)) return Value::Int(static_cast<int64_t>(i));
  }
  throw Error(Repr(x) + " is not in list");
}

class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  Value Call(Interpreter& interp, const CallArgs& args) const override {
    if (self_.is_string()) return CallStrMethod(interp, self_.str(), name_, args);
    if (self_.is_dict()) return CallDictMethod(self_.dict(), name_, args);
    return CallListMethod(self_.list(), name_, args);
  }
  std::string Name() const override { return "built-in method " + name_ + " of " + TypeName(self_) + " object"; }

 private:
  Value self_;
  std::string name_;
};

}  // namespace

bool IsDictMethodName(std::string_view name) { return In(kDictAttrs, name); }

Value GetMethod(const Value& obj, const std::string& name) {
  bool ok = (obj.is_string() && In(kStrMethods, name)) || (obj.is_dict() && In(kDictMethods, name)) ||
            (obj.is_list() && (name == "index" || name == "count"));
  if (ok) return Value::Function(std::make_shared<BoundMethod>(obj, name));
  if (obj.is_list() && In(kListMutators, name)) {
    return Value::Undefined("access to attribute '" + name + "' of '" + TypeName(obj) + "' object is unsafe.");
  }
  return Value::Undefined();
}

}  // namespace ax::jinja
