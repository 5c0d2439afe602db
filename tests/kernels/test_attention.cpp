// cpu::Attention vs ref::Attention over a paged cache: several sequences of different
// lengths with block tables in scrambled order, a prefill, a decode row and chunks in
// the middle of sequences (positions not starting at 0), GQA ratios 1/2/4/12, head_dim
// 8/12/64/128/256, two block sizes, 1/2/3 threads; sliding windows (1 key to more than
// the context) and the attention-logit softcap. Cache slots that no query may read and
// output rows outside every sequence are NaN-poisoned. With a window, the same rows
// again with the table entries behind each sequence's window released. Every case in
// each cache layout (head-major, slot-major) and dtype (f32, bf16).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

// A sequence's query rows are the positions [first_pos, first_pos + len); its cache
// holds positions [0, first_pos + len) (KvWrite already ran for the chunk).
struct SeqSpec {
  int first_pos, len;
};

struct AttentionCase {
  int n_heads, n_kv_heads, head_dim, block_size;
  int window = 0;
  float softcap = 0.0f;
  KvLayout layout = KvLayout::kHeadMajor;
  DType cache_dtype = DType::kF32;
};

void CheckAttentionIn(const AttentionCase& c) {
  SCOPED_TRACE("heads=" + std::to_string(c.n_heads) + " kv_heads=" + std::to_string(c.n_kv_heads) +
               " head_dim=" + std::to_string(c.head_dim) + " block=" + std::to_string(c.block_size) +
               " window=" + std::to_string(c.window) + " softcap=" + std::to_string(c.softcap) +
               (c.layout == KvLayout::kHeadMajor ? " head-major " : " slot-major ") + DTypeName(c.cache_dtype));
  // Middle chunk, decode row, full prefill, short chunk; rows laid out with a gap row
  // (index 17) that belongs to no sequence and must stay poisoned.
  const std::vector<SeqSpec> seqs = {{20, 17}, {4, 1}, {0, 70}, {33, 2}};
  const std::vector<int32_t> q_begin = {0, 18, 19, 89};
  const int n_tokens = 91;
  const int n_seqs = static_cast<int>(seqs.size());
  const int hd = c.head_dim, bs = c.block_size;
  const int64_t slot_row = static_cast<int64_t>(c.n_kv_heads) * hd;

  // Block tables: every sequence's logical blocks map to a scrambled set of physical
  // blocks out of a pool with spares; unused table entries are -1.
  int max_blocks = 0, used = 0;
  for (const SeqSpec& s : seqs) {
    const int nb = (s.first_pos + s.len + bs - 1) / bs;
    max_blocks = std::max(max_blocks, nb + 1);
    used += nb;
  }
  const int n_blocks = used + 3;
  std::vector<int32_t> perm(n_blocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(61 + bs));
  std::vector<int32_t> tables(static_cast<size_t>(n_seqs) * max_blocks, -1);
  // Both dtypes' caches are filled; the case's is read. Poisoned bf16 stays NaN.
  std::vector<float> k_cache(static_cast<size_t>(n_blocks) * bs * slot_row, kPoison);
  std::vector<float> v_cache = k_cache;
  std::vector<uint16_t> k_bf16(k_cache.size(), F32ToBf16(kPoison)), v_bf16 = k_bf16;
  std::mt19937 rng(62 + hd);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int s = 0, next = 0; s < n_seqs; ++s) {
    const int ctx = seqs[s].first_pos + seqs[s].len;
    for (int b = 0; b * bs < ctx; ++b) tables[s * max_blocks + b] = perm[next++];
    for (int pos = 0; pos < ctx; ++pos) {
      const int64_t slot = static_cast<int64_t>(tables[s * max_blocks + pos / bs]) * bs + pos % bs;
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const int64_t at = KvRowOffset(c.layout, slot, h, c.n_kv_heads, hd, bs);
        for (int64_t d = 0; d < hd; ++d) {
          k_cache[at + d] = dist(rng);
          v_cache[at + d] = dist(rng);
          k_bf16[at + d] = F32ToBf16(k_cache[at + d]);
          v_bf16[at + d] = F32ToBf16(v_cache[at + d]);
        }
      }
    }
  }

  std::vector<int32_t> positions(n_tokens, 0), q_len(n_seqs);
  for (int s = 0; s < n_seqs; ++s) {
    q_len[s] = seqs[s].len;
    for (int i = 0; i < seqs[s].len; ++i) positions[q_begin[s] + i] = seqs[s].first_pos + i;
  }
  // Large-ish q so some softmax rows are peaked (exercises the running-max rescale).
  const std::vector<float> q =
      testing::RandomF32(static_cast<size_t>(n_tokens) * c.n_heads * hd, 63 + hd, -4.0f, 4.0f);

  AttentionParams p;
  p.q = q.data();
  const bool bf16 = c.cache_dtype == DType::kBF16;
  p.k_cache = bf16 ? static_cast<const void*>(k_bf16.data()) : k_cache.data();
  p.v_cache = bf16 ? static_cast<const void*>(v_bf16.data()) : v_cache.data();
  p.layout = c.layout;
  p.cache_dtype = c.cache_dtype;
  p.positions = positions.data();
  p.seq_q_begin = q_begin.data();
  p.seq_q_len = q_len.data();
  p.block_tables = tables.data();
  p.n_seqs = n_seqs;
  p.max_blocks_per_seq = max_blocks;
  p.n_heads = c.n_heads;
  p.n_kv_heads = c.n_kv_heads;
  p.head_dim = hd;
  p.block_size = bs;
  p.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  p.window = c.window;
  p.softcap = c.softcap;

  const size_t out_size = static_cast<size_t>(n_tokens) * c.n_heads * hd;
  std::vector<float> want(out_size, kPoison);
  p.out = want.data();
  ref::Attention(p);

  // A windowed layer's KV group releases the blocks behind the window: table entries
  // before the block of (first query position - window + 1) become ids far outside
  // the cache, so a kernel that dereferenced one would fault, not pass.
  std::vector<int32_t> released = tables;
  if (c.window > 0) {
    for (int s = 0; s < n_seqs; ++s) {
      const int first_block = std::max(0, seqs[s].first_pos - c.window + 1) / bs;
      for (int b = 0; b < first_block; ++b) released[s * max_blocks + b] = 1 << 30;
    }
  }
  // Each thread count with the whole tables, then (windowed) with the released ones.
  constexpr int kThreadVariants = static_cast<int>(std::size(testing::kThreadCounts));
  for (int variant = 0; variant < (c.window > 0 ? 2 : 1) * kThreadVariants; ++variant) {
    const int threads = testing::kThreadCounts[variant % kThreadVariants];
    p.block_tables = variant < kThreadVariants ? tables.data() : released.data();
    SCOPED_TRACE(variant < kThreadVariants ? "whole tables" : "released tables");
    std::vector<float> got(out_size, kPoison);
    p.out = got.data();
    cpu::Attention(p, Pool(threads));
    int bad = 0;
    for (size_t i = 0; i < out_size && bad < 5; ++i) {
      const int64_t row = static_cast<int64_t>(i) / (static_cast<int64_t>(c.n_heads) * hd);
      if (row == 17) {  // the gap row
        if (!std::isnan(got[i])) {
          ADD_FAILURE() << "threads=" << threads << " wrote gap row element " << i;
          ++bad;
        }
        continue;
      }
      if (!(std::fabs(got[i] - want[i]) <= 2e-5)) {
        ADD_FAILURE() << "threads=" << threads << " row " << row << " elem " << i << ": " << got[i]
                      << ", want " << want[i];
        ++bad;
      }
    }
  }
}

