#include "kv/block_pool.h"

#include "base/check.h"
#include "base/hash.h"

namespace ax {

BlockPool::BlockPool(int num_blocks, int block_size) : block_size_(block_size) {
  AX_CHECK(num_blocks > 0 && block_size > 0);
  blocks_.resize(static_cast<size_t>(num_blocks));
  for (int32_t i = 0; i < num_blocks; ++i) PushBack(i);
}

void BlockPool::Unlink(int32_t id) {
  Block& b = blocks_[static_cast<size_t>(id)];
  if (b.prev >= 0) blocks_[static_cast<size_t>(b.prev)].next = b.next;
  else head_ = b.next;
  if (b.next >= 0) blocks_[static_cast<size_t>(b.next)].prev = b.prev;
  else tail_ = b.prev;
  b.prev = b.next = -1;
  --num_free_;
  if (b.hash != 0) --num_cached_free_;
}

void BlockPool::PushBack(int32_t id) {
  Block& b = blocks_[static_cast<size_t>(id)];
  b.prev = tail_;
  b.next = -1;
  if (tail_ >= 0) blocks_[static_cast<size_t>(tail_)].next = id;
  else head_ = id;
  tail_ = id;
  ++num_free_;
  if (b.hash != 0) ++num_cached_free_;
}

std::optional<int32_t> BlockPool::Allocate() {
  if (head_ < 0) return std::nullopt;
  const int32_t id = head_;
  Unlink(id);
  Block& b = blocks_[static_cast<size_t>(id)];
  if (b.hash != 0) {
    auto it = by_hash_.find(b.hash);
    if (it != by_hash_.end() && it->second == id) by_hash_.erase(it);
    b.hash = 0;
  }
  b.ref = 1;
  return id;
}

std::optional<int32_t> BlockPool::TakeCached(uint64_t hash) {
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  const int32_t id = it->second;
  Block& b = blocks_[static_cast<size_t>(id)];
  if (b.ref == 0) Unlink(id);
  ++b.ref;
  return id;
}

void BlockPool::Ref(int32_t id) {
  Block& b = blocks_[static_cast<size_t>(id)];
  AX_CHECK(b.ref > 0);
  ++b.ref;
}

void BlockPool::Release(int32_t id) {
  Block& b = blocks_[static_cast<size_t>(id)];
  AX_CHECK(b.ref > 0);
  if (--b.ref == 0) PushBack(id);
}

void BlockPool::SetHash(int32_t id, uint64_t hash) {
  AX_CHECK(hash != 0);
  Block& b = blocks_[static_cast<size_t>(id)];
  AX_CHECK(b.ref > 0);
  if (b.hash == hash) return;
  b.hash = hash;
  by_hash_.emplace(hash, id);  // keeps an existing entry: first writer wins
}

std::vector<int32_t> BlockPool::FreeListForTest() const {
  std::vector<int32_t> out;
  for (int32_t id = head_; id >= 0; id = blocks_[static_cast<size_t>(id)].next) out.push_back(id);
  return out;
}

uint64_t BlockHash(uint64_t parent, const int32_t* tokens, int n) {
  uint64_t h = HashBytes(tokens, static_cast<size_t>(n) * sizeof(int32_t), parent);
  return h == 0 ? 1 : h;  // 0 means "no hash"
}

}  // namespace ax
