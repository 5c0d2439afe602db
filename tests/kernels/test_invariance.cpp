// Batch invariance of the cpu kernels (see MatmulKernel in kernels/params.h): with an
// explicit matmul kernel, and in attention, a row's result is bit-for-bit the same
// whether it is computed alone or with other rows, on any number of threads. Also both
// explicit matmul kernels at the m they are not chosen for by default, against ref, and
// the two GEMV builds (AVX2, AVX-512VL registers) against each other.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/matmul_internal.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

struct Case {
  DType dt;
  MatmulKernel kernel;
};

std::string Name(const Case& c) {
  return std::string(DTypeName(c.dt)) +
         (c.kernel == MatmulKernel::kRowInvariant ? " row-invariant" : " throughput");
}

class MatmulKernelTest : public ::testing::TestWithParam<Case> {};

// Every row of an m-row call equals, bit for bit, the same row computed alone
// (m = 1), for m on both sides of the default GEMV/GEMM switch and 1/2/3 threads.
TEST_P(MatmulKernelTest, RowsIndependentOfBatch) {
  const Case c = GetParam();
  const int64_t n = 37, k = 300;
  const testing::Weights w = testing::RandomWeights(c.dt, n * k, 71);
  for (int64_t m : {2, 5, 17, 64}) {
    const std::vector<float> x = testing::RandomF32(m * k, 72 + m);
    MatmulParams p;
    p.w = w.data();
    p.w_dtype = c.dt;
    p.n = n;
    p.k = k;
    p.kernel = c.kernel;
    std::vector<float> alone(m * n, kPoison);
    for (int64_t i = 0; i < m; ++i) {
      p.x = x.data() + i * k;
      p.y = alone.data() + i * n;
      p.m = 1;
      cpu::MatmulWithKernel(p, Pool(1));
    }
    for (int threads : testing::kThreadCounts) {
      std::vector<float> batched(m * n, kPoison);
      p.x = x.data();
      p.y = batched.data();
      p.m = m;
      cpu::MatmulWithKernel(p, Pool(threads));
      EXPECT_EQ(0, std::memcmp(alone.data(), batched.data(), alone.size() * sizeof(float)))
          << Name(c) << " m=" << m << " threads=" << threads;
    }
  }
}

// Each explicit kernel is correct at any m (GEMV at prompt-sized m, GEMM at m = 1).
TEST_P(MatmulKernelTest, MatchesRefAtAnyM) {
  const Case c = GetParam();
  for (int64_t m : {1, 3, 17, 130}) {
    const int64_t n = 33, k = 257;
    const std::vector<float> x = testing::RandomF32(m * k, 81 + m);
    const testing::Weights w = testing::RandomWeights(c.dt, n * k, 82);
    MatmulParams p;
    p.x = x.data();
    p.w = w.data();
    p.w_dtype = c.dt;
    p.m = m;
    p.n = n;
    p.k = k;
    p.kernel = c.kernel;
    std::vector<float> want(m * n), got(m * n, kPoison);
    p.y = want.data();
    ref::Matmul(p);
    p.y = got.data();
    cpu::MatmulWithKernel(p, Pool(2));
    for (int64_t i = 0; i < m * n; ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-5 * std::sqrt(static_cast<double>(k)))
          << Name(c) << " m=" << m << " at " << i;
    }
  }
}

// x [m, k] times w [n, k]^T into dense rows (y set by the caller).
MatmulParams Dense(const std::vector<float>& x, const testing::Weights& w, DType dt, int64_t m, int64_t n, int64_t k) {
  MatmulParams p;
  p.x = x.data();
  p.w = w.data();
  p.w_dtype = dt;
  p.m = m;
  p.n = n;
  p.k = k;
  p.ldx = k;
  p.ldy = n;
  return p;
}

// The wide GEMV build (AVX-512VL registers, up to 8 rows of x per sweep) gives the AVX2
// build's bits for every m the GEMV takes, every weight dtype and odd k (the tail).
TEST(GemvBuildsTest, WideEqualsAvx2) {
  if (!cpu::CpuHasAvx512Vl()) GTEST_SKIP() << "no AVX-512VL on this processor";
  for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
    const int64_t n = 77, k = 389;
    const testing::Weights w = testing::RandomWeights(dt, n * k, 91);
    for (int64_t m = 1; m <= cpu::detail::kGemvMaxM; ++m) {
      const std::vector<float> x = testing::RandomF32(m * k, 92 + m);
      MatmulParams p = Dense(x, w, dt, m, n, k);
      for (bool accumulate : {false, true}) {
        p.accumulate = accumulate;
        std::vector<float> narrow(m * n, 0.5f), wide(m * n, 0.5f);
        p.y = narrow.data();
        cpu::detail::GemvAvx2(p, Pool(2));
        p.y = wide.data();
        cpu::detail::GemvWide(p, Pool(2));
        EXPECT_EQ(0, std::memcmp(narrow.data(), wide.data(), narrow.size() * sizeof(float)))
            << DTypeName(dt) << " m=" << m << " accumulate=" << accumulate;
      }
    }
  }
}