void CheckAttention(AttentionCase c) {
  for (KvLayout layout : {KvLayout::kHeadMajor, KvLayout::kSlotMajor}) {
    for (DType dtype : {DType::kF32, DType::kBF16}) {
      c.layout = layout;
      c.cache_dtype = dtype;
      CheckAttentionIn(c);
    }
  }
}

TEST(AttentionTest, PagedCausalGqaMatchesRef) {
  for (int bs : {16, 5}) {
    for (int hd : {8, 12, 64, 128}) {
      for (auto [h, kvh] : {std::pair{2, 2}, std::pair{4, 2}, std::pair{8, 2}, std::pair{12, 1}}) {
        CheckAttention({h, kvh, hd, bs});
      }
    }
  }
}

// Gemma's sliding-window layers (a query at p sees (p - window, p]) and softcapped
// scores; windows from a single key to longer than every context, block sizes that do
// and do not divide them, and Gemma's head_dim 256.
TEST(AttentionTest, SlidingWindowAndSoftcapMatchRef) {
  for (int window : {1, 3, 7, 16, 40, 1000}) {
    for (int bs : {16, 5}) {
      CheckAttention({4, 2, 64, bs, window, 0.0f});
      CheckAttention({8, 2, 12, bs, window, 50.0f});
    }
  }
  CheckAttention({4, 1, 256, 16, 9, 50.0f});
  CheckAttention({2, 1, 256, 16, 0, 0.0f});
}

// Block size 1: one slot per block, the most scattered table.
TEST(AttentionTest, BlockSizeOne) {
  CheckAttention({4, 1, 64, 1});
}

}  // namespace
}  // namespace ax::kernels
