// How big each KV group's pool is (docs/kv-layout.md, "Sizing the pools").
//
// A full group (window 0) holds every context whole: its pool is the engine's
// num_blocks. A windowed group of window W holds per running sequence the blocks that
// position q0 - W + 1 on needs: between steps at most ceil((W - 1) / bs) + 1, and a
// step's chunk of n tokens adds at most ceil(n / bs) + 1 more, the chunks of one step
// adding up to max_batch_tokens. So
//
//   windowed pool = min(full_blocks, max_seqs * (ceil((W - 1) / bs) + 2) + ceil(max_batch_tokens / bs))
//
// is all the running sequences can hold at once: a windowed group does not make a
// request wait or preempt where the full group would not (min: short contexts need
// no more than the full group does). Example, Gemma 3 1B-like (W 512, bs 16, 16
// sequences of 4096 tokens, 512-token chunks): full 4096 blocks, windowed 576.
#pragma once

#include <cstdint>
#include <vector>

#include "kv/kv_manager.h"

namespace ax {

struct KvPlanParams {
  int block_size = 16;
  int max_seqs = 16;
  int64_t max_batch_tokens = 512;
};

// The most blocks max_seqs sequences hold at once in a group of `window` (> 0).
int64_t WindowPoolBlocks(int window, const KvPlanParams& p);

// One group per window (0: full) with its pool for `full_blocks` blocks per full group.
std::vector<KvGroupSpec> PlanKvGroups(const std::vector<int>& windows, int full_blocks, const KvPlanParams& p);

// Bytes the plan's pools take, bytes_per_block[g] being one block of group g.
int64_t PlanBytes(const std::vector<KvGroupSpec>& plan, const std::vector<int64_t>& bytes_per_block);

// The largest full_blocks in [1, max_full_blocks] whose plan takes at most
// budget_bytes (1 when none does): where the memory a windowed group saves goes to
// the full groups, i.e. to more or longer sequences.
int FullBlocksWithin(const std::vector<int>& windows, const std::vector<int64_t>& bytes_per_block,
                     int64_t budget_bytes, int64_t max_full_blocks, const KvPlanParams& p);

}  // namespace ax
