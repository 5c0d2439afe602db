#include "constrain/token_cache.h"

#include <algorithm>
#include <numeric>

namespace ax::constrain {
namespace {

bool HasPrefix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool Contains(const std::vector<int32_t>& set, int32_t x) {
  return std::binary_search(set.begin(), set.end(), x);
}

}  // namespace

void WalkTokens(StackPool* pool, const TokenVocab& v, const std::vector<int32_t>& start,
                const int32_t* idx, size_t n, bool track_context, std::vector<int32_t>* accepted,
                std::vector<int32_t>* dependent) {
  // Level k: the stacks after the first k bytes of the current token, ctx[k]
  // whether kContext appeared at any level <= k, marks[k] the pool once level k exists.
  thread_local std::vector<std::vector<int32_t>> sets;
  thread_local std::vector<char> ctx;
  thread_local std::vector<StackPool::Mark> marks;
  const StackPool::Mark base = pool->GetMark();
  if (sets.empty()) sets.resize(1);
  sets[0] = start;
  ctx.assign(1, track_context && Contains(start, StackPool::kContext));
  marks.assign(1, base);
  size_t valid = 0;  // levels 0..valid hold the previous token's prefix
  std::string_view prev;
  size_t t = 0;
  while (t < n) {
    int32_t i = idx[t];
    std::string_view s = v.sorted_bytes(i);
    size_t l = 0, m = std::min(prev.size(), s.size());
    while (l < m && prev[l] == s[l]) ++l;
    size_t k = std::min(l, valid);
    pool->Truncate(marks[k]);
    bool failed = false;
    while (k < s.size()) {
      if (sets.size() < k + 2) sets.resize(k + 2);
      marks.resize(k + 1);
      ctx.resize(k + 1);
      pool->Advance(sets[k], static_cast<uint8_t>(s[k]), &sets[k + 1]);
      ++k;
      marks.push_back(pool->GetMark());
      ctx.push_back(ctx[k - 1] || (track_context && Contains(sets[k], StackPool::kContext)));
      if (sets[k].empty()) {
        failed = true;
        break;
      }
    }
    valid = k;
    prev = s;
    if (!failed) {
      accepted->push_back(i);
      ++t;
      continue;
    }
    // Every following token with this failing prefix shares the outcome.
    bool dep = track_context && ctx[k - 1];
    std::string_view fail_prefix = s.substr(0, k);
    while (t < n && HasPrefix(v.sorted_bytes(idx[t]), fail_prefix)) {
      if (dep) dependent->push_back(idx[t]);
      ++t;
    }
    valid = k - 1;  // level k is empty; the next token reuses at most k-1 levels
  }
  pool->Truncate(base);
}

TokenCache::TokenCache(const Grammar* g, std::shared_ptr<const TokenVocab> v) : g_(g), vocab_(std::move(v)) {
  all_.resize(static_cast<size_t>(vocab_->num_sorted()));
  std::iota(all_.begin(), all_.end(), 0);
}

std::vector<int32_t> TokenCache::KeyOf(const StackPool& pool, int32_t node) {
  std::vector<int32_t> key;
  for (int d = 0; d < kDepth && node != StackPool::kContext; ++d) {
    if (node == StackPool::kAccept) {
      key.push_back(-1);
      break;
    }
    key.push_back(pool.pos(node));
    node = pool.parent(node);
  }
  return key;
}

const TokenCache::Entry& TokenCache::Get(const std::vector<int32_t>& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) return *it->second;
  return ComputeLocked(key);
}

int32_t TokenCache::num_entries() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int32_t>(entries_.size());
}

const TokenCache::Entry& TokenCache::ComputeLocked(const std::vector<int32_t>& key) {
  StackPool pool(g_);
  int32_t node = StackPool::kContext;
  size_t n = key.size();
  if (n > 0 && key[n - 1] < 0) {
    node = StackPool::kAccept;
    --n;
  }
  for (size_t i = n; i-- > 0;) node = pool.Make(key[i], node);
  std::vector<int32_t> start{node}, acc, dep;
  WalkTokens(&pool, *vocab_, start, all_.data(), all_.size(), /*track_context=*/true, &acc, &dep);
  auto e = std::make_unique<Entry>();
  e->accepted = TokenBitset(vocab_->size());
  for (int32_t i : acc) e->accepted.Set(vocab_->sorted_id(i));
  e->dependent = std::move(dep);
  const Entry& ref = *e;
  entries_[key] = std::move(e);
  return ref;
}

}  // namespace ax::constrain
