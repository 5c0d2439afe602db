// ForwardBatch: everything one forward pass needs, and nothing about requests,
// scheduling or HTTP. Batching, paged KV, drafts and state slots add fields here,
// never new forward variants.
//
// Example: two sequences, A decoding its 41st token (position 40) and B prefilling a
// chunk of 3 tokens at positions 16..18, block size 16:
//   tokens       = [a40, b16, b17, b18]
//   positions    = [40,  16,  17,  18]
//   seq_q_begin  = [0, 1]     seq_q_len = [1, 3]
//   block_tables = [[7, 2, 9], [4, 5, -1]]  (max_blocks_per_seq = 3)
//   slot_mapping = [9*16+8, 5*16+0, 5*16+1, 5*16+2]
//   logit_rows   = [0, 3]     (A's token, B's last prompt token)
//
// With several KV groups (model/memory.h) each group has its own tables and slots,
// group after group: block_tables [n_kv_groups][n_seqs][max_blocks_per_seq] and
// slot_mapping [n_kv_groups][n_tokens]. A windowed group's entries behind its window
// are -1 (released); nothing reads them.
//
// Models with recurrent layers (GatedDelta, model/memory.h kRecurrent) read and update
// one state slot per sequence: state_slots [n_seqs], sequence s's slot (AddSequence
// gives it slot s; a caller with a slot pool, the engine, sets its own). Two sequences
// of one batch may name the same slot only as consecutive chunks of one sequence (the
// later starting where the earlier ends), which the backend runs in batch order.
//
// Prompt chunks come first: rows [0, n_prefill_rows) are prompt tokens and every
// later row is a generated token or a draft (so B above would be added before A).
// The backend computes the two classes with different matmul kernels, each
// batch-invariant, so a row's numbers never depend on its neighbours.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ax/status.h"
#include "backend/backend.h"
#include "model/memory.h"

namespace ax {

struct ForwardBatch {
  std::vector<int32_t> tokens;        // [n_tokens]
  std::vector<int32_t> positions;     // [n_tokens]
  std::vector<int32_t> slot_mapping;  // [n_kv_groups, n_tokens]
  std::vector<int32_t> seq_q_begin;   // [n_seqs]
  std::vector<int32_t> seq_q_len;     // [n_seqs]
  std::vector<int32_t> block_tables;  // [n_kv_groups, n_seqs, max_blocks_per_seq], -1 past the end
  int max_blocks_per_seq = 0;
  int n_kv_groups = 0;                // set by the first AddSequence
  std::vector<int32_t> state_slots;   // [n_seqs] recurrent state slot per sequence
  // [n_seqs] nonzero: keep the state after each of the sequence's rows but the last in
  // its slot's checkpoints (a draft verification; Model::RestoreState rolls back to
  // one). 0 from AddSequence.
  std::vector<int32_t> keep_states;
  std::vector<int32_t> logit_rows;    // ascending token rows that need logits
  int64_t n_prefill_rows = 0;         // leading rows that are prompt tokens
  bool record = true;                 // BatchMeta::record: false for a one-off step shape

  int64_t n_tokens() const { return static_cast<int64_t>(tokens.size()); }
  int n_seqs() const { return static_cast<int>(seq_q_begin.size()); }

  // Appends one sequence's chunk: tokens at consecutive positions starting at
  // `start_pos`, KV in `tables` (one block table per KV group, block_size tokens a
  // block); logits for its last token when want_last_logits, or for all its tokens
  // when want_all_logits. `prompt`: these are prompt tokens (REQUIRES: no generated
  // rows were added yet). REQUIRES: every sequence gives the same number of tables.
  void AddSequence(const int32_t* ids, int64_t n, int32_t start_pos, std::span<const std::vector<int32_t>> tables,
                   int block_size, bool want_last_logits, bool want_all_logits = false, bool prompt = false);
  // One table (one KV group).
  void AddSequence(const int32_t* ids, int64_t n, int32_t start_pos, const std::vector<int32_t>& blocks,
                   int block_size, bool want_last_logits, bool want_all_logits = false, bool prompt = false) {
    AddSequence(ids, n, start_pos, std::span<const std::vector<int32_t>>(&blocks, 1), block_size, want_last_logits,
                want_all_logits, prompt);
  }

  // Checks ids, positions, slots and tables against the model and the cache's groups:
  // every row has a slot in every group, and every block a row reads is there (in a
  // windowed group, from its window's first position on); errors name the offending
  // row or sequence.
  Status Validate(int64_t vocab_size, const KvCache& kv) const;
  // The state slots against the cache's (no check when it has none).
  Status ValidateStateSlots(const KvCache& kv) const;

  BatchMeta meta() const;
};

}  // namespace ax
