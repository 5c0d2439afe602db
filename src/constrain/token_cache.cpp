#include "constrain/token_cache.h"

#include <algorithm>
#include <numeric>

namespace ax::constrain {
namespace {

bool HasPrefix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

constexpr size_t kMaxWalkNodes = size_t{1} << 16;

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
    // Nodes of the previous token's tail stay (with their memoised expansions) for
    // reuse by the next tokens, up to a bound on the walk's memory.
    if (pool->num_nodes() - base.nodes > kMaxWalkNodes) pool->Truncate(marks[k]);
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
  int32_t longest = 1;  // so that cap >= 2 (level 1 has its own layout)
  for (int32_t i = 0; i < vocab_->num_sorted(); ++i) {
    longest = std::max(longest, static_cast<int32_t>(vocab_->sorted_bytes(i).size()));
  }
  const std::vector<Elem>& elems = g_->elems();
  canon_.resize(elems.size());
  top_.resize(elems.size());
  std::iota(canon_.begin(), canon_.end(), 0);
  std::iota(top_.begin(), top_.end(), 0);
  reach_.assign(elems.size(), kNoLimit);
  for (const RepeatChain& ch : g_->chains()) {
    int32_t u = std::min(ch.unit_min_bytes, longest);  // >= 1
    int32_t n = static_cast<int32_t>(ch.rules.size());
    int32_t cap = (longest + u - 1) / u + 1;  // the smallest c with (c-1)*u >= longest
    int32_t top = std::min(n, cap);
    for (int32_t c = 1; c <= n; ++c) {
      int32_t lvl = std::min(c, cap);
      const std::vector<int32_t>& alts = g_->alts(ch.rules[c - 1]);
      for (size_t a = 0; a < alts.size(); ++a) {
        // Levels >= 2 share one layout; level 1 maps only to itself or to a level >= 2.
        for (int32_t o = 0; elems[alts[a] + o].kind != ElemKind::kEnd; ++o) {
          int32_t p = alts[a] + o;
          canon_[p] = g_->alts(ch.rules[lvl - 1])[a] + o;
          top_[p] = g_->alts(ch.rules[top - 1])[a] + o;
          if (lvl < top) reach_[p] = (lvl - 1) * u;
        }
      }
    }
  }
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

const TokenCache::Entry& TokenCache::Get(std::vector<int32_t> key) {
  for (int32_t& p : key) {
    if (p >= 0) p = canon_[p];
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) return *it->second;
  return ComputeLocked(key);
}

int32_t TokenCache::num_entries() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int32_t>(entries_.size());
}

const std::vector<int32_t>& TokenCache::LongerThan(int32_t bytes) {
  auto [it, fresh] = longer_.try_emplace(bytes);
  if (fresh) {
    for (int32_t i : all_) {
      if (vocab_->sorted_bytes(i).size() > static_cast<size_t>(bytes)) it->second.push_back(i);
    }
  }
  return it->second;
}

const TokenCache::Entry& TokenCache::ComputeLocked(const std::vector<int32_t>& key) {
  // The key raised to its chains' top levels, and the length up to which it agrees.
  std::vector<int32_t> raised = key;
  int32_t limit = kNoLimit;
  for (int32_t& p : raised) {
    if (p < 0) continue;
    limit = std::min(limit, reach_[p]);
    p = top_[p];
  }
  StackPool pool(g_);
  int32_t node = StackPool::kContext;
  size_t n = key.size();
  if (n > 0 && key[n - 1] < 0) {
    node = StackPool::kAccept;
    --n;
  }
  for (size_t i = n; i-- > 0;) node = pool.Make(key[i], node);
  std::vector<int32_t> start{node}, acc, dep;
  auto e = std::make_unique<Entry>();
  if (limit == kNoLimit) {
    WalkTokens(&pool, *vocab_, start, all_.data(), all_.size(), /*track_context=*/true, &acc, &dep);
    e->accepted = TokenBitset(vocab_->size());
    e->dependent = std::move(dep);
  } else {
    auto it = entries_.find(raised);
    const Entry& base = it != entries_.end() ? *it->second : ComputeLocked(raised);
    const std::vector<int32_t>& longer = LongerThan(limit);
    WalkTokens(&pool, *vocab_, start, longer.data(), longer.size(), /*track_context=*/true, &acc, &dep);
    e->accepted = base.accepted;
    for (int32_t i : longer) e->accepted.Reset(vocab_->sorted_id(i));
    std::vector<int32_t> kept;  // the raised key's dependent tokens of at most `limit` bytes
    for (int32_t i : base.dependent) {
      if (vocab_->sorted_bytes(i).size() <= static_cast<size_t>(limit)) kept.push_back(i);
    }
    e->dependent.resize(kept.size() + dep.size());
    std::merge(kept.begin(), kept.end(), dep.begin(), dep.end(), e->dependent.begin());
  }
  for (int32_t i : acc) e->accepted.Set(vocab_->sorted_id(i));
  const Entry& ref = *e;
  entries_[key] = std::move(e);
  return ref;
}

}  // namespace ax::constrain
