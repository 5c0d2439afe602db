// Decode attention (one query token per sequence), the walk every generated token takes:
// the AVX-512 walk (attention_wide.cpp) gives the AVX2 walk's bits, and both match
// ref::Attention. Batches of decode rows at odd context lengths (1 key to several
// hundred blocks, lengths that end mid-block), GQA groups 1..12 (12 splits into tiles of
// 8 and 4 heads), head_dim 16..256 and 8/12 (which stay on AVX2), block sizes 1, 5 and
// 16, bf16 and f32 caches, sliding windows whose released table entries point outside
// the cache, softcaps; 1/2/3 threads. Output rows outside every sequence stay NaN.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

struct DecodeCase {
  int n_heads, n_kv_heads, head_dim, block_size;
  DType dtype;
  int window = 0;
  float softcap = 0.0f;
};

// Every sequence's cache, tables and its one query row; row 1 belongs to no sequence.
struct DecodeBatch {
  std::vector<int> ctx;  // keys per sequence (its query sits at position ctx - 1)
  std::vector<float> kf, vf;
  std::vector<uint16_t> kb, vb;
  std::vector<int32_t> tables, positions, q_begin, q_len;
  std::vector<float> q;
  int max_blocks = 0, n_tokens = 0;
  AttentionParams p;
};

void Build(const DecodeCase& c, const std::vector<int>& ctx, DecodeBatch& b) {
  const int hd = c.head_dim, bs = c.block_size, n_seqs = static_cast<int>(ctx.size());
  b.ctx = ctx;
  int used = 0;
  for (int n : ctx) {
    b.max_blocks = std::max(b.max_blocks, (n + bs - 1) / bs + 1);
    used += (n + bs - 1) / bs;
  }
  const int n_blocks = used + 2;
  std::vector<int32_t> perm(n_blocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(71 + bs));
  const size_t cache = static_cast<size_t>(n_blocks) * bs * c.n_kv_heads * hd;
  b.kf.assign(cache, kPoison);
  b.vf.assign(cache, kPoison);
  b.kb.assign(cache, F32ToBf16(kPoison));
  b.vb.assign(cache, F32ToBf16(kPoison));
  b.tables.assign(static_cast<size_t>(n_seqs) * b.max_blocks, -1);
  std::mt19937 rng(72 + hd);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int s = 0, next = 0; s < n_seqs; ++s) {
    for (int blk = 0; blk * bs < ctx[s]; ++blk) b.tables[s * b.max_blocks + blk] = perm[next++];
    for (int pos = 0; pos < ctx[s]; ++pos) {
      const int64_t slot = static_cast<int64_t>(b.tables[s * b.max_blocks + pos / bs]) * bs + pos % bs;
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const int64_t at = KvRowOffset(KvLayout::kHeadMajor, slot, h, c.n_kv_heads, hd, bs);
        for (int d = 0; d < hd; ++d) {
          b.kb[at + d] = F32ToBf16(dist(rng));
          b.vb[at + d] = F32ToBf16(dist(rng));
          b.kf[at + d] = c.dtype == DType::kBF16 ? Bf16ToF32(b.kb[at + d]) : dist(rng);
          b.vf[at + d] = c.dtype == DType::kBF16 ? Bf16ToF32(b.vb[at + d]) : dist(rng);
        }
      }
    }
  }
  // Rows: sequence s at row s (s == 0) or s + 1: row 1 is a gap.
  b.n_tokens = n_seqs + 1;
  b.positions.assign(b.n_tokens, 0);
  b.q_begin.resize(n_seqs);
  b.q_len.assign(n_seqs, 1);
  for (int s = 0; s < n_seqs; ++s) {
    b.q_begin[s] = s == 0 ? 0 : s + 1;
    b.positions[b.q_begin[s]] = ctx[s] - 1;
  }
  b.q = testing::RandomF32(static_cast<size_t>(b.n_tokens) * c.n_heads * hd, 73 + hd, -4.0f, 4.0f);

  AttentionParams& p = b.p;
  p.q = b.q.data();
  const bool bf16 = c.dtype == DType::kBF16;
  p.k_cache = bf16 ? static_cast<const void*>(b.kb.data()) : b.kf.data();
  p.v_cache = bf16 ? static_cast<const void*>(b.vb.data()) : b.vf.data();
  p.layout = KvLayout::kHeadMajor;
  p.cache_dtype = c.dtype;
  p.positions = b.positions.data();
  p.seq_q_begin = b.q_begin.data();
  p.seq_q_len = b.q_len.data();
  p.block_tables = b.tables.data();
  p.n_seqs = n_seqs;
  p.max_blocks_per_seq = b.max_blocks;
  p.n_heads = c.n_heads;
  p.n_kv_heads = c.n_kv_heads;
  p.head_dim = hd;
  p.block_size = bs;
  p.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  p.window = c.window;
  p.softcap = c.softcap;
}

