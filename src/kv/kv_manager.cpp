#include "kv/kv_manager.h"

#include <algorithm>

#include "base/check.h"

namespace ax {

KvManager::KvManager(int num_blocks, int block_size, bool prefix_caching)
    : pool_(num_blocks, block_size), prefix_caching_(prefix_caching) {}

int64_t KvManager::Attach(SeqId seq, const std::vector<int32_t>& tokens) {
  AX_CHECK(seqs_.count(seq) == 0);
  SeqState& s = seqs_[seq];
  if (!prefix_caching_ || tokens.empty()) return 0;
  const int bs = block_size();
  const int64_t max_blocks = (static_cast<int64_t>(tokens.size()) - 1) / bs;  // keep ≥ 1 token to compute
  uint64_t parent = 0;
  for (int64_t b = 0; b < max_blocks; ++b) {
    const uint64_t h = BlockHash(parent, tokens.data() + b * bs, bs);
    auto id = pool_.TakeCached(h);
    if (!id) break;
    s.blocks.push_back(*id);
    parent = h;
  }
  s.num_hashed = static_cast<int>(s.blocks.size());
  s.last_hash = parent;
  return static_cast<int64_t>(s.blocks.size()) * bs;
}

int KvManager::BlocksNeeded(SeqId seq, int64_t total_tokens) const {
  const SeqState& s = seqs_.at(seq);
  const int64_t need = (total_tokens + block_size() - 1) / block_size();
  return static_cast<int>(std::max<int64_t>(0, need - static_cast<int64_t>(s.blocks.size())));
}

bool KvManager::Grow(SeqId seq, int64_t total_tokens) {
  const int need = BlocksNeeded(seq, total_tokens);
  if (need > pool_.num_free()) return false;
  SeqState& s = seqs_.at(seq);
  for (int i = 0; i < need; ++i) s.blocks.push_back(*pool_.Allocate());
  return true;
}

void KvManager::Commit(SeqId seq, const std::vector<int32_t>& tokens, int64_t computed) {
  if (!prefix_caching_) return;
  SeqState& s = seqs_.at(seq);
  const int bs = block_size();
  const int64_t full = std::min<int64_t>(computed / bs, static_cast<int64_t>(s.blocks.size()));
  AX_CHECK(computed <= static_cast<int64_t>(tokens.size()));
  while (s.num_hashed < full) {
    const int64_t b = s.num_hashed;
    const uint64_t h = BlockHash(s.last_hash, tokens.data() + b * bs, bs);
    pool_.SetHash(s.blocks[static_cast<size_t>(b)], h);
    s.last_hash = h;
    ++s.num_hashed;
  }
}

void KvManager::Truncate(SeqId seq, int64_t new_len) {
  SeqState& s = seqs_.at(seq);
  AX_CHECK(new_len >= static_cast<int64_t>(s.num_hashed) * block_size());
  const size_t keep = static_cast<size_t>((new_len + block_size() - 1) / block_size());
  while (s.blocks.size() > keep) {
    pool_.Release(s.blocks.back());
    s.blocks.pop_back();
  }
}

void KvManager::Free(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  // Release in reverse so a sequence's tail blocks are evicted before its prefix
  // (the prefix is the more likely to be shared again).
  for (auto b = it->second.blocks.rbegin(); b != it->second.blocks.rend(); ++b) pool_.Release(*b);
  seqs_.erase(it);
}

const std::vector<int32_t>& KvManager::blocks(SeqId seq) const { return seqs_.at(seq).blocks; }
int KvManager::num_hashed(SeqId seq) const { return seqs_.at(seq).num_hashed; }

}  // namespace ax
