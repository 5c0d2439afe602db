#include "constrain/matcher.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace ax::constrain {

Matcher::Matcher(GrammarPtr g, std::shared_ptr<const TokenVocab> vocab, int32_t eos_id)
    : g_(std::move(g)), vocab_(std::move(vocab)), eos_id_(eos_id), pool_(g_.get()) {
  cache_ = g_->CacheFor(vocab_);
  stacks_ = pool_.Start(g_->root(), /*is_rule=*/true);
}

void Matcher::FillMask(TokenBitset* allowed) const {
  AX_CHECK(allowed->size() == vocab_->size());
  allowed->ClearAll();
  if (ended_) return;
  std::vector<int32_t> one(1), acc, unused;
  for (int32_t node : stacks_) {
    if (node == StackPool::kAccept) {
      if (eos_id_ >= 0 && eos_id_ < vocab_->size()) allowed->Set(eos_id_);
      continue;
    }
    const TokenCache::Entry& e = cache_->Get(TokenCache::KeyOf(pool_, node));
    allowed->Or(e.accepted);
    if (e.dependent.empty()) continue;
    one[0] = node;
    acc.clear();
    WalkTokens(&pool_, *vocab_, one, e.dependent.data(), e.dependent.size(), false, &acc, &unused);
    for (int32_t i : acc) allowed->Set(vocab_->sorted_id(i));
  }
}

void Matcher::FillMaskUncached(TokenBitset* allowed) const {
  AX_CHECK(allowed->size() == vocab_->size());
  allowed->ClearAll();
  if (ended_) return;
  std::vector<int32_t> all(static_cast<size_t>(vocab_->num_sorted())), acc, unused;
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
  WalkTokens(&pool_, *vocab_, stacks_, all.data(), all.size(), false, &acc, &unused);
  for (int32_t i : acc) allowed->Set(vocab_->sorted_id(i));
  if (IsComplete() && eos_id_ >= 0 && eos_id_ < vocab_->size()) allowed->Set(eos_id_);
}

bool Matcher::Advance(std::string_view bytes) {
  if (ended_ || bytes.empty()) return false;
  StackPool::Mark mark = pool_.GetMark();
  std::vector<int32_t> cur = stacks_, next;
  for (char c : bytes) {
    pool_.Advance(cur, static_cast<uint8_t>(c), &next);
    if (next.empty()) {
      pool_.Truncate(mark);
      return false;
    }
    cur.swap(next);
  }
  history_.push_back(Step{mark, std::move(stacks_), ended_});
  stacks_ = std::move(cur);
  return true;
}

bool Matcher::Accept(int32_t token) {
  if (token < 0 || token >= vocab_->size()) return false;
  if (token == eos_id_) {
    if (ended_ || !IsComplete()) return false;
    history_.push_back(Step{pool_.GetMark(), stacks_, ended_});
    ended_ = true;
    return true;
  }
  return Advance(vocab_->bytes(token));
}

bool Matcher::AcceptBytes(std::string_view bytes) { return Advance(bytes); }

bool Matcher::IsComplete() const {
  return ended_ || std::binary_search(stacks_.begin(), stacks_.end(), StackPool::kAccept);
}

bool Matcher::IsTerminated() const {
  return ended_ || (stacks_.size() == 1 && stacks_[0] == StackPool::kAccept);
}

void Matcher::Rollback(int tokens) {
  AX_CHECK(tokens >= 0 && static_cast<size_t>(tokens) <= history_.size());
  if (tokens == 0) return;
  Step& s = history_[history_.size() - static_cast<size_t>(tokens)];
  pool_.Truncate(s.mark);
  stacks_ = std::move(s.stacks);
  ended_ = s.ended;
  history_.resize(history_.size() - static_cast<size_t>(tokens));
}

}  // namespace ax::constrain
