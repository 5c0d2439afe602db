// Global functions: Jinja2's range/namespace/dict and transformers' raise_exception and
// strftime_now; also the int()/float() parsers the |int and |float filters use.
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

using Fn = Value (*)(Interpreter&, const CallArgs&);

class Builtin : public Callable {
 public:
  Builtin(const char* name, Fn fn) : name_(name), fn_(fn) {}
  Value Call(Interpreter& interp, const CallArgs& args) const override { return fn_(interp, args); }
  std::string Name() const override { return std::string("built-in function ") + name_; }

 private:
  const char* name_;
  Fn fn_;
};

Value Range(Interpreter&, const CallArgs& args) {
  if (args.positional.empty() || args.positional.size() > 3) throw Error("range expected 1 to 3 arguments");
  for (const Value& v : args.positional) {
    if (!v.is_integral()) throw Error("'" + TypeName(v) + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (args.positional.size() == 1) {
    stop = args.positional[0].integer();
  } else {
    start = args.positional[0].integer();
    stop = args.positional[1].integer();
    if (args.positional.size() == 3) step = args.positional[2].integer();
  }
  if (step == 0) throw Error("range() arg 3 must not be zero");
  ValueList out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(out.size()) >= kMaxRange) {
      throw Error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    }
    out.push_back(Value::Int(i));
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  return Value::List(std::move(out));
}

// dict(mapping or pairs, **kwargs) -> Dict (shared by namespace() and dict()).
Dict BuildDict(Interpreter& interp, const CallArgs& args, const char* fn) {
  Dict d;
  if (args.positional.size() > 1) throw Error(std::string(fn) + " expected at most 1 argument");
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict() || src.kind() == Kind::kNamespace) {
      d = src.dict();
    } else {
      for (const Value& pair : interp.Iterate(src)) {
        ValueList kv = interp.Iterate(pair);
        if (kv.size() != 2 || !kv[0].is_string()) throw Error(std::string(fn) + ": expected (str, value) pairs");
        d.Set(kv[0].str(), kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.keyword) d.Set(k, v);
  return d;
}

Value Namespace(Interpreter& interp, const CallArgs& args) { return Value::MakeNamespace(BuildDict(interp, args, "namespace")); }
Value DictFn(Interpreter& interp, const CallArgs& args) { return Value::MakeDict(BuildDict(interp, args, "dict")); }

Value RaiseException(Interpreter&, const CallArgs& args) {
  std::string message = args.positional.empty() ? std::string() : ToStr(args.positional[0]);
  throw Error(message, ErrorKind::kRaised);
}

Value StrftimeNow(Interpreter& interp, const CallArgs& args) {
  if (args.positional.empty() || !args.positional[0].is_string()) throw Error("strftime_now() needs a format string");
  std::tm tm = interp.Now();
  std::ostringstream os;
  os.imbue(std::locale::classic());
  os << std::put_time(&tm, args.positional[0].str().c_str());
  return Value::String(os.str());
}

// Removes Python's digit-group underscores ("1_000"); false if one is misplaced.
bool StripUnderscores(std::string* s) {
  std::string out;
  for (size_t i = 0; i < s->size(); ++i) {
    char c = (*s)[i];
    if (c == '_') {
      bool ok = i > 0 && i + 1 < s->size() && std::isalnum(static_cast<unsigned char>((*s)[i - 1])) &&
                std::isalnum(static_cast<unsigned char>((*s)[i + 1]));
      if (!ok) return false;
      continue;
    }
    out += c;
  }
  *s = out;
  return true;
}

}  // namespace

void InstallGlobals(Frame* globals) {
  static const std::pair<const char*, Fn> kGlobals[] = {
      {"range", Range}, {"namespace", Namespace}, {"dict", DictFn},
      {"raise_exception", RaiseException}, {"strftime_now", StrftimeNow}};
  for (const auto& [name, fn] : kGlobals) globals->Set(name, Value::Function(std::make_shared<Builtin>(name, fn)));
}

bool ParseIntLiteral(std::string_view text, int base, int64_t* out) {
  std::string s = PyStrip(text, nullptr, true, true);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.erase(0, 1);
  }
  if (s.size() > 2 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    int prefix_base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefix_base != 0 && (base == 0 || base == prefix_base)) {
      base = prefix_base;
      s.erase(0, 2);
      if (!s.empty() && s[0] == '_') s.erase(0, 1);
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36 || s.empty() || !StripUnderscores(&s)) return false;
  for (char c : s) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                          : 99;
    if (d >= base) return false;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, base);
  if (errno == ERANGE || *end != '\0') return false;
  *out = neg ? -v : v;
  return true;
}

bool ParseFloatLiteral(std::string_view text, double* out) {
  std::string s = PyStrip(text, nullptr, true, true);
  if (s.empty() || !StripUnderscores(&s)) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-')) return false;
  }
  if (s.find('x') != std::string::npos || s.find('X') != std::string::npos) return false;  // no hex floats
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return *end == '\0';
}

}  // namespace ax::jinja
