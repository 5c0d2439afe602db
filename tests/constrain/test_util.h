// Shared helpers of the constrain tests: whole-string matching, the shared
// tokenizers' vocabularies (cached per process), and a brute-force token mask.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "constrain/grammar.h"
#include "constrain/matcher.h"
#include "constrain/vocab.h"
#include "tokenizer/tokenizer.h"

namespace ax::constrain::test {

// A vocabulary of the 256 single bytes (id = byte value) plus an eos id 256.
inline std::shared_ptr<const TokenVocab> ByteVocab() {
  static std::shared_ptr<const TokenVocab> v = [] {
    std::vector<std::string> b(257);
    for (int i = 0; i < 256; ++i) b[i] = std::string(1, static_cast<char>(i));
    return TokenVocab::FromBytes(std::move(b));
  }();
  return v;
}

// Whether the grammar matches all of `s`.
inline bool Matches(const GrammarPtr& g, std::string_view s) {
  Matcher m(g, ByteVocab(), 256);
  if (!s.empty() && !m.AcceptBytes(s)) return false;
  return m.IsComplete();
}

// Whether `s` is a prefix of some match.
inline bool IsPrefix(const GrammarPtr& g, std::string_view s) {
  Matcher m(g, ByteVocab(), 256);
  return s.empty() || m.AcceptBytes(s);
}

inline GrammarPtr MustGbnf(std::string_view text) {
  auto r = CompileGbnf(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << text;
  return r.ok() ? r.value() : nullptr;
}

struct SharedTok {
  std::unique_ptr<Tokenizer> tok;
  std::shared_ptr<const TokenVocab> vocab;
  int32_t eos = -1;
};

// nullptr when the shared folder is missing (the caller skips).
inline const SharedTok* LoadShared(const std::string& name) {
  static std::map<std::string, std::unique_ptr<SharedTok>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  std::string dir = name == "stories260K" ? std::string(AX_SHARED_DIR) + "/models/stories260K"
                                          : std::string(AX_SHARED_DIR) + "/tokenizers/" + name;
  if (!std::filesystem::exists(dir + "/tokenizer.json")) return nullptr;
  auto r = Tokenizer::LoadFromDir(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  auto s = std::make_unique<SharedTok>();
  s->tok = std::move(r).value();
  s->vocab = TokenVocab::Build(*s->tok);
  s->eos = s->tok->eos_id().value_or(-1);
  return (cache[name] = std::move(s)).get();
}

// The mask by trying every token on a copy of the matcher.
inline TokenBitset BruteForceMask(const Matcher& m, const TokenVocab& v) {
  TokenBitset out(v.size());
  for (int32_t t = 0; t < v.size(); ++t) {
    Matcher c = m;
    if (c.Accept(t)) out.Set(t);
  }
  return out;
}

// Ids set in `a` but not in `b`, at most `limit`, for messages.
inline std::string Diff(const TokenBitset& a, const TokenBitset& b, const TokenVocab& v, int limit = 8) {
  std::string out;
  for (int32_t t = 0; t < a.size() && limit > 0; ++t) {
    if (a.Test(t) && !b.Test(t)) {
      out += std::to_string(t) + ":'" + v.bytes(t) + "' ";
      --limit;
    }
  }
  return out;
}

}  // namespace ax::constrain::test
