// KvManager: per-sequence block tables over one BlockPool per KV group, with automatic
// prefix reuse through the chained block hash.
//
// KV groups (docs/kv-layout.md): the layers of one attention window share a block
// table and a pool. A full group (window 0) keeps every block of the context; a
// windowed group (window W) gives back the blocks whose every position is at or before
// q0 - W, q0 being the sequence's committed length (the first position a later forward
// computes: every query from q0 on sees keys (q - W, q] only). Their table entries
// become kNoBlock; the tables of one sequence always have the same length.
//
//   block_size 4, window 6, committed length 14 (q0 = 14: keys from 9 on are needed)
//   full group     [3, 8, 1, 6]       positions 0..15
//   windowed group [-, -, 5, 2]       block 0 (0..3) and block 1 (4..7) are behind 8
//
// Invariants (per sequence, every group):
//   - the tables cover the tokens the sequence may write this step;
//   - the first num_hashed() blocks are full, committed and hashed; they may be shared
//     with other sequences (ref > 1) and are never written again;
//   - every block past them belongs to this sequence alone, so writes never touch a
//     shared block (no copy-on-write is ever needed);
//   - a windowed group's released entries are all behind its window of the committed
//     length, never of a draft position: a draft rollback never needs one back.
// Rolling back drafts (Truncate) only moves the length: whole blocks past the new end
// go back to the pool; no KV is copied.
//
// Worked example, one full group, block_size 4, prompt "a b c d e f g h i j" (10 tokens):
//   Attach: no hit → 0 cached. Grow(10) → 3 blocks [5, 6, 7].
//   After the forward, Commit(10): blocks 5 and 6 are full → hashed h1, h2 (chained).
//   A second request "a b c d e f g h x y": Attach finds h1, h2 → 8 tokens cached,
//   blocks [5, 6] shared (ref 2); it computes only "x y" into a new block.
// With a windowed group as well, the hit must also find the windowed group's blocks
// that the first computed token sees (Attach says how a shorter hit is chosen).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "kv/block_pool.h"

namespace ax {

using SeqId = int64_t;

// A released (or never needed) table entry of a windowed group.
constexpr int32_t kNoBlock = -1;

struct KvGroupSpec {
  int window = 0;      // 0: full attention, keeps every block; > 0: releases behind the window
  int num_blocks = 0;  // this group's pool
};

class KvManager {
 public:
  // One full group: every layer addressed by one table.
  KvManager(int num_blocks, int block_size, bool prefix_caching = true);
  // REQUIRES: at least one group, each with blocks; windows >= 0.
  KvManager(const std::vector<KvGroupSpec>& groups, int block_size, bool prefix_caching = true);

  int num_groups() const { return static_cast<int>(groups_.size()); }
  int window(int group) const { return groups_[static_cast<size_t>(group)].window; }
  BlockPool& pool(int group = 0) { return groups_[static_cast<size_t>(group)].pool; }
  const BlockPool& pool(int group = 0) const { return groups_[static_cast<size_t>(group)].pool; }
  int block_size() const { return block_size_; }
  // Over every group.
  int num_used() const;
  int num_free() const;
  int num_cached_free() const;
  int num_blocks() const;

  // Starts a sequence and takes the longest cached prefix of `tokens` in whole blocks
  // that every group holds, leaving at least one token to compute (its logits are
  // needed). A hit of L blocks needs the full groups' blocks [0, L) and each windowed
  // group's blocks that position L * block_size sees: [max(0, L*bs - W + 1) / bs, L).
  // Where a windowed group's block is gone the hit is the longest shorter L whose
  // blocks are all there (0: a miss), never a hit over a missing block. Returns the
  // number of tokens whose KV is reused.
  int64_t Attach(SeqId seq, const std::vector<int32_t>& tokens);
  bool Has(SeqId seq) const { return seqs_.count(seq) > 0; }

  // New blocks group `group` needs for the sequence to hold total_tokens.
  int BlocksNeeded(SeqId seq, int64_t total_tokens, int group = 0) const;
  // Whether every group's pool has the blocks to hold total_tokens.
  bool CanGrow(SeqId seq, int64_t total_tokens) const;
  // Grows the tables to hold total_tokens; false (and no change) if a pool lacks blocks.
  bool Grow(SeqId seq, int64_t total_tokens);
  // Records that KV for tokens[0, computed) is final (accepted; drafts excluded): full
  // blocks among them get hashed for reuse by later requests, and windowed groups
  // release the blocks behind their window of `computed`.
  void Commit(SeqId seq, const std::vector<int32_t>& tokens, int64_t computed);
  // Shrinks the sequence to new_len tokens: releases whole blocks past it.
  // REQUIRES: new_len >= num_hashed(seq) * block_size, and new_len >= the committed
  // length the windowed groups released behind.
  void Truncate(SeqId seq, int64_t new_len);
  // Releases every block of the sequence (finish, cancel, preemption).
  void Free(SeqId seq);

  // The sequence's table in `group` (kNoBlock entries: released).
  const std::vector<int32_t>& blocks(SeqId seq, int group = 0) const;
  // Every group's table, in group order.
  const std::vector<std::vector<int32_t>>& tables(SeqId seq) const;
  int num_hashed(SeqId seq) const;
  // The most blocks of `group` one sequence of total_tokens holds at once when forwards
  // compute at most max_chunk of its tokens each (Scheduler::CheckFits).
  int64_t PeakBlocks(int group, int64_t total_tokens, int64_t max_chunk) const;

 private:
  struct Group {
    int window;
    BlockPool pool;
  };
  struct SeqState {
    std::vector<std::vector<int32_t>> tables;  // [group][block]
    std::vector<int> released;                 // per group: entries [0, released) are kNoBlock
    int num_hashed = 0;
    uint64_t last_hash = 0;  // hash of block num_hashed-1 (chain parent)
  };
  // First block a forward starting at position q0 reads in a group of `window`.
  int64_t FirstNeededBlock(int window, int64_t q0) const;
  void ReleaseBehindWindow(SeqState& s, int64_t committed);

  int block_size_;
  bool prefix_caching_;
  std::vector<Group> groups_;
  std::map<SeqId, SeqState> seqs_;
};

}  // namespace ax
