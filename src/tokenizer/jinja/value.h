// The evaluator's value type: what a Jinja expression evaluates to. The semantics are
// Python's (Jinja2 is the reference, run by transformers' apply_chat_template):
// truthiness, ==, ordering, str() and repr() follow CPython so rendered prompts match.
//
//   kind        Python analogue         notes
//   kUndefined  jinja2.Undefined        renders "", iterates empty; carries a hint for errors
//   kNone       None                    renders "None"
//   kBool/kInt  bool/int (int64 here)   bool is a number, as in Python (True + 1 == 2)
//   kFloat      float                   printed like repr(float)
//   kString     str (UTF-8 bytes)       lengths and indices count code points
//   kList       list / tuple            is_tuple() only changes repr: (1, 2)
//   kDict       dict                    string keys, insertion order kept
//   kNamespace  jinja2 namespace        the one mutable value (`set ns.x = ...`)
//   kCallable   macro, builtin, method
//
// Values share their payload (copying is cheap); only namespaces are ever mutated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/jinja/error.h"

namespace ax::jinja {

class Value;
class Interpreter;
using ValueList = std::vector<Value>;

enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kCallable };

// Ordered string-keyed map (Python dicts keep insertion order). Lookups are linear:
// template dicts (messages, tool schemas) have a handful of keys.
class Dict {
 public:
  const Value* Find(std::string_view key) const;
  void Set(const std::string& key, Value v);
  // Out of line: Value is incomplete here (clang instantiates these eagerly).
  size_t size() const;
  bool empty() const;
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }
  // Deepest value held (see Value::depth) and whether any holds a namespace.
  uint32_t max_depth() const { return max_depth_; }
  bool holds_namespace() const { return holds_namespace_; }

 private:
  std::vector<std::pair<std::string, Value>> items_;
  uint32_t max_depth_ = 0;
  bool holds_namespace_ = false;
};

// Values nest at most this deep (containers and JSON input): the evaluator, repr,
// tojson and the destructors recurse over nesting.
constexpr uint32_t kMaxValueDepth = 512;

// Arguments of a call: positional then keyword, in call order.
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The keyword argument `name`, or nullptr.
  const Value* Kw(std::string_view name) const;
  // positional[i] if given, else keyword `name`, else nullptr (Python's parameter binding).
  const Value* Get(size_t i, std::string_view name) const;
};

class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value Call(Interpreter& interp, const CallArgs& args) const = 0;
  virtual std::string Name() const = 0;
};

class Value {
 public:
  Value() = default;  // Undefined
  static Value Undefined(std::string hint = {});
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value String(std::string s);
  static Value List(ValueList items);
  static Value Tuple(ValueList items);
  static Value MakeDict(Dict d);
  static Value MakeNamespace(Dict d);
  static Value Function(std::shared_ptr<const Callable> fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  // int, float or bool (Python's numbers.Number).
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  // int or bool (Python's int).
  bool is_integral() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }

  bool boolean() const { return i_ != 0; }
  int64_t integer() const { return i_; }             // REQUIRES: is_integral()
  double number() const;                             // REQUIRES: is_number()
  const std::string& str() const { return *s_; }     // REQUIRES: is_string()
  const ValueList& list() const { return *l_; }      // REQUIRES: is_list()
  bool is_tuple() const { return tuple_; }
  const Dict& dict() const { return *d_; }           // REQUIRES: kDict or kNamespace
  Dict& mutable_namespace() const { return *d_; }    // REQUIRES: kNamespace
  const Callable& callable() const { return *c_; }   // REQUIRES: kCallable
  // What went wrong when an undefined value is used ("'x' is undefined").
  std::string undefined_hint() const { return s_ ? *s_ : std::string("value is undefined"); }
  bool has_undefined_hint() const { return kind_ == Kind::kUndefined && s_ != nullptr; }

  // Nesting depth: 0 for scalars, 1 + the deepest element for containers.
  uint32_t depth() const;
  // True for namespaces and containers holding one. Namespace attributes may not hold
  // namespaces (no cycles, no unbounded chains built by loops).
  bool has_namespace() const { return kind_ == Kind::kNamespace || has_ns_; }

  bool Truthy() const;
  // Python's `is`: same singleton or same shared object.
  bool SameObject(const Value& other) const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool tuple_ = false;
  bool has_ns_ = false;
  uint32_t depth_ = 0;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<const std::string> s_;  // string, or the undefined hint
  std::shared_ptr<const ValueList> l_;
  std::shared_ptr<Dict> d_;
  std::shared_ptr<const Callable> c_;
};

// Python semantics. These throw Error where Python raises TypeError.
bool Equals(const Value& a, const Value& b);        // a == b
int Compare(const Value& a, const Value& b);        // <0, 0, >0 for a < b; throws if unorderable
std::string ToStr(const Value& v);                  // str(v) ("" for undefined)
std::string Repr(const Value& v);                   // repr(v)
std::string FloatRepr(double d);                    // repr(float): 1.0, 0.1, 1e+20, inf, nan
std::string TypeName(const Value& v);               // 'str', 'int', 'list', 'NoneType', ...
// Python's "object of type X" wording for error messages: "'dict object'".
std::string ObjectDesc(const Value& v);

}  // namespace ax::jinja
