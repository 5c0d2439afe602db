// Multi-head latent attention (MlaParams): the absorbed reference against attention
// over the expanded keys and values in f64 (what transformers computes), cpu::Mla
// against ref::Mla at odd sizes with f32 and bf16 caches and poisoned outputs, and
// every row of a batch equal, bit for bit, to the row computed alone.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

struct MlaCase {
  int heads, latent, rope, nope, v, block_size;
  std::vector<int> seq_lens;  // keys per sequence; the last seq_q rows are queries
  int q_rows;                 // query rows per sequence (its last positions)
};

// A batch: sequences with reversed block tables, every token's latent row in the cache,
// queries for the last q_rows positions of each sequence.
struct MlaBatch {
  std::vector<float> q, kv_b, latent, rope;  // latent / rope: [tokens, dim] of every cached token
  std::vector<uint8_t> cache;
  std::vector<int32_t> positions, q_begin, q_len, tables, slots;
  int max_blocks = 0;
  MlaParams p;
};

MlaBatch MakeBatch(const MlaCase& c, DType dt, uint32_t seed) {
  MlaBatch b;
  const int n_seqs = static_cast<int>(c.seq_lens.size());
  for (int len : c.seq_lens) b.max_blocks = std::max(b.max_blocks, (len + c.block_size - 1) / c.block_size);
  const int total_blocks = n_seqs * b.max_blocks;
  b.tables.assign(static_cast<size_t>(total_blocks), -1);
  for (int s = 0; s < n_seqs; ++s)
    for (int j = 0; j < b.max_blocks; ++j)  // reversed, interleaved between sequences
      b.tables[static_cast<size_t>(s * b.max_blocks + j)] = total_blocks - 1 - (j * n_seqs + s);
  int tokens = 0;
  for (int len : c.seq_lens) tokens += len;
  b.latent = testing::RandomF32(static_cast<size_t>(tokens * c.latent), seed, -1.0f, 1.0f);
  b.rope = testing::RandomF32(static_cast<size_t>(tokens * c.rope), seed + 1, -1.0f, 1.0f);
  for (int s = 0, t = 0; s < n_seqs; ++s)
    for (int pos = 0; pos < c.seq_lens[static_cast<size_t>(s)]; ++pos, ++t)
      b.slots.push_back(b.tables[static_cast<size_t>(s * b.max_blocks + pos / c.block_size)] * c.block_size +
                        pos % c.block_size);
  const int64_t row = c.latent + c.rope;
  b.cache.assign(static_cast<size_t>(total_blocks * c.block_size * row) * DTypeSize(dt), 0);
  LatentWriteParams w{b.latent.data(), b.rope.data(), b.cache.data(), dt, b.slots.data(), tokens, c.latent, c.rope};
  ref::LatentWrite(w);
  int rows = 0;
  for (int s = 0; s < n_seqs; ++s) {
    b.q_begin.push_back(rows);
    b.q_len.push_back(c.q_rows);
    for (int i = 0; i < c.q_rows; ++i) b.positions.push_back(c.seq_lens[static_cast<size_t>(s)] - c.q_rows + i);
    rows += c.q_rows;
  }
  b.q = testing::RandomF32(static_cast<size_t>(rows * c.heads * (c.rope + c.nope)), seed + 2, -1.0f, 1.0f);
  b.kv_b = testing::RandomF32(static_cast<size_t>(c.heads * (c.nope + c.v) * c.latent), seed + 3, -0.5f, 0.5f);
  MlaParams& p = b.p;
  p.q = b.q.data();
  p.kv_b = b.kv_b.data();
  p.cache = b.cache.data();
  p.cache_dtype = dt;
  p.positions = b.positions.data();
  p.seq_q_begin = b.q_begin.data();
  p.seq_q_len = b.q_len.data();
  p.block_tables = b.tables.data();
  p.n_seqs = n_seqs;
  p.max_blocks_per_seq = b.max_blocks;
  p.block_size = c.block_size;
  p.n_heads = c.heads;
  p.latent_dim = c.latent;
  p.rope_dim = c.rope;
  p.nope_dim = c.nope;
  p.v_dim = c.v;
  p.scale = 1.0f / std::sqrt(static_cast<float>(c.nope + c.rope));
  return b;
}

int Rows(const MlaBatch& b) { return std::accumulate(b.q_len.begin(), b.q_len.end(), 0); }

const MlaCase kCases[] = {
    {1, 8, 2, 4, 4, 4, {1}, 1},
    {3, 33, 6, 7, 5, 4, {9, 1, 17}, 1},
    {2, 64, 16, 24, 40, 16, {37, 20}, 5},
    {4, 32, 8, 16, 24, 8, {70}, 7},
};

