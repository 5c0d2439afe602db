#include "constrain/vocab.h"

#include <algorithm>
#include <bit>

namespace ax::constrain {

void TokenBitset::SetAll() {
  std::fill(words_.begin(), words_.end(), ~0u);
  if (n_ % 32 != 0) words_.back() = (1u << (n_ % 32)) - 1;
}

int32_t TokenBitset::Count() const {
  int32_t c = 0;
  for (uint32_t w : words_) c += std::popcount(w);
  return c;
}

std::shared_ptr<const TokenVocab> TokenVocab::Build(const Tokenizer& tok, const std::set<std::string>& specials) {
  std::vector<std::string> bytes(static_cast<size_t>(tok.vocab_size()));
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    bytes[id] = tok.TokenBytes(id);
    if (!specials.empty() && tok.IsSpecial(id)) {
      std::string text = tok.Decode({id}, /*skip_special_tokens=*/false);
      if (specials.count(text) != 0) bytes[id] = std::move(text);
    }
  }
  return FromBytes(std::move(bytes));
}

std::shared_ptr<const TokenVocab> TokenVocab::FromBytes(std::vector<std::string> bytes) {
  auto v = std::shared_ptr<TokenVocab>(new TokenVocab());  // NOLINT(modernize-make-shared): the constructor is private
  v->bytes_ = std::move(bytes);
  for (int32_t id = 0; id < v->size(); ++id) {
    if (!v->bytes_[id].empty()) v->sorted_.push_back(id);
  }
  const std::vector<std::string>& b = v->bytes_;
  std::sort(v->sorted_.begin(), v->sorted_.end(), [&](int32_t x, int32_t y) {
    int c = b[x].compare(b[y]);
    return c != 0 ? c < 0 : x < y;
  });
  v->lcp_.assign(v->sorted_.size(), 0);
  for (size_t i = 1; i < v->sorted_.size(); ++i) {
    const std::string& p = b[v->sorted_[i - 1]];
    const std::string& q = b[v->sorted_[i]];
    size_t n = std::min(p.size(), q.size()), k = 0;
    while (k < n && p[k] == q[k]) ++k;
    v->lcp_[i] = static_cast<int32_t>(k);
  }
  return v;
}

}  // namespace ax::constrain
