// JSON Schema -> Expr compiler. Internal; the policy it implements is documented in
// docs/structured-output.md. Every keyword is either compiled, ignored because it
// does not constrain output (annotations), or rejected with the keyword's path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "constrain/expr.h"

namespace ax::constrain {

// Schemas are read as nlohmann::ordered_json, so object properties are generated in
// the schema's own order.
class SchemaCompiler {
 public:
  using Json = nlohmann::ordered_json;
  // Rules go to `shared` when given (a grammar that embeds the schema: CompileGbnf's
  // schema rules), else to a builder of its own. Messages start with `path`.
  explicit SchemaCompiler(const Json& root, GrammarBuilder* shared = nullptr, std::string path = "schema")
      : root_(root), b_(shared != nullptr ? *shared : own_), path_(std::move(path)) {}
  // The whole schema as a grammar (every root $defs entry compiled and checked).
  Result<GrammarPtr> Compile();
  // The subschema at JSON pointer `pointer` ("" = the root) as an expression over the
  // builder's rules; references resolve against the root.
  Result<Expr> CompileAt(const std::string& pointer);

 private:
  Result<Expr> Schema(const Json& s, const std::string& path);
  Result<Expr> Typed(const Json& s, const std::string& type, const std::string& path);
  Result<Expr> Ref(const std::string& ref, const std::string& path);
  Result<Expr> Object(const Json& s, const std::string& path);
  Result<Expr> Array(const Json& s, const std::string& path);
  Result<Expr> String(const Json& s, const std::string& path);
  Result<Expr> Number(const Json& s, bool integer, const std::string& path);
  Result<Expr> Format(const std::string& format, const std::string& path);

  // Shared rules: any JSON value, string, number.
  Expr AnyValue();
  Expr AnyString();
  Expr Sep() const;    // "," " "?
  Expr Colon() const;  // ":" " "?

  const Json& root_;
  GrammarBuilder own_;
  GrammarBuilder& b_;
  std::string path_;
  std::map<std::string, int32_t> refs_;  // JSON pointer -> rule
  int32_t any_value_ = -1, any_string_ = -1;
};

// Exact expression for the decimal integers in [lo, hi] (either side open), no
// leading zeros, no "-0".
Expr IntegerRange(std::optional<int64_t> lo, std::optional<int64_t> hi);

// The JSON grammar of any value / object (used by AnyJsonObject too). Its rules are
// named json.value, json.string ...: names GBNF cannot write, so a GBNF grammar that
// embeds schemas cannot collide with them.
void DefineAnyJson(GrammarBuilder* b, int32_t* value_rule, int32_t* object_rule, int32_t* string_rule);

}  // namespace ax::constrain
