// The model's vocabulary as the raw bytes each token contributes to decoded text,
// sorted by bytes (a flattened trie), and the token bitset masks are written to.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace ax::constrain {

// One bit per token id: bit (id % 32) of word (id / 32); 1 = allowed. The layout
// matches a [ceil(n/32)] int32 mask that a backend can apply to a logits row.
class TokenBitset {
 public:
  TokenBitset() = default;
  explicit TokenBitset(int32_t n) : n_(n), words_(static_cast<size_t>((n + 31) / 32), 0u) {}
  int32_t size() const { return n_; }
  bool Test(int32_t i) const { return ((words_[i >> 5] >> (i & 31)) & 1u) != 0; }
  void Set(int32_t i) { words_[i >> 5] |= 1u << (i & 31); }
  void Reset(int32_t i) { words_[i >> 5] &= ~(1u << (i & 31)); }
  void ClearAll() { std::fill(words_.begin(), words_.end(), 0u); }
  void SetAll();  // all n bits (the padding bits of the last word stay 0)
  void Or(const TokenBitset& o) {
    for (size_t w = 0; w < words_.size(); ++w) words_[w] |= o.words_[w];
  }
  int32_t Count() const;
  const std::vector<uint32_t>& words() const { return words_; }
  uint32_t* data() { return words_.data(); }

 private:
  int32_t n_ = 0;
  std::vector<uint32_t> words_;
};

// Immutable once built; share across requests and threads.
class TokenVocab {
 public:
  // Bytes of every id in [0, tok.vocab_size()) from Tokenizer::TokenBytes
  // (special tokens and ids without a token get no bytes), except the special tokens
  // whose text is one of `specials`: they get their text, so a grammar that writes
  // that text may produce them (a tool-call syntax made of special tokens, Gemma 4's
  // <|tool_call>). Every other special token stays out of reach.
  static std::shared_ptr<const TokenVocab> Build(const Tokenizer& tok, const std::set<std::string>& specials = {});
  // From explicit bytes (index = token id); empty strings are never allowed.
  static std::shared_ptr<const TokenVocab> FromBytes(std::vector<std::string> bytes);

  int32_t size() const { return static_cast<int32_t>(bytes_.size()); }
  const std::string& bytes(int32_t id) const { return bytes_[id]; }

  // Tokens with bytes, sorted by bytes: sorted_ids()[i] is the i-th, and lcp(i) the
  // length of the common prefix of the (i-1)-th and i-th (0 for i = 0). Tokens
  // with the same bytes are adjacent. A prefix's tokens form a contiguous range.
  int32_t num_sorted() const { return static_cast<int32_t>(sorted_.size()); }
  int32_t sorted_id(int32_t i) const { return sorted_[i]; }
  std::string_view sorted_bytes(int32_t i) const { return bytes_[sorted_[i]]; }
  int32_t lcp(int32_t i) const { return lcp_[i]; }

 private:
  std::vector<std::string> bytes_;
  std::vector<int32_t> sorted_;
  std::vector<int32_t> lcp_;
};

}  // namespace ax::constrain
