// Host-side batch metadata for the CUDA op tests and benchmarks: the arrays of a
// BatchMeta, owned, so a test can fill them and stage them with BeginForward.
// (No gtest dependency: bench_cuda_ops includes it too.)
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"

namespace ax::cuda_testing {

struct StagedBatch {
  std::vector<int32_t> tokens, positions, slots, q_begin{0}, q_len, tables, logit_rows;
  std::vector<float> inv_temperature;  // [logit rows] when not empty (row_mass)
  std::vector<int32_t> pen_begin;      // [logit rows + 1] when not empty (penalties)
  std::vector<LogitPenalty> pen_entries;
  std::vector<float> pen_repetition;
  std::vector<double> pen_presence;
  int64_t prefill_rows = 0;  // leading prompt rows (the prefill kernels); 0: generated rows
  int groups = 1;            // KV groups: slots [groups][tokens], tables [groups][seqs][width]
  BatchMeta meta() const {
    BatchMeta m;
    m.n_prefill_rows = prefill_rows;
    m.tokens = tokens.data();
    m.positions = positions.data();
    m.slot_mapping = slots.data();
    m.seq_q_begin = q_begin.data();
    m.seq_q_len = q_len.data();
    m.block_tables = tables.data();
    m.logit_rows = logit_rows.data();
    m.n_tokens = static_cast<int64_t>(tokens.size());
    m.n_seqs = static_cast<int>(q_begin.size());
    m.max_blocks_per_seq = tables.empty() ? 0 : static_cast<int>(tables.size() / (q_begin.size() * groups));
    m.n_kv_groups = groups;
    m.n_logit_rows = static_cast<int64_t>(logit_rows.size());
    m.row_mass = !inv_temperature.empty();
    m.logit_inv_temperature = m.row_mass ? inv_temperature.data() : nullptr;
    if (!pen_begin.empty())
      m.penalties = {pen_begin.data(), pen_entries.data(), pen_repetition.data(), pen_presence.data()};
    return m;
  }
};

}  // namespace ax::cuda_testing
