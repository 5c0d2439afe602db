// KvManager: per-sequence block tables over one BlockPool, with automatic prefix
// reuse through the chained block hash.
//
// Invariants (per sequence):
//   - blocks().size() * block_size >= the tokens the sequence may write this step;
//   - the first num_hashed() blocks are full, committed and hashed; they may be shared
//     with other sequences (ref > 1) and are never written again;
//   - every block past them belongs to this sequence alone, so writes never touch a
//     shared block (no copy-on-write is ever needed).
// Rolling back drafts (Truncate) only moves the length: whole blocks past the new end
// go back to the pool; no KV is copied.
//
// Worked example, block_size 4, prompt "a b c d e f g h i j" (10 tokens):
//   Attach: no hit → 0 cached. Grow(10) → 3 blocks [5, 6, 7].
//   After the forward, Commit(10): blocks 5 and 6 are full → hashed h1, h2 (chained).
//   A second request "a b c d e f g h x y": Attach finds h1, h2 → 8 tokens cached,
//   blocks [5, 6] shared (ref 2); it computes only "x y" into a new block.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "kv/block_pool.h"

namespace ax {

using SeqId = int64_t;

class KvManager {
 public:
  KvManager(int num_blocks, int block_size, bool prefix_caching = true);

  BlockPool& pool() { return pool_; }
  const BlockPool& pool() const { return pool_; }
  int block_size() const { return pool_.block_size(); }

  // Starts a sequence and takes the longest cached prefix of `tokens` in whole blocks,
  // leaving at least one token to compute (its logits are needed). Returns the
  // number of tokens whose KV is reused.
  int64_t Attach(SeqId seq, const std::vector<int32_t>& tokens);
  bool Has(SeqId seq) const { return seqs_.count(seq) > 0; }

  // New blocks needed for the sequence to hold total_tokens.
  int BlocksNeeded(SeqId seq, int64_t total_tokens) const;
  // Grows the table to hold total_tokens; false (and no change) if the pool lacks blocks.
  bool Grow(SeqId seq, int64_t total_tokens);
  // Records that KV for tokens[0, computed) is final (accepted): full blocks among
  // them get hashed for reuse by later requests.
  void Commit(SeqId seq, const std::vector<int32_t>& tokens, int64_t computed);
  // Shrinks the sequence to new_len tokens: releases whole blocks past it.
  // REQUIRES: new_len >= num_hashed(seq) * block_size.
  void Truncate(SeqId seq, int64_t new_len);
  // Releases every block of the sequence (finish, cancel, preemption).
  void Free(SeqId seq);

  const std::vector<int32_t>& blocks(SeqId seq) const;
  int num_hashed(SeqId seq) const;

 private:
  struct SeqState {
    std::vector<int32_t> blocks;
    int num_hashed = 0;
    uint64_t last_hash = 0;  // hash of block num_hashed-1 (chain parent)
  };
  BlockPool pool_;
  bool prefix_caching_;
  std::map<SeqId, SeqState> seqs_;
};

}  // namespace ax
