// Python's arithmetic operators and printf-style "%" formatting on template values.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

[[noreturn]] void Unsupported(const std::string& op, const Value& a, const Value& b) {
  if (op == "+" && (a.is_string() || a.is_list())) {
    throw Error("can only concatenate " + TypeName(a) + " (not \"" + TypeName(b) + "\") to " + TypeName(a));
  }
  throw Error("unsupported operand type(s) for " + op + ": '" + TypeName(a) + "' and '" + TypeName(b) + "'");
}

// Runs a __builtin_*_overflow op and returns its result, throwing on overflow.
template <typename Op>
int64_t Checked(Op op, int64_t a, int64_t b) {
  int64_t r = 0;
  if (op(a, b, &r)) throw Error("integer overflow");
  return r;
}
bool AddOv(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool SubOv(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool MulOv(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

Value IntArith(const std::string& op, int64_t a, int64_t b) {
  if (op == "+") return Value::Int(Checked(AddOv, a, b));
  if (op == "-") return Value::Int(Checked(SubOv, a, b));
  if (op == "*") return Value::Int(Checked(MulOv, a, b));
  if (op == "/") {
    if (b == 0) throw Error("division by zero");
    return Value::Float(static_cast<double>(a) / static_cast<double>(b));
  }
  if (op == "//" || op == "%") {
    if (b == 0) throw Error(op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
    if (a == INT64_MIN && b == -1) {
      if (op == "%") return Value::Int(0);
      throw Error("integer overflow");
    }
    int64_t q = a / b, m = a % b;
    if (m != 0 && ((m < 0) != (b < 0))) {
      q -= 1;
      m += b;
    }
    return Value::Int(op == "//" ? q : m);
  }
  // "**"
  if (b < 0) {
    if (a == 0) throw Error("0.0 cannot be raised to a negative power");
    return Value::Float(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
  int64_t result = 1, base = a;
  while (b > 0) {
    if (b & 1) result = Checked(MulOv, result, base);
    b >>= 1;
    if (b > 0) base = Checked(MulOv, base, base);
  }
  return Value::Int(result);
}

Value FloatArith(const std::string& op, double a, double b) {
  if (op == "+") return Value::Float(a + b);
  if (op == "-") return Value::Float(a - b);
  if (op == "*") return Value::Float(a * b);
  if (op == "/") {
    if (b == 0) throw Error("float division by zero");
    return Value::Float(a / b);
  }
  if (op == "//" || op == "%") {
    if (b == 0) throw Error(op == "//" ? "float floor division by zero" : "float modulo");
    // CPython's float_divmod.
    double mod = std::fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0) {
      if ((b < 0) != (mod < 0)) {
        mod += b;
        div -= 1.0;
      }
    } else {
      mod = std::copysign(0.0, b);
    }
    double floordiv;
    if (div != 0) {
      floordiv = std::floor(div);
      if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
      floordiv = std::copysign(0.0, a / b);
    }
    return Value::Float(op == "//" ? floordiv : mod);
  }
  if (a == 0 && b < 0) throw Error("0.0 cannot be raised to a negative power");
  double r = std::pow(a, b);
  if (std::isnan(r) && !std::isnan(a) && !std::isnan(b)) throw Error("complex results are not supported");
  return Value::Float(r);
}

Value Repeat(const Value& seq, int64_t n, const Interpreter& interp) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    interp.CheckSize(seq.str().size() * static_cast<size_t>(n));
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::String(std::move(out));
  }
  interp.CheckSize(seq.list().size() * static_cast<size_t>(n) * sizeof(Value));
  ValueList out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
  return seq.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

}  // namespace

Value BinaryOp(const std::string& op, const Value& a, const Value& b, const Interpreter& interp) {
  if (a.is_undefined()) throw Error(a.undefined_hint());
  if (b.is_undefined()) throw Error(b.undefined_hint());
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::kFloat || b.kind() == Kind::kFloat) return FloatArith(op, a.number(), b.number());
    return IntArith(op, a.integer(), b.integer());
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      interp.CheckSize(a.str().size() + b.str().size());
      return Value::String(a.str() + b.str());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      ValueList out = a.list();
      out.insert(out.end(), b.list().begin(), b.list().end());
      return a.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
    }
  } else if (op == "*") {
    if ((a.is_string() || a.is_list()) && b.is_integral()) return Repeat(a, b.integer(), interp);
    if (a.is_integral() && (b.is_string() || b.is_list())) return Repeat(b, a.integer(), interp);
  } else if (op == "%" && a.is_string()) {
    std::string s = PercentFormat(a.str(), b);
    interp.CheckSize(s.size());
    return Value::String(std::move(s));
  }
  Unsupported(op, a, b);
}

std::string PercentFormat(const std::string& fmt, const Value& args) {
  ValueList positional = args.is_list() && args.is_tuple() ? args.list() : ValueList{args};
  const Dict* mapping = args.is_dict() ? &args.dict() : nullptr;
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) throw Error("incomplete format");
    const Value* arg = nullptr;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos || mapping == nullptr) throw Error("format requires a mapping");
      arg = mapping->Find(fmt.substr(i + 1, close - i - 1));
      if (arg == nullptr) throw Error("KeyError: '" + fmt.substr(i + 1, close - i - 1) + "'");
      i = close + 1;
    }
    std::string spec = "%";
    while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos) spec += fmt[i++];
    while (i < fmt.size() && ((fmt[i] >= '0' && fmt[i] <= '9') || fmt[i] == '.')) spec += fmt[i++];
    if (i >= fmt.size()) throw Error("incomplete format");
    if (spec.size() > 8) throw Error("format specification too long");
    char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (arg == nullptr) {
      if (next >= positional.size()) throw Error("not enough arguments for format string");
      arg = &positional[next++];
    }
    char buf[512];
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conv == 's' ? ToStr(*arg) : Repr(*arg);
        size_t k = 1;
        bool left = false;
        while (k < spec.size() && std::string("-+ #0").find(spec[k]) != std::string::npos) left |= spec[k++] == '-';
        size_t width = static_cast<size_t>(std::atol(spec.c_str() + k));
        size_t dot = spec.find('.');
        if (dot != std::string::npos) {
          std::vector<size_t> off = CodePointOffsets(s);
          size_t prec = static_cast<size_t>(std::atol(spec.c_str() + dot + 1));
          if (prec + 1 < off.size()) s.resize(off[prec]);
        }
        size_t n = CodePointCount(s);
        std::string pad = width > n ? std::string(width - n, ' ') : std::string();
        out += left ? s + pad : pad + s;
        break;
      }
      case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'c':
        if (!arg->is_number()) throw Error("%" + std::string(1, conv) + " format: a number is required, not " + TypeName(*arg));
        if (conv == 'c') {
          out += static_cast<char>(arg->is_integral() ? arg->integer() : 0);
        } else {
          int64_t v = arg->is_integral() ? arg->integer() : static_cast<int64_t>(arg->number());
          std::snprintf(buf, sizeof(buf), (spec + "ll" + (conv == 'i' || conv == 'u' ? 'd' : conv)).c_str(),
                        static_cast<long long>(v));
          out += buf;
        }
        break;
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
        if (!arg->is_number()) throw Error("must be real number, not " + TypeName(*arg));
        std::snprintf(buf, sizeof(buf), (spec + conv).c_str(), arg->number());
        out += buf;
        break;
      default:
        throw Error(std::string("unsupported format character '") + conv + "'");
    }
  }
  if (mapping == nullptr && next < positional.size()) throw Error("not all arguments converted during string formatting");
  return out;
}

}  // namespace ax::jinja