void CheckDecode(const DecodeCase& c, const std::vector<int>& ctx) {
  SCOPED_TRACE("heads=" + std::to_string(c.n_heads) + " kv_heads=" + std::to_string(c.n_kv_heads) +
               " head_dim=" + std::to_string(c.head_dim) + " block=" + std::to_string(c.block_size) + " " +
               DTypeName(c.dtype) + " window=" + std::to_string(c.window) + " softcap=" + std::to_string(c.softcap));
  DecodeBatch b;
  Build(c, ctx, b);
  const size_t out_size = static_cast<size_t>(b.n_tokens) * c.n_heads * c.head_dim;
  std::vector<float> want(out_size, kPoison);
  b.p.out = want.data();
  ref::Attention(b.p);

  // With a window, the table entries wholly behind it are released: ids far outside the
  // cache, so a walk that read one would fault.
  if (c.window > 0) {
    for (size_t s = 0; s < ctx.size(); ++s) {
      const int first_block = std::max(0, ctx[s] - c.window) / c.block_size;
      for (int blk = 0; blk < first_block; ++blk) b.tables[s * b.max_blocks + blk] = 1 << 30;
    }
  }
  const bool wide_ok = cpu::CpuHasAvx512Vl();
  for (int threads : testing::kThreadCounts) {
    std::vector<float> narrow(out_size, kPoison), wide(out_size, kPoison);
    b.p.out = narrow.data();
    cpu::detail::AttentionAvx2(b.p, Pool(threads));
    if (wide_ok) {
      b.p.out = wide.data();
      cpu::detail::AttentionWide(b.p, Pool(threads));
      EXPECT_EQ(0, std::memcmp(narrow.data(), wide.data(), out_size * sizeof(float))) << "threads=" << threads;
    }
    int bad = 0;
    const int64_t row_elems = static_cast<int64_t>(c.n_heads) * c.head_dim;
    for (size_t i = 0; i < out_size && bad < 5; ++i) {
      if (static_cast<int64_t>(i) / row_elems == 1) {  // the gap row
        if (!std::isnan(narrow[i]) || (wide_ok && !std::isnan(wide[i]))) {
          ADD_FAILURE() << "threads=" << threads << " wrote gap row element " << i;
          ++bad;
        }
        continue;
      }
      if (!(std::fabs(narrow[i] - want[i]) <= 2e-5)) {
        ADD_FAILURE() << "threads=" << threads << " elem " << i << ": " << narrow[i] << ", want " << want[i];
        ++bad;
      }
    }
  }
}

const std::vector<int> kContexts = {1, 2, 7, 16, 17, 33, 100, 257, 1000};

TEST(AttentionDecodeTest, WideEqualsAvx2AndRef) {
  for (DType dt : {DType::kBF16, DType::kF32}) {
    for (int bs : {16, 5}) {
      for (int hd : {16, 64, 128, 256, 8, 12}) {
        for (auto [h, kvh] : {std::pair{2, 2}, std::pair{4, 2}, std::pair{6, 2}, std::pair{8, 2}, std::pair{10, 2},
                              std::pair{16, 2}, std::pair{12, 1}}) {
          CheckDecode({h, kvh, hd, bs, dt}, kContexts);
        }
      }
    }
  }
}

TEST(AttentionDecodeTest, WindowsAndSoftcap) {
  for (DType dt : {DType::kBF16, DType::kF32}) {
    for (int window : {1, 3, 16, 40, 100, 5000}) {
      for (int bs : {16, 5, 1}) {
        CheckDecode({4, 2, 64, bs, dt, window, 0.0f}, kContexts);
        CheckDecode({8, 1, 128, bs, dt, window, 30.0f}, kContexts);
      }
    }
  }
}

}  // namespace
}  // namespace ax::kernels
