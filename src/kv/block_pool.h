// BlockPool: the flat pool of KV blocks — ref counts, an LRU free list, and the
// prefix-hash index of full blocks (nano-vllm / vLLM v1 style). Plain data: int32 ids
// into vectors, an index-linked free list, no pointers, no std::list.
//
//   blocks_:  [0] [1] [2] [3] [4] [5]        ref  hash
//   free list (LRU → MRU): 3 ⇄ 0 ⇄ 5         0    h(3) cached: evictable, reusable
//   in use: 1 (ref 2, shared prefix), 2, 4
//
// A freed block keeps its hash: a later request with the same prefix takes it back
// from the free list (a prefix hit). Allocation takes the least recently freed block
// and evicts its hash. Every operation is O(1) except hash lookups (O(1) expected).
//
// Thread-safety: none; the engine thread owns the pool. Deterministic: no decision
// depends on iteration over an unordered container.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace ax {

class BlockPool {
 public:
  BlockPool(int num_blocks, int block_size);

  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  int block_size() const { return block_size_; }
  int num_free() const { return num_free_; }          // ref 0, cached or not
  int num_cached_free() const { return num_cached_free_; }  // ref 0 with a hash
  int num_used() const { return num_blocks() - num_free_; }

  // Takes the least recently freed block (evicting its hash); nullopt when none is free.
  std::optional<int32_t> Allocate();
  // The cached block with this hash, if any, with its ref count raised (a prefix hit).
  std::optional<int32_t> TakeCached(uint64_t hash);
  // Whether a block holds this hash (in use or cached free); changes nothing.
  bool HasCached(uint64_t hash) const { return by_hash_.count(hash) > 0; }
  // Raises the ref count of a block in use (sharing it with another sequence).
  void Ref(int32_t id);
  // Drops one reference; at zero the block goes to the MRU end of the free list.
  void Release(int32_t id);
  // Marks a full block's content; makes it findable by TakeCached. If another block
  // already holds the hash, the index keeps the first one.
  void SetHash(int32_t id, uint64_t hash);

  int ref_count(int32_t id) const { return blocks_[static_cast<size_t>(id)].ref; }
  uint64_t hash(int32_t id) const { return blocks_[static_cast<size_t>(id)].hash; }
  // Free block ids in LRU order (for tests and scenario dumps).
  std::vector<int32_t> FreeListForTest() const;

 private:
  struct Block {
    int32_t ref = 0;
    uint64_t hash = 0;  // 0: no content hash
    int32_t prev = -1, next = -1;  // free-list links while ref == 0
  };
  void Unlink(int32_t id);
  void PushBack(int32_t id);

  int block_size_;
  std::vector<Block> blocks_;
  int32_t head_ = -1, tail_ = -1;
  int num_free_ = 0;
  int num_cached_free_ = 0;
  std::unordered_map<uint64_t, int32_t> by_hash_;
};

// Chained content hash of one full block: depends on every token before it.
uint64_t BlockHash(uint64_t parent, const int32_t* tokens, int n);

}  // namespace ax
