#include "model/forward_batch.h"

#include <algorithm>
#include <string>

#include "base/check.h"

namespace ax {

void ForwardBatch::AddSequence(const int32_t* ids, int64_t n, int32_t start_pos,
                               const std::vector<int32_t>& blocks, int block_size,
                               bool want_last_logits, bool want_all_logits, bool prompt) {
  AX_CHECK(block_size > 0 && n > 0);
  if (prompt) {
    AX_CHECK(n_prefill_rows == n_tokens());  // prompt chunks come before generated rows
    n_prefill_rows += n;
  }
  const int32_t begin = static_cast<int32_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    const int32_t pos = start_pos + static_cast<int32_t>(i);
    tokens.push_back(ids[i]);
    positions.push_back(pos);
    const size_t b = static_cast<size_t>(pos / block_size);
    slot_mapping.push_back(b < blocks.size() ? blocks[b] * block_size + pos % block_size : -1);
    if (want_all_logits || (want_last_logits && i == n - 1)) logit_rows.push_back(begin + static_cast<int32_t>(i));
  }
  seq_q_begin.push_back(begin);
  seq_q_len.push_back(static_cast<int32_t>(n));
  // Re-pack the block table with the new width.
  const int old_width = max_blocks_per_seq;
  const int width = std::max(old_width, static_cast<int>(blocks.size()));
  if (width != old_width) {
    std::vector<int32_t> wider(static_cast<size_t>(n_seqs() - 1) * width, -1);
    for (int s = 0; s < n_seqs() - 1; ++s)
      std::copy_n(block_tables.begin() + static_cast<ptrdiff_t>(s) * old_width, old_width,
                  wider.begin() + static_cast<ptrdiff_t>(s) * width);
    block_tables.swap(wider);
    max_blocks_per_seq = width;
  }
  const size_t row = block_tables.size();
  block_tables.resize(row + width, -1);
  std::copy(blocks.begin(), blocks.end(), block_tables.begin() + static_cast<ptrdiff_t>(row));
}

Status ForwardBatch::Validate(int64_t vocab_size, int64_t num_slots, int block_size) const {
  const size_t n = tokens.size();
  if (positions.size() != n || slot_mapping.size() != n)
    return InvalidArgument("forward batch: tokens, positions and slot_mapping differ in length");
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab_size)
      return InvalidArgument("token id " + std::to_string(tokens[i]) + " at row " + std::to_string(i) +
                             " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    if (slot_mapping[i] < 0 || slot_mapping[i] >= num_slots)
      return InvalidArgument("row " + std::to_string(i) + " (position " + std::to_string(positions[i]) +
                             ") has no KV slot: the sequence's block table is too short");
  }
  for (int s = 0; s < n_seqs(); ++s) {
    const int32_t* table = block_tables.data() + static_cast<size_t>(s) * max_blocks_per_seq;
    const int32_t last = seq_q_begin[s] + seq_q_len[s] - 1;
    const int32_t need = positions[last] / block_size + 1;
    if (need > max_blocks_per_seq) return InvalidArgument("sequence " + std::to_string(s) + ": block table too short");
    for (int32_t b = 0; b < need; ++b)
      if (table[b] < 0 || static_cast<int64_t>(table[b]) * block_size >= num_slots)
        return InvalidArgument("sequence " + std::to_string(s) + ": block " + std::to_string(b) + " is invalid");
  }
  for (int32_t r : logit_rows)
    if (r < 0 || static_cast<size_t>(r) >= n) return InvalidArgument("logit row out of range");
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
  m.n_tokens = n_tokens();
  m.n_prefill_rows = n_prefill_rows;
  m.n_seqs = n_seqs();
  m.max_blocks_per_seq = max_blocks_per_seq;
  m.n_logit_rows = static_cast<int64_t>(logit_rows.size());
  m.record = record;
  return m;
}

}  // namespace ax
