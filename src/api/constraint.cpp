#include "api/constraint.h"

#include <nlohmann/json.hpp>

namespace ax {
namespace {

Result<constrain::GrammarPtr> CompileUncached(const OutputConstraint& c) {
  using Kind = OutputConstraint::Kind;
  switch (c.kind) {
    case Kind::kNone: return constrain::GrammarPtr{};
    case Kind::kJsonObject: return constrain::AnyJsonObject();
    case Kind::kJsonSchema: {
      // ordered_json: properties are generated in the order the schema gives them.
      const auto schema = nlohmann::ordered_json::parse(c.text, nullptr, /*allow_exceptions=*/false);
      if (schema.is_discarded()) return InvalidArgument("the JSON schema is not valid JSON");
      return constrain::CompileJsonSchema(schema);
    }
    case Kind::kRegex: return constrain::CompileRegex(c.text);
    case Kind::kChoice:
      if (c.choices.empty()) return InvalidArgument("choice: expected at least one choice");
      return constrain::CompileChoice(c.choices);
    case Kind::kGrammar: {
      std::vector<constrain::SchemaRule> rules;
      rules.reserve(c.schema_rules.size());
      for (const auto& r : c.schema_rules) rules.push_back({r.name, r.schema, r.pointer});
      return constrain::CompileGbnf(c.text, rules);
    }
  }
  return InvalidArgument("unknown constraint kind");
}

// The cache key: the kind, then the text, the choices and the schema rules, length-prefixed.
std::string Key(const OutputConstraint& c) {
  std::string k = std::to_string(static_cast<int>(c.kind)) + ":" + std::to_string(c.text.size()) + ":" + c.text;
  for (const std::string& s : c.choices) k += std::to_string(s.size()) + ":" + s;
  for (const auto& r : c.schema_rules)
    for (const std::string* s : {&r.name, &r.schema, &r.pointer}) k += std::to_string(s->size()) + ":" + *s;
  return k;
}

}  // namespace

Result<ConstraintCompiler::Compiled> ConstraintCompiler::Compile(const OutputConstraint& c) {
  if (c.kind == OutputConstraint::Kind::kNone) return Compiled{};
  if (tokenizer_ == nullptr) return InvalidArgument("constraint: constrained decoding needs the model's tokenizer.json");
  const std::string key = Key(c);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    auto g = CompileUncached(c);
    if (!g.ok()) return InvalidArgument("constraint: " + g.status().message());
    if (cache_.size() >= kMaxCached) cache_.clear();
    it = cache_.emplace(key, *g).first;
  }
  if (vocab_ == nullptr) vocab_ = constrain::TokenVocab::Build(*tokenizer_);
  return Compiled{it->second, vocab_};
}

}  // namespace ax
