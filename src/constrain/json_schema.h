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

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const nlohmann::json& root) : root_(root) {}
  Result<GrammarPtr> Compile();

 private:
  using Json = nlohmann::json;

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
  GrammarBuilder b_;
  std::map<std::string, int32_t> refs_;  // JSON pointer -> rule
  int32_t any_value_ = -1, any_string_ = -1;
};

// Exact expression for the decimal integers in [lo, hi] (either side open), no
// leading zeros, no "-0".
Expr IntegerRange(std::optional<int64_t> lo, std::optional<int64_t> hi);

// The JSON grammar of any value / object (used by AnyJsonObject too).
void DefineAnyJson(GrammarBuilder* b, int32_t* value_rule, int32_t* object_rule, int32_t* string_rule);

}  // namespace ax::constrain
