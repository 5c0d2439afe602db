// Statements: output, control flow, assignment, macros and call blocks.
#include "tokenizer/jinja/interpreter.h"

#include <ctime>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"

namespace ax::jinja {

const Value* Frame::Lookup(std::string_view name) const {
  for (const Frame* f = this; f != nullptr; f = f->parent_.get()) {
    if (const Value* v = f->vars_.Find(name)) return v;
  }
  return nullptr;
}

namespace {

// A {% macro %} (or a call block's `caller`): renders its body with bound arguments.
class MacroFn : public Callable {
 public:
  MacroFn(const Stmt& def, const Body& body, const std::vector<Param>& params, FramePtr closure)
      : def_(def), body_(body), params_(params), closure_(std::move(closure)) {}
  Value Call(Interpreter& interp, const CallArgs& args) const override {
    return interp.CallMacro(def_, params_, body_, closure_, args);
  }
  std::string Name() const override { return "Macro '" + (def_.name.empty() ? "caller" : def_.name) + "'"; }

 private:
  const Stmt& def_;
  const Body& body_;
  const std::vector<Param>& params_;
  FramePtr closure_;
};

Value MakeLoop(size_t i, const ValueList& items) {
  size_t n = items.size();
  Dict loop;
  auto idx = static_cast<int64_t>(i);
  auto len = static_cast<int64_t>(n);
  loop.Set("index", Value::Int(idx + 1));
  loop.Set("index0", Value::Int(idx));
  loop.Set("revindex", Value::Int(len - idx));
  loop.Set("revindex0", Value::Int(len - idx - 1));
  loop.Set("first", Value::Bool(i == 0));
  loop.Set("last", Value::Bool(i + 1 == n));
  loop.Set("length", Value::Int(len));
  loop.Set("depth", Value::Int(1));
  loop.Set("depth0", Value::Int(0));
  loop.Set("previtem", i > 0 ? items[i - 1] : Value::Undefined("there is no previous item"));
  loop.Set("nextitem", i + 1 < n ? items[i + 1] : Value::Undefined("there is no next item"));
  class Cycle : public Callable {
   public:
    explicit Cycle(size_t index) : index_(index) {}
    Value Call(Interpreter&, const CallArgs& args) const override {
      if (args.positional.empty()) throw Error("no items for cycling given");
      return args.positional[index_ % args.positional.size()];
    }
    std::string Name() const override { return "built-in method cycle"; }

   private:
    size_t index_;
  };
  loop.Set("cycle", Value::Function(std::make_shared<Cycle>(i)));
  return Value::MakeDict(std::move(loop));
}

}  // namespace

RecursionGuard::RecursionGuard(Interpreter* in) : in_(in) {
  if (++in_->recursion_ > in_->limits_.max_recursion) {
    --in_->recursion_;
    throw Error("template nested too deeply to evaluate");
  }
}

RecursionGuard::~RecursionGuard() { --in_->recursion_; }

Interpreter::~Interpreter() {
  for (const FramePtr& f : macro_frames_) f->Clear();
}

void Interpreter::Step() {
  if (++steps_ > limits_.max_steps) throw Error("template rendering took too many steps");
}

void Interpreter::CheckSize(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    throw Error("rendered text exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

std::tm Interpreter::Now() const {
  if (now_) return *now_;
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

std::string Interpreter::Render(const Body& body, const FramePtr& context) {
  std::string out;
  Exec(body, context, &out);
  return out;
}

Interpreter::Flow Interpreter::Exec(const Body& body, const FramePtr& frame, std::string* out) {
  RecursionGuard guard(this);
  for (const StmtPtr& s : body) {
    Flow f;
    try {
      f = ExecStmt(*s, frame, out);
    } catch (Error& e) {
      if (!e.has_position()) e.set_position(s->line, s->column);
      throw;
    }
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::ExecStmt(const Stmt& s, const FramePtr& frame, std::string* out) {
  Step();
  switch (s.kind) {
    case StmtKind::kText:
      *out += s.text;
      CheckSize(out->size());
      return Flow::kNormal;
    case StmtKind::kOutput:
      *out += ToStr(Eval(*s.expr, frame));
      CheckSize(out->size());
      return Flow::kNormal;
    case StmtKind::kIf:
      for (const auto& [cond, body] : s.branches) {
        if (Eval(*cond, frame).Truthy()) return Exec(body, frame, out);
      }
      return Exec(s.else_body, frame, out);
    case StmtKind::kFor:
      return ExecFor(s, frame, out);
    case StmtKind::kSet:
      Assign(s.target, Eval(*s.expr, frame), frame);
      return Flow::kNormal;
    case StmtKind::kSetBlock: {
      std::string text;
      Exec(s.body, frame, &text);
      Value v = Value::String(std::move(text));
      if (s.cond) v = EvalFilter(*s.cond, frame, &v);
      Assign(s.target, v, frame);
      return Flow::kNormal;
    }
    case StmtKind::kMacro:
      macro_frames_.push_back(frame);
      frame->Set(s.name, Value::Function(std::make_shared<MacroFn>(s, s.body, s.params, frame)));
      return Flow::kNormal;
    case StmtKind::kCallBlock: {
      const Expr& call = *s.expr;
      Value fn = Eval(*call.a, frame);
      CallArgs args = EvalArgs(call.args, frame);
      auto caller = std::make_shared<MacroFn>(s, s.body, s.params, frame);
      args.keyword.emplace_back("caller", Value::Function(caller));
      *out += ToStr(Call(fn, args));
      CheckSize(out->size());
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      std::string text;
      Exec(s.body, frame, &text);
      Value v = Value::String(std::move(text));
      *out += ToStr(EvalFilter(*s.expr, frame, &v));
      CheckSize(out->size());
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      auto inner = std::make_shared<Frame>(frame);
      for (const auto& [target, expr] : s.assignments) Assign(target, Eval(*expr, frame), inner);
      return Exec(s.body, inner, out);
    }
    case StmtKind::kScope:
      return Exec(s.body, frame, out);
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::ExecFor(const Stmt& s, const FramePtr& frame, std::string* out) {
  ValueList items = Iterate(Eval(*s.expr, frame));
  if (s.cond) {
    ValueList kept;
    for (Value& item : items) {
      auto probe = std::make_shared<Frame>(frame);
      Assign(s.target, item, probe);
      if (Eval(*s.cond, probe).Truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    Step();
    auto iteration = std::make_shared<Frame>(frame);
    iteration->Set("loop", MakeLoop(i, items));
    Assign(s.target, items[i], iteration);
    if (Exec(s.body, iteration, out) == Flow::kBreak) break;
  }
  if (items.empty()) Exec(s.else_body, std::make_shared<Frame>(frame), out);
  return Flow::kNormal;
}

void Interpreter::Assign(const Target& target, const Value& value, const FramePtr& frame) {
  if (!target.ns_attr.empty()) {
    const Value* ns = frame->Lookup(target.names[0]);
    if (ns == nullptr || ns->kind() != Kind::kNamespace) throw Error("cannot assign attribute on non-namespace object");
    if (value.has_namespace()) throw Error("a namespace attribute cannot hold a namespace");
    if (value.depth() + 1 > kMaxValueDepth) throw Error("value nested too deeply");
    ns->mutable_namespace().Set(target.ns_attr, value);
    return;
  }
  if (!target.is_tuple) {
    frame->Set(target.names[0], value);
    return;
  }
  ValueList parts = Iterate(value);
  if (parts.size() != target.names.size()) {
    throw Error(parts.size() < target.names.size()
                    ? "not enough values to unpack (expected " + std::to_string(target.names.size()) + ", got " +
                          std::to_string(parts.size()) + ")"
                    : "too many values to unpack (expected " + std::to_string(target.names.size()) + ")");
  }
  for (size_t i = 0; i < parts.size(); ++i) frame->Set(target.names[i], parts[i]);
}

Value Interpreter::CallMacro(const Stmt& def, const std::vector<Param>& params, const Body& body,
                             const FramePtr& closure, const CallArgs& args) {
  if (depth_ >= limits_.max_call_depth) {
    throw Error("maximum macro recursion depth exceeded in '" + (def.name.empty() ? std::string("caller") : def.name) + "'");
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&(++depth_)};
  auto frame = std::make_shared<Frame>(closure);
  if (args.positional.size() > params.size()) {
    frame->Set("varargs", Value::Tuple(ValueList(args.positional.begin() + static_cast<long>(params.size()),
                                                 args.positional.end())));
  } else {
    frame->Set("varargs", Value::Tuple({}));
  }
  Dict extra_kwargs;
  for (const auto& [key, v] : args.keyword) {
    bool known = key == "caller";
    for (const Param& p : params) known = known || p.name == key;
    if (!known) extra_kwargs.Set(key, v);
  }
  frame->Set("kwargs", Value::MakeDict(std::move(extra_kwargs)));
  if (const Value* caller = args.Kw("caller")) frame->Set("caller", *caller);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value* given = args.Get(i, params[i].name);
    if (given != nullptr) {
      frame->Set(params[i].name, *given);
    } else if (params[i].default_value) {
      frame->Set(params[i].name, Eval(*params[i].default_value, frame));
    } else {
      frame->Set(params[i].name, Value::Undefined("parameter '" + params[i].name + "' was not provided"));
    }
  }
  std::string out;
  Exec(body, frame, &out);
  return Value::String(std::move(out));
}

}  // namespace ax::jinja
