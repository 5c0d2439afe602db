#include "model/forward_batch.h"

#include <algorithm>
#include <string>

#include "base/check.h"

namespace ax {

void ForwardBatch::AddSequence(const int32_t* ids, int64_t n, int32_t start_pos,
                               std::span<const std::vector<int32_t>> tables, int block_size,
                               bool want_last_logits, bool want_all_logits, bool prompt) {
  AX_CHECK(block_size > 0 && n > 0 && !tables.empty());
  if (n_kv_groups == 0) n_kv_groups = static_cast<int>(tables.size());
  AX_CHECK(static_cast<int>(tables.size()) == n_kv_groups);  // one table per group, every sequence
  if (prompt) {
    AX_CHECK(n_prefill_rows == n_tokens());  // prompt chunks come before generated rows
    n_prefill_rows += n;
  }
  const size_t groups = tables.size();
  const int64_t old_n = n_tokens();
  const int32_t begin = static_cast<int32_t>(old_n);
  for (int64_t i = 0; i < n; ++i) {
    tokens.push_back(ids[i]);
    positions.push_back(start_pos + static_cast<int32_t>(i));
    if (want_all_logits || (want_last_logits && i == n - 1)) logit_rows.push_back(begin + static_cast<int32_t>(i));
  }
  // Slots [group][token]: each group's run grows by this chunk's n tokens.
  std::vector<int32_t> slots(groups * static_cast<size_t>(old_n + n));
  for (size_t g = 0; g < groups; ++g) {
    int32_t* run = slots.data() + g * static_cast<size_t>(old_n + n);
    std::copy_n(slot_mapping.begin() + static_cast<ptrdiff_t>(g * static_cast<size_t>(old_n)), old_n, run);
    const std::vector<int32_t>& blocks = tables[g];
    for (int64_t i = 0; i < n; ++i) {
      const int32_t pos = start_pos + static_cast<int32_t>(i);
      const size_t b = static_cast<size_t>(pos / block_size);
      run[old_n + i] = b < blocks.size() && blocks[b] >= 0 ? blocks[b] * block_size + pos % block_size : -1;
    }
  }
  slot_mapping.swap(slots);
  seq_q_begin.push_back(begin);
  seq_q_len.push_back(static_cast<int32_t>(n));
  state_slots.push_back(static_cast<int32_t>(state_slots.size()));
  keep_states.push_back(0);
  // Tables [group][sequence][width], re-packed when the width grows.
  const int seqs = n_seqs(), old_width = max_blocks_per_seq;
  int width = old_width;
  for (const std::vector<int32_t>& t : tables) width = std::max(width, static_cast<int>(t.size()));
  std::vector<int32_t> packed(groups * static_cast<size_t>(seqs) * static_cast<size_t>(width), -1);
  for (size_t g = 0; g < groups; ++g) {
    int32_t* dst = packed.data() + g * static_cast<size_t>(seqs) * width;
    const int32_t* src = block_tables.data() + g * static_cast<size_t>(seqs - 1) * old_width;
    for (int s = 0; s < seqs - 1; ++s)
      std::copy_n(src + static_cast<ptrdiff_t>(s) * old_width, old_width, dst + static_cast<ptrdiff_t>(s) * width);
    std::copy(tables[g].begin(), tables[g].end(), dst + static_cast<ptrdiff_t>(seqs - 1) * width);
  }
  block_tables.swap(packed);
  max_blocks_per_seq = width;
}

Status ForwardBatch::Validate(int64_t vocab_size, const KvCache& kv) const {
  const size_t n = tokens.size();
  const int groups = n_seqs() > 0 ? n_kv_groups : static_cast<int>(kv.groups.size());
  if (groups != static_cast<int>(kv.groups.size()))
    return InvalidArgument("forward batch: " + std::to_string(groups) +
                           " block tables per sequence, the KV cache has " + std::to_string(kv.groups.size()) +
                           " groups");
  if (positions.size() != n || slot_mapping.size() != n * static_cast<size_t>(n_seqs() > 0 ? groups : 0))
    return InvalidArgument("forward batch: tokens, positions and slot_mapping differ in length");
  const int bs = kv.block_size;
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab_size)
      return InvalidArgument("token id " + std::to_string(tokens[i]) + " at row " + std::to_string(i) +
                             " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    for (int g = 0; g < groups; ++g) {
      const int32_t slot = slot_mapping[static_cast<size_t>(g) * n + i];
      if (slot < 0 || slot >= kv.groups[static_cast<size_t>(g)].num_slots(bs))
        return InvalidArgument("row " + std::to_string(i) + " (position " + std::to_string(positions[i]) +
                               ") has no KV slot in group " + std::to_string(g) +
                               ": the sequence's block table is too short");
    }
  }
  for (int g = 0; g < groups; ++g) {
    const KvGroup& group = kv.groups[static_cast<size_t>(g)];
    for (int s = 0; s < n_seqs(); ++s) {
      const int32_t* table =
          block_tables.data() + (static_cast<size_t>(g) * n_seqs() + static_cast<size_t>(s)) * max_blocks_per_seq;
      const int32_t first = seq_q_begin[s], last = first + seq_q_len[s] - 1;
      const int32_t need = positions[last] / bs + 1;
      // A windowed group's rows read from the first row's window on; earlier entries may be released.
      const int32_t from = group.window > 0 ? std::max(0, positions[first] - group.window + 1) / bs : 0;
      if (need > max_blocks_per_seq)
        return InvalidArgument("sequence " + std::to_string(s) + ": block table too short");
      for (int32_t b = from; b < need; ++b)
        if (table[b] < 0 || table[b] >= group.num_blocks)
          return InvalidArgument("sequence " + std::to_string(s) + ": block " + std::to_string(b) + " of group " +
                                 std::to_string(g) + " is invalid");
    }
  }
  for (int32_t r : logit_rows)
    if (r < 0 || static_cast<size_t>(r) >= n) return InvalidArgument("logit row out of range");
  return ValidateStateSlots(kv);
}

