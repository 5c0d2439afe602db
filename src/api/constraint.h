// GenerateRequest::constraint → the compiled grammar a request decodes under
// (docs/structured-output.md). Grammars are cached by their constraint (compiling is
// cheap, but each grammar also fills a token cache as requests use it, which a later
// request with the same schema reuses); the vocabulary's token bytes are built once,
// on the first constrained request (once per set of special tokens given text, at most
// kMaxVocabs sets).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "ax/engine.h"
#include "ax/status.h"
#include "constrain/grammar.h"
#include "constrain/vocab.h"
#include "tokenizer/tokenizer.h"

namespace ax {

class ConstraintCompiler {
 public:
  explicit ConstraintCompiler(const Tokenizer* tokenizer) : tokenizer_(tokenizer) {}

  struct Compiled {
    constrain::GrammarPtr grammar;  // null: unconstrained
    std::shared_ptr<const constrain::TokenVocab> vocab;
  };
  // InvalidArgument naming what is wrong ("constraint: schema/properties/age: ...").
  // Thread-safe.
  Result<Compiled> Compile(const OutputConstraint& c);

 private:
  static constexpr size_t kMaxCached = 256;
  static constexpr size_t kMaxVocabs = 8;
  const Tokenizer* tokenizer_;
  std::mutex mu_;
  std::map<std::string, constrain::GrammarPtr> cache_;
  // By the special tokens they give text to (OutputConstraint::special_tokens).
  std::map<std::set<std::string>, std::shared_ptr<const constrain::TokenVocab>> vocabs_;
};

}  // namespace ax
