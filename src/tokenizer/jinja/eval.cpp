// Expressions: names, literals, attribute/item access with Jinja2's undefined rules,
// calls, filters, tests, comparisons and slicing.
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

Value NoAttribute(const Value& obj, const std::string& name) {
  return Value::Undefined(Quote(ObjectDesc(obj)) + " has no attribute " + Quote(name));
}

// Python's slice.indices(): clamps start/stop for a sequence of length n.
void AdjustSlice(int64_t n, const Value& start_v, const Value& stop_v, int64_t step, int64_t* start, int64_t* stop) {
  auto clamp = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t x = v.integer();
    if (x < 0) {
      x += n;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  *start = clamp(start_v, step < 0 ? n - 1 : 0);
  *stop = clamp(stop_v, step < 0 ? -1 : n);
}

}  // namespace

Value Interpreter::Eval(const Expr& e, const FramePtr& frame) {
  RecursionGuard guard(this);
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kName: {
      const Value* v = frame->Lookup(e.name);
      return v != nullptr ? *v : Value::Undefined(Quote(e.name) + " is undefined");
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      ValueList items;
      items.reserve(e.items.size());
      for (const ExprPtr& item : e.items) items.push_back(Eval(*item, frame));
      return e.kind == ExprKind::kList ? Value::List(std::move(items)) : Value::Tuple(std::move(items));
    }
    case ExprKind::kDict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value key = Eval(*e.items[i], frame);
        if (!key.is_string()) throw Error("dict literal keys must be strings here, got " + TypeName(key));
        d.Set(key.str(), Eval(*e.items[i + 1], frame));
      }
      return Value::MakeDict(std::move(d));
    }
    case ExprKind::kGetAttr:
      return GetAttr(Eval(*e.a, frame), e.name);
    case ExprKind::kGetItem:
      return GetItem(Eval(*e.a, frame), Eval(*e.b, frame));
    case ExprKind::kSlice:
      return EvalSlice(e, frame);
    case ExprKind::kCall:
      return EvalCall(e, frame);
    case ExprKind::kFilter:
      return EvalFilter(e, frame, nullptr);
    case ExprKind::kTest: {
      Value v = Eval(*e.a, frame);
      return Value::Bool(ApplyTest(*this, e.name, v, EvalArgs(e.args, frame)));
    }
    case ExprKind::kUnary: {
      Value v = Eval(*e.a, frame);
      if (e.name == "not") return Value::Bool(!v.Truthy());
      if (v.is_undefined()) throw Error(v.undefined_hint());
      if (v.kind() == Kind::kFloat) return Value::Float(e.name == "-" ? -v.number() : v.number());
      if (v.is_integral()) {
        if (e.name == "+") return Value::Int(v.integer());
        if (v.integer() == INT64_MIN) throw Error("integer overflow");
        return Value::Int(-v.integer());
      }
      throw Error("bad operand type for unary " + e.name + ": " + Quote(TypeName(v)));
    }
    case ExprKind::kBinary:
      return EvalBinary(e, frame);
    case ExprKind::kCompare:
      return EvalCompare(e, frame);
    case ExprKind::kCondExpr:
      if (Eval(*e.b, frame).Truthy()) return Eval(*e.a, frame);
      if (e.c) return Eval(*e.c, frame);
      return Value::Undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
  }
  return Value();
}

Value Interpreter::EvalBinary(const Expr& e, const FramePtr& frame) {
  Value a = Eval(*e.a, frame);
  if (e.name == "and") return a.Truthy() ? Eval(*e.b, frame) : a;
  if (e.name == "or") return a.Truthy() ? a : Eval(*e.b, frame);
  Value b = Eval(*e.b, frame);
  if (e.name == "~") {
    std::string s = ToStr(a);
    s += ToStr(b);
    CheckSize(s.size());
    return Value::String(std::move(s));
  }
  return BinaryOp(e.name, a, b, *this);
}

Value Interpreter::EvalCompare(const Expr& e, const FramePtr& frame) {
  Value left = Eval(*e.a, frame);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = Eval(*e.items[i], frame);
    const std::string& op = e.ops[i];
    bool ok;
    if (op == "==") {
      ok = Equals(left, right);
    } else if (op == "!=") {
      ok = !Equals(left, right);
    } else if (op == "in") {
      ok = Contains(right, left);
    } else if (op == "not in") {
      ok = !Contains(right, left);
    } else {
      int c = Compare(left, right);
      ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!ok) return Value::Bool(false);
    left = std::move(right);
  }
  return Value::Bool(true);
}

CallArgs Interpreter::EvalArgs(const CallArgsExpr& args, const FramePtr& frame) {
  CallArgs out;
  for (const ExprPtr& p : args.positional) out.positional.push_back(Eval(*p, frame));
  if (args.star) {
    for (Value& v : Iterate(Eval(*args.star, frame))) out.positional.push_back(std::move(v));
  }
  for (const auto& [key, expr] : args.keyword) out.keyword.emplace_back(key, Eval(*expr, frame));
  if (args.double_star) {
    Value kw = Eval(*args.double_star, frame);
    if (!kw.is_dict()) throw Error("argument after ** must be a mapping, not " + TypeName(kw));
    for (const auto& [k, v] : kw.dict().items()) out.keyword.emplace_back(k, v);
  }
  return out;
}

Value Interpreter::EvalCall(const Expr& e, const FramePtr& frame) {
  Value fn = Eval(*e.a, frame);
  return Call(fn, EvalArgs(e.args, frame));
}

