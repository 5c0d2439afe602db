// Tree-walking evaluator. Scoping follows Jinja2:
//   - the template body runs in the globals frame's child (the context);
//   - each for-loop iteration gets a fresh frame (a `set` inside a loop never leaks out,
//     and a variable set in one iteration is not seen by the next);
//   - `if` blocks share their enclosing frame;
//   - a macro call gets a frame whose parent is the frame the macro was defined in, so
//     it sees outer variables as they are when it is called.
// Only namespaces are mutable across frames (`set ns.x = ...`).
//
// Thread-safety: an Interpreter renders one template once; Templates are immutable and
// may be rendered from many threads, each with its own Interpreter.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace ax::jinja {

class Frame {
 public:
  explicit Frame(std::shared_ptr<Frame> parent = nullptr) : parent_(std::move(parent)) {}
  const Value* Lookup(std::string_view name) const;
  void Set(const std::string& name, Value v) { vars_.Set(name, std::move(v)); }
  // Drops the variables (breaks frame <-> macro reference cycles after a render).
  void Clear() { vars_ = Dict(); }

 private:
  Dict vars_;
  std::shared_ptr<Frame> parent_;
};
using FramePtr = std::shared_ptr<Frame>;

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;  // any string the template builds
  int max_call_depth = 100;                    // nested macro calls
  int max_recursion = 3000;                    // nested statements + expressions being evaluated
  int64_t max_steps = 20'000'000;              // statements + loop iterations
};

class Interpreter {
 public:
  // `now` replaces the local clock for strftime_now() (tests pin it).
  Interpreter(const RenderLimits& limits, std::optional<std::tm> now) : limits_(limits), now_(now) {}
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  std::string Render(const Body& body, const FramePtr& context);

  Value Eval(const Expr& e, const FramePtr& frame);
  Value Call(const Value& fn, const CallArgs& args);
  // Jinja2's environment.getattr (x.name) and getitem (x[key]) with sandbox rules.
  Value GetAttr(const Value& obj, const std::string& name);
  Value GetItem(const Value& obj, const Value& key);
  // What `for x in v` iterates: list items, dict keys, string characters.
  ValueList Iterate(const Value& v);
  // Python's `item in container`.
  bool Contains(const Value& container, const Value& item);
  // Throws when a string would exceed the output limit.
  void CheckSize(size_t bytes) const;
  std::tm Now() const;

  // Calls a macro definition (used by the macro and caller callables).
  Value CallMacro(const Stmt& def, const std::vector<Param>& params, const Body& body, const FramePtr& closure,
                  const CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  Flow Exec(const Body& body, const FramePtr& frame, std::string* out);
  Flow ExecStmt(const Stmt& s, const FramePtr& frame, std::string* out);
  Flow ExecFor(const Stmt& s, const FramePtr& frame, std::string* out);
  void Assign(const Target& target, const Value& value, const FramePtr& frame);
  void Step();

  Value EvalBinary(const Expr& e, const FramePtr& frame);
  Value EvalCompare(const Expr& e, const FramePtr& frame);
  Value EvalCall(const Expr& e, const FramePtr& frame);
  Value EvalFilter(const Expr& e, const FramePtr& frame, const Value* block_operand);
  Value EvalSlice(const Expr& e, const FramePtr& frame);
  CallArgs EvalArgs(const CallArgsExpr& args, const FramePtr& frame);

  RenderLimits limits_;
  std::optional<std::tm> now_;
  // Frames that hold macros: a macro holds its defining frame, so they form cycles
  // that the destructor breaks.
  std::vector<FramePtr> macro_frames_;
  int depth_ = 0;
  int recursion_ = 0;
  int64_t steps_ = 0;

  friend class RecursionGuard;
};

// Bounds the native stack the evaluator uses: Exec and Eval hold one while they run.
class RecursionGuard {
 public:
  explicit RecursionGuard(Interpreter* in);
  ~RecursionGuard();
  RecursionGuard(const RecursionGuard&) = delete;
  RecursionGuard& operator=(const RecursionGuard&) = delete;

 private:
  Interpreter* in_;
};

// Python's binary operators (+ - * / // % **), throwing Error like TypeError.
Value BinaryOp(const std::string& op, const Value& a, const Value& b, const Interpreter& interp);

}  // namespace ax::jinja
