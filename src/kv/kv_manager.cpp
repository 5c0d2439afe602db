#include "kv/kv_manager.h"

#include <algorithm>

#include "base/check.h"

namespace ax {

KvManager::KvManager(int num_blocks, int block_size, bool prefix_caching)
    : KvManager(std::vector<KvGroupSpec>{{0, num_blocks}}, block_size, prefix_caching) {}

KvManager::KvManager(const std::vector<KvGroupSpec>& groups, int block_size, bool prefix_caching)
    : block_size_(block_size), prefix_caching_(prefix_caching) {
  AX_CHECK(!groups.empty() && block_size > 0);
  groups_.reserve(groups.size());
  for (const KvGroupSpec& g : groups) {
    AX_CHECK(g.window >= 0);
    groups_.push_back({g.window, BlockPool(g.num_blocks, block_size)});
  }
}

int KvManager::num_used() const {
  int n = 0;
  for (const Group& g : groups_) n += g.pool.num_used();
  return n;
}

int KvManager::num_free() const {
  int n = 0;
  for (const Group& g : groups_) n += g.pool.num_free();
  return n;
}

int KvManager::num_cached_free() const {
  int n = 0;
  for (const Group& g : groups_) n += g.pool.num_cached_free();
  return n;
}

int KvManager::num_blocks() const {
  int n = 0;
  for (const Group& g : groups_) n += g.pool.num_blocks();
  return n;
}

int64_t KvManager::FirstNeededBlock(int window, int64_t q0) const {
  if (window == 0) return 0;
  return std::max<int64_t>(0, q0 - window + 1) / block_size_;
}

int64_t KvManager::Attach(SeqId seq, const std::vector<int32_t>& tokens) {
  AX_CHECK(seqs_.count(seq) == 0);
  SeqState& s = seqs_[seq];
  s.tables.assign(groups_.size(), {});
  s.released.assign(groups_.size(), 0);
  if (!prefix_caching_ || tokens.empty()) return 0;
  const int bs = block_size_;
  const int64_t max_blocks = (static_cast<int64_t>(tokens.size()) - 1) / bs;  // keep ≥ 1 token to compute

  // The prefix every full group holds: its chained hashes.
  std::vector<uint64_t> hashes;
  uint64_t parent = 0;
  for (int64_t b = 0; b < max_blocks; ++b) {
    const uint64_t h = BlockHash(parent, tokens.data() + b * bs, bs);
    const bool held = std::all_of(groups_.begin(), groups_.end(),
                                  [&](const Group& g) { return g.window > 0 || g.pool.HasCached(h); });
    if (!held) break;
    hashes.push_back(h);
    parent = h;
  }
  // Per windowed group, how many blocks ending at b it holds in a row; a hit of L
  // blocks needs that run at L - 1 to reach back to the window's first block.
  int64_t hit = static_cast<int64_t>(hashes.size());
  std::vector<std::vector<int64_t>> run(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].window == 0) continue;
    run[g].resize(hashes.size());
    for (size_t b = 0; b < hashes.size(); ++b)
      run[g][b] = groups_[g].pool.HasCached(hashes[b]) ? (b > 0 ? run[g][b - 1] : 0) + 1 : 0;
  }
  const auto resident = [&](int64_t blocks) {
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g].window == 0) continue;
      const int64_t need = blocks - FirstNeededBlock(groups_[g].window, blocks * bs);
      if (run[g][static_cast<size_t>(blocks - 1)] < need) return false;
    }
    return true;
  };
  while (hit > 0 && !resident(hit)) --hit;

  for (size_t g = 0; g < groups_.size(); ++g) {
    const int64_t first = FirstNeededBlock(groups_[g].window, hit * bs);
    std::vector<int32_t>& table = s.tables[g];
    table.assign(static_cast<size_t>(first), kNoBlock);
    for (int64_t b = first; b < hit; ++b)
      table.push_back(*groups_[g].pool.TakeCached(hashes[static_cast<size_t>(b)]));
    s.released[g] = static_cast<int>(first);
  }
  s.num_hashed = static_cast<int>(hit);
  s.last_hash = hit > 0 ? hashes[static_cast<size_t>(hit - 1)] : 0;
  return hit * bs;
}

int KvManager::BlocksNeeded(SeqId seq, int64_t total_tokens, int group) const {
  const SeqState& s = seqs_.at(seq);
  const int64_t need = (total_tokens + block_size_ - 1) / block_size_;
  const int64_t have = static_cast<int64_t>(s.tables[static_cast<size_t>(group)].size());
  return static_cast<int>(std::max<int64_t>(0, need - have));
}