// The AVX-512 GEMM sweep (12x16 tiles) gives the AVX2 6x16 microkernel's bits: m from
// one partial panel to past the m block (kMc = 516, the k-block-major order), odd n
// (partial B panels; n = 20 splits rows, not panels), k over several k blocks with a
// tail, every weight dtype, accumulate on and off. Both also match ref (test_matmul).
TEST(GemmBuildsTest, WideEqualsAvx2) {
  if (!cpu::CpuHasAvx512Vl()) GTEST_SKIP() << "no AVX-512 on this processor";
  for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
    for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{5, 77, 389},
                           {17, 77, 389},
                           {30, 20, 1030},
                           {65, 33, 257},
                           {600, 49, 100}}) {
      const testing::Weights w = testing::RandomWeights(dt, n * k, 81);
      const std::vector<float> x = testing::RandomF32(m * k, 82 + m);
      MatmulParams p = Dense(x, w, dt, m, n, k);
      for (bool accumulate : {false, true}) {
        p.accumulate = accumulate;
        for (int threads : testing::kThreadCounts) {
          std::vector<float> narrow(m * n, 0.5f), wide(m * n, 0.5f);
          p.y = narrow.data();
          cpu::detail::GemmAvx2(p, Pool(threads));
          p.y = wide.data();
          cpu::detail::GemmWide(p, Pool(threads));
          EXPECT_EQ(0, std::memcmp(narrow.data(), wide.data(), narrow.size() * sizeof(float)))
              << DTypeName(dt) << " m=" << m << " n=" << n << " k=" << k << " accumulate=" << accumulate
              << " threads=" << threads;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, MatmulKernelTest,
    ::testing::Values(Case{DType::kF32, MatmulKernel::kRowInvariant},
                      Case{DType::kF32, MatmulKernel::kThroughput},
                      Case{DType::kBF16, MatmulKernel::kRowInvariant},
                      Case{DType::kBF16, MatmulKernel::kThroughput},
                      Case{DType::kF16, MatmulKernel::kRowInvariant},
                      Case{DType::kF16, MatmulKernel::kThroughput}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      return std::string(DTypeName(param_info.param.dt)) +
             (param_info.param.kernel == MatmulKernel::kRowInvariant ? "_RowInvariant"
                                                                      : "_Throughput");
    });

// A query row attends identically (bit for bit) whether it is computed alone, in a
// chunk of rows of its sequence (packed K/V path, several tiles) or as a decode row
// (paged path), with GQA 2 and 12 and 1/2/3 threads, in each cache layout and dtype
// (a bf16 cache is read widened on the paged path and packed as f32 on the other).
TEST(AttentionInvarianceTest, RowAloneEqualsRowInBatch) {
  for (auto [heads, kv_heads, layout, bf16] :
       {std::tuple{4, 2, KvLayout::kSlotMajor, false}, std::tuple{12, 1, KvLayout::kSlotMajor, false},
        std::tuple{4, 2, KvLayout::kHeadMajor, true}, std::tuple{12, 1, KvLayout::kHeadMajor, true},
        std::tuple{4, 2, KvLayout::kHeadMajor, false}}) {
    const int hd = 64, bs = 16, ctx = 70, n_blocks = 6;
    const int64_t slot_row = static_cast<int64_t>(kv_heads) * hd;
    const std::vector<float> kc = testing::RandomF32(n_blocks * bs * slot_row, 91);
    const std::vector<float> vc = testing::RandomF32(n_blocks * bs * slot_row, 92);
    std::vector<uint16_t> kb(kc.size()), vb(vc.size());
    for (size_t i = 0; i < kc.size(); ++i) {
      kb[i] = F32ToBf16(kc[i]);
      vb[i] = F32ToBf16(vc[i]);
    }
    const std::vector<int32_t> table = {4, 1, 5, 0, 3};  // 5 blocks hold 70 positions
    const int first = 30, rows = ctx - first;           // a chunk at positions 30..69
    const std::vector<float> q = testing::RandomF32(rows * heads * hd, 93, -3.0f, 3.0f);
    std::vector<int32_t> pos(rows);
    for (int i = 0; i < rows; ++i) pos[i] = first + i;

    AttentionParams p;
    p.k_cache = bf16 ? static_cast<const void*>(kb.data()) : kc.data();
    p.v_cache = bf16 ? static_cast<const void*>(vb.data()) : vc.data();
    p.layout = layout;
    p.cache_dtype = bf16 ? DType::kBF16 : DType::kF32;
    p.block_tables = table.data();
    p.n_seqs = 1;
    p.max_blocks_per_seq = static_cast<int>(table.size());
    p.n_heads = heads;
    p.n_kv_heads = kv_heads;
    p.head_dim = hd;
    p.block_size = bs;
    p.scale = 0.125f;
    const int32_t zero = 0;
    std::vector<float> alone(q.size(), kPoison);
    for (int i = 0; i < rows; ++i) {
      const int32_t one = 1;
      p.q = q.data() + i * heads * hd;
      p.out = alone.data() + i * heads * hd;
      p.positions = &pos[i];
      p.seq_q_begin = &zero;
      p.seq_q_len = &one;
      cpu::Attention(p, Pool(1));
    }
    for (int threads : testing::kThreadCounts) {
      std::vector<float> batched(q.size(), kPoison);
      p.q = q.data();
      p.out = batched.data();
      p.positions = pos.data();
      p.seq_q_begin = &zero;
      p.seq_q_len = &rows;
      cpu::Attention(p, Pool(threads));
      EXPECT_EQ(0, std::memcmp(alone.data(), batched.data(), alone.size() * sizeof(float)))
          << "heads=" << heads << " kv_heads=" << kv_heads << " bf16=" << bf16 << " threads=" << threads;
    }
  }
}

}  // namespace
}  // namespace ax::kernels