// Attention with the keys and values expanded per head (k = [W_UK c | kr] against
// q = [q_nope | q_rope], v = W_UV c), in f64 from the f32 latents: transformers' form.
TEST(MlaTest, AbsorbedEqualsExpandedAttention) {
  for (const MlaCase& c : kCases) {
    MlaBatch b = MakeBatch(c, DType::kF32, 11);
    std::vector<float> out(static_cast<size_t>(Rows(b) * c.heads * c.v), kPoison);
    b.p.out = out.data();
    ref::Mla(b.p);
    double worst = 0;
    for (int s = 0; s < b.p.n_seqs; ++s) {
      const int first_token = std::accumulate(c.seq_lens.begin(), c.seq_lens.begin() + s, 0);
      for (int t = b.q_begin[static_cast<size_t>(s)]; t < b.q_begin[static_cast<size_t>(s)] + c.q_rows; ++t) {
        const int n_keys = b.positions[static_cast<size_t>(t)] + 1;
        for (int h = 0; h < c.heads; ++h) {
          const float* q = b.q.data() + (t * c.heads + h) * (c.rope + c.nope);
          const float* w = b.kv_b.data() + static_cast<size_t>(h * (c.nope + c.v) * c.latent);
          std::vector<double> sc(static_cast<size_t>(n_keys));
          double mx = -INFINITY;
          for (int j = 0; j < n_keys; ++j) {
            const float* lat = b.latent.data() + static_cast<size_t>((first_token + j) * c.latent);
            const float* kr = b.rope.data() + static_cast<size_t>((first_token + j) * c.rope);
            double dot = 0;
            for (int i = 0; i < c.nope; ++i) {
              double k = 0;
              for (int l = 0; l < c.latent; ++l) k += static_cast<double>(w[i * c.latent + l]) * lat[l];
              dot += q[c.rope + i] * k;
            }
            for (int i = 0; i < c.rope; ++i) dot += static_cast<double>(q[i]) * kr[i];
            sc[static_cast<size_t>(j)] = dot * b.p.scale;
            mx = std::max(mx, sc[static_cast<size_t>(j)]);
          }
          double sum = 0;
          for (double& x : sc) sum += (x = std::exp(x - mx));
          for (int v = 0; v < c.v; ++v) {
            double acc = 0;
            for (int j = 0; j < n_keys; ++j) {
              const float* lat = b.latent.data() + static_cast<size_t>((first_token + j) * c.latent);
              double val = 0;
              for (int l = 0; l < c.latent; ++l) val += static_cast<double>(w[(c.nope + v) * c.latent + l]) * lat[l];
              acc += sc[static_cast<size_t>(j)] * val;
            }
            const double want = acc / sum, got = out[static_cast<size_t>((t * c.heads + h) * c.v + v)];
            worst = std::max(worst, std::abs(got - want) / (1.0 + std::abs(want)));
          }
        }
      }
    }
    EXPECT_LT(worst, 1e-6) << "heads " << c.heads << " latent " << c.latent;
  }
}

TEST(MlaTest, CpuMatchesRefAndWritesEveryOutput) {
  for (DType dt : {DType::kF32, DType::kBF16}) {
    for (const MlaCase& c : kCases) {
      for (int threads : testing::kThreadCounts) {
        SCOPED_TRACE(std::string(DTypeName(dt)) + " latent " + std::to_string(c.latent) + " threads " +
                     std::to_string(threads));
        MlaBatch b = MakeBatch(c, dt, 21);
        const size_t n_out = static_cast<size_t>(Rows(b) * c.heads * c.v);
        std::vector<float> want(n_out, kPoison), got(n_out, kPoison);
        b.p.out = want.data();
        ref::Mla(b.p);
        b.p.out = got.data();
        cpu::Mla(b.p, Pool(threads));
        for (size_t i = 0; i < n_out; ++i) {
          ASSERT_FALSE(testing::IsPoison(got[i])) << i;
          EXPECT_NEAR(got[i], want[i], 2e-5 * (1.0 + std::abs(want[i]))) << i;
        }
      }
    }
  }
}

// Each query row computed alone (a batch of its sequence and that one row) equals the
// same row in the whole batch, bit for bit, on 1 and 3 threads.
TEST(MlaTest, RowsAreBatchInvariant) {
  const MlaCase c{3, 40, 8, 12, 20, 4, {23, 9, 31}, 4};
  MlaBatch b = MakeBatch(c, DType::kBF16, 31);
  const int rows = Rows(b);
  const int64_t per_row = int64_t{c.heads} * c.v;
  std::vector<float> all(static_cast<size_t>(rows * per_row), kPoison);
  b.p.out = all.data();
  cpu::Mla(b.p, Pool(3));
  for (int s = 0; s < b.p.n_seqs; ++s) {
    for (int i = 0; i < c.q_rows; ++i) {
      const int t = b.q_begin[static_cast<size_t>(s)] + i;
      MlaParams one = b.p;
      const int32_t begin = t, len = 1;
      one.seq_q_begin = &begin;
      one.seq_q_len = &len;
      one.block_tables = b.tables.data() + static_cast<size_t>(s * b.max_blocks);
      one.n_seqs = 1;
      std::vector<float> alone(all.size(), kPoison);
      one.out = alone.data();
      cpu::Mla(one, Pool(1));
      EXPECT_EQ(0, std::memcmp(alone.data() + t * per_row, all.data() + t * per_row, sizeof(float) * per_row))
          << "sequence " << s << " row " << t;
    }
  }
}

}  // namespace
}  // namespace ax::kernels