Value Interpreter::Call(const Value& fn, const CallArgs& args) {
  if (fn.kind() == Kind::kCallable) return fn.callable().Call(*this, args);
  if (fn.is_undefined()) throw Error(fn.undefined_hint());
  throw Error(Quote(TypeName(fn)) + " object is not callable");
}

Value Interpreter::EvalFilter(const Expr& e, const FramePtr& frame, const Value* block_operand) {
  Value operand;
  if (!e.a) {
    operand = *block_operand;
  } else if (e.a->kind == ExprKind::kFilter && block_operand != nullptr) {
    operand = EvalFilter(*e.a, frame, block_operand);
  } else {
    operand = Eval(*e.a, frame);
  }
  return ApplyFilter(*this, e.name, operand, EvalArgs(e.args, frame));
}

Value Interpreter::EvalSlice(const Expr& e, const FramePtr& frame) {
  Value obj = Eval(*e.a, frame);
  Value bounds[3];
  for (int i = 0; i < 3; ++i) {
    bounds[i] = e.items[static_cast<size_t>(i)] ? Eval(*e.items[static_cast<size_t>(i)], frame) : Value::None();
    if (!bounds[i].is_none() && !bounds[i].is_integral()) return Value::Undefined("slice indices must be integers or None");
  }
  if (obj.is_undefined()) throw Error(obj.undefined_hint());
  int64_t step = bounds[2].is_none() ? 1 : bounds[2].integer();
  if (step == 0) throw Error("slice step cannot be zero");
  auto pick = [&](int64_t n, auto&& emit) {
    int64_t start, stop;
    AdjustSlice(n, bounds[0], bounds[1], step, &start, &stop);
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) emit(static_cast<size_t>(i));
  };
  if (obj.is_list()) {
    ValueList out;
    pick(static_cast<int64_t>(obj.list().size()), [&](size_t i) { out.push_back(obj.list()[i]); });
    return obj.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
  }
  if (obj.is_string()) {
    std::vector<size_t> off = CodePointOffsets(obj.str());
    std::string out;
    pick(static_cast<int64_t>(off.size() - 1), [&](size_t i) { out.append(obj.str(), off[i], off[i + 1] - off[i]); });
    return Value::String(std::move(out));
  }
  return Value::Undefined(Quote(ObjectDesc(obj)) + " is not subscriptable");
}

Value Interpreter::GetAttr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      throw Error(obj.undefined_hint());
    case Kind::kDict:
      if (IsDictMethodName(name)) {
        Value m = GetMethod(obj, name);
        return m.is_undefined() ? Value::Undefined("dict method " + Quote(name) + " is not supported") : m;
      }
      if (const Value* v = obj.dict().Find(name)) return *v;
      return NoAttribute(obj, name);
    case Kind::kNamespace:
      if (const Value* v = obj.dict().Find(name)) return *v;
      return NoAttribute(obj, name);
    case Kind::kString:
    case Kind::kList: {
      Value m = GetMethod(obj, name);
      return m.is_undefined() && !m.has_undefined_hint() ? NoAttribute(obj, name) : m;
    }
    case Kind::kNone:
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
    case Kind::kCallable:
      return NoAttribute(obj, name);
  }
  return NoAttribute(obj, name);
}

Value Interpreter::GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw Error(obj.undefined_hint());
  if (key.is_string() && (obj.is_dict() || obj.kind() == Kind::kNamespace)) {
    if (const Value* v = obj.dict().Find(key.str())) return *v;
    return GetAttr(obj, key.str());
  }
  if (key.is_string() && (obj.is_list() || obj.is_string())) return GetAttr(obj, key.str());
  if (key.is_integral() && (obj.is_list() || obj.is_string())) {
    int64_t i = key.integer();
    if (obj.is_list()) {
      auto n = static_cast<int64_t>(obj.list().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.list()[static_cast<size_t>(i)];
    } else {
      std::vector<size_t> off = CodePointOffsets(obj.str());
      auto n = static_cast<int64_t>(off.size()) - 1;
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        auto k = static_cast<size_t>(i);
        return Value::String(obj.str().substr(off[k], off[k + 1] - off[k]));
      }
    }
  }
  return Value::Undefined(ObjectDesc(obj) + " has no element " + Repr(key));
}

ValueList Interpreter::Iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return {};
    case Kind::kList:
      return v.list();
    case Kind::kDict: {
      ValueList keys;
      for (const auto& item : v.dict().items()) keys.push_back(Value::String(item.first));
      return keys;
    }
    case Kind::kString: {
      ValueList chars;
      std::vector<size_t> off = CodePointOffsets(v.str());
      for (size_t k = 0; k + 1 < off.size(); ++k) chars.push_back(Value::String(v.str().substr(off[k], off[k + 1] - off[k])));
      return chars;
    }
    case Kind::kNone:
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
    case Kind::kNamespace:
    case Kind::kCallable:
      break;
  }
  throw Error(Quote(TypeName(v)) + " object is not iterable");
}

bool Interpreter::Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) throw Error("'in <string>' requires string as left operand, not " + TypeName(item));
      return container.str().find(item.str()) != std::string::npos;
    case Kind::kList:
      for (const Value& v : container.list()) {
        if (Equals(v, item)) return true;
      }
      return false;
    case Kind::kDict:
      return item.is_string() && container.dict().Find(item.str()) != nullptr;
    case Kind::kNone:
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
    case Kind::kNamespace:
    case Kind::kCallable:
      break;
  }
  throw Error("argument of type " + Quote(TypeName(container)) + " is not iterable");
}

}  // namespace ax::jinja