bool KvManager::CanGrow(SeqId seq, int64_t total_tokens) const {
  for (int g = 0; g < num_groups(); ++g)
    if (BlocksNeeded(seq, total_tokens, g) > pool(g).num_free()) return false;
  return true;
}

bool KvManager::Grow(SeqId seq, int64_t total_tokens) {
  if (!CanGrow(seq, total_tokens)) return false;
  SeqState& s = seqs_.at(seq);
  for (int g = 0; g < num_groups(); ++g) {
    const int need = BlocksNeeded(seq, total_tokens, g);
    for (int i = 0; i < need; ++i) s.tables[static_cast<size_t>(g)].push_back(*pool(g).Allocate());
  }
  return true;
}

void KvManager::Commit(SeqId seq, const std::vector<int32_t>& tokens, int64_t computed) {
  SeqState& s = seqs_.at(seq);
  AX_CHECK(computed <= static_cast<int64_t>(tokens.size()));
  if (prefix_caching_) {
    const int bs = block_size_;
    const int64_t full = std::min<int64_t>(computed / bs, static_cast<int64_t>(s.tables[0].size()));
    while (s.num_hashed < full) {
      const int64_t b = s.num_hashed;
      const uint64_t h = BlockHash(s.last_hash, tokens.data() + b * bs, bs);
      for (size_t g = 0; g < groups_.size(); ++g) {
        const int32_t id = s.tables[g][static_cast<size_t>(b)];
        AX_CHECK(id != kNoBlock);  // released only behind hashed blocks
        groups_[g].pool.SetHash(id, h);
      }
      s.last_hash = h;
      ++s.num_hashed;
    }
  }
  ReleaseBehindWindow(s, computed);
}

void KvManager::ReleaseBehindWindow(SeqState& s, int64_t committed) {
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].window == 0) continue;
    std::vector<int32_t>& table = s.tables[g];
    const int64_t target =
        std::min<int64_t>(FirstNeededBlock(groups_[g].window, committed), static_cast<int64_t>(table.size()));
    for (; s.released[g] < target; ++s.released[g]) {
      int32_t& id = table[static_cast<size_t>(s.released[g])];
      if (id != kNoBlock) groups_[g].pool.Release(id);
      id = kNoBlock;
    }
  }
}

void KvManager::Truncate(SeqId seq, int64_t new_len) {
  SeqState& s = seqs_.at(seq);
  AX_CHECK(new_len >= static_cast<int64_t>(s.num_hashed) * block_size_);
  const size_t keep = static_cast<size_t>((new_len + block_size_ - 1) / block_size_);
  for (size_t g = 0; g < groups_.size(); ++g) {
    AX_CHECK(s.released[g] <= FirstNeededBlock(groups_[g].window, new_len));  // never back into the released part
    std::vector<int32_t>& table = s.tables[g];
    while (table.size() > keep) {
      groups_[g].pool.Release(table.back());
      table.pop_back();
    }
  }
}

void KvManager::Free(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  // Release in reverse so a sequence's tail blocks are evicted before its prefix
  // (the prefix is the more likely to be shared again).
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::vector<int32_t>& table = it->second.tables[g];
    for (size_t i = table.size(); i-- > 0;)
      if (table[i] != kNoBlock) groups_[g].pool.Release(table[i]);
  }
  seqs_.erase(it);
}

const std::vector<int32_t>& KvManager::blocks(SeqId seq, int group) const {
  return seqs_.at(seq).tables[static_cast<size_t>(group)];
}

const std::vector<std::vector<int32_t>>& KvManager::tables(SeqId seq) const { return seqs_.at(seq).tables; }

int KvManager::num_hashed(SeqId seq) const { return seqs_.at(seq).num_hashed; }

int64_t KvManager::PeakBlocks(int group, int64_t total_tokens, int64_t max_chunk) const {
  const int64_t blocks = (total_tokens + block_size_ - 1) / block_size_;
  const int w = window(group);
  if (w == 0) return blocks;
  // A forward of n tokens at q0 reads and writes positions [q0 - W + 1, q0 + n).
  return std::min<int64_t>(blocks, (w - 1 + max_chunk + block_size_ - 1) / block_size_ + 1);
}

}  // namespace ax
