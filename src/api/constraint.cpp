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

// The cache key: the kind, then the text, the choices, the special tokens and the schema
// rules, length-prefixed.
std::string Key(const OutputConstraint& c) {
  std::string k = std::to_string(static_cast<int>(c.kind)) + ":" + std::to_string(c.text.size()) + ":" + c.text;
  for (const std::string& s : c.choices) k += std::to_string(s.size()) + ":" + s;
  for (const std::string& s : c.special_tokens) k += "special" + std::to_string(s.size()) + ":" + s;
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
  // Only the names of this tokenizer's special tokens matter: the others are text anyway,
  // and a set of none shares the plain vocabulary (and its grammars' token caches).
  std::set<std::string> specials;
  for (const std::string& s : c.special_tokens)
    if (auto id = tokenizer_->PieceToId(s); id.has_value() && tokenizer_->IsSpecial(*id)) specials.insert(s);
  // Kept for the engine's life: grammars key their token caches by the vocabulary.
  if (vocabs_.size() >= kMaxVocabs && vocabs_.count(specials) == 0)
    return InvalidArgument("constraint: more than " + std::to_string(kMaxVocabs) + " distinct special_tokens sets");
  auto& vocab = vocabs_[specials];
  if (vocab == nullptr) vocab = constrain::TokenVocab::Build(*tokenizer_, specials);
  return Compiled{it->second, vocab};
}

}  // namespace ax