Status ForwardBatch::ValidateStateSlots(const KvCache& kv) const {
  if (kv.num_state_slots == 0) return Status::Ok();
  if (state_slots.size() != static_cast<size_t>(n_seqs()))
    return InvalidArgument("forward batch: " + std::to_string(state_slots.size()) + " state slots for " +
                           std::to_string(n_seqs()) + " sequences");
  for (int s = 0; s < n_seqs(); ++s) {
    const int32_t slot = state_slots[static_cast<size_t>(s)];
    if (slot < 0 || slot >= kv.num_state_slots)
      return InvalidArgument("sequence " + std::to_string(s) + ": state slot " + std::to_string(slot) +
                             " outside [0, " + std::to_string(kv.num_state_slots) + ")");
    if (keep_states.size() == state_slots.size() && keep_states[static_cast<size_t>(s)] != 0 &&
        seq_q_len[s] - 1 > kv.state_checkpoints)
      return InvalidArgument("sequence " + std::to_string(s) + ": keeps the state after " +
                             std::to_string(seq_q_len[s] - 1) + " rows, the cache has " +
                             std::to_string(kv.state_checkpoints) + " checkpoints per slot");
    // An earlier chunk of the same slot must end where this one starts (one sequence, in order).
    for (int e = s - 1; e >= 0; --e) {
      if (state_slots[static_cast<size_t>(e)] != slot) continue;
      const int32_t end = positions[static_cast<size_t>(seq_q_begin[e] + seq_q_len[e] - 1)] + 1;
      if (end != positions[static_cast<size_t>(seq_q_begin[s])])
        return InvalidArgument("sequences " + std::to_string(e) + " and " + std::to_string(s) + " share state slot " +
                               std::to_string(slot) + " but are not consecutive chunks of one sequence");
      break;
    }
  }
  return Status::Ok();
}

BatchMeta ForwardBatch::meta() const {
  BatchMeta m;
  m.tokens = tokens.data();
  m.positions = positions.data();
  m.slot_mapping = slot_mapping.data();
  m.seq_q_begin = seq_q_begin.data();
  m.seq_q_len = seq_q_len.data();
  m.block_tables = block_tables.data();
  m.logit_rows = logit_rows.data();
  m.state_slots = state_slots.data();
  m.state_keep = keep_states.data();
  m.n_tokens = n_tokens();
  m.n_prefill_rows = n_prefill_rows;
  m.n_seqs = n_seqs();
  m.max_blocks_per_seq = max_blocks_per_seq;
  m.n_kv_groups = std::max(1, n_kv_groups);
  m.n_logit_rows = static_cast<int64_t>(logit_rows.size());
  m.record = record;
  return m;
}

}  // namespace ax
