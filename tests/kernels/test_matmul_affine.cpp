// MLX affine-quantized weights (tensor/quant.h, kernels/cpu/matmul_affine.cpp):
//   - the layout: DequantizeAffineRow equals values computed bit by bit in the test;
//   - the quantizer: every element within half a step of its input, the group's edge
//     exact, codes in range, and the MLX rounding rule on a hand-worked group;
//   - cpu::Matmul (GEMV and GEMM) against ref::Matmul for every bit width, group size
//     and scale dtype at odd shapes, accumulate, 1/2/3 threads, poisoned outputs;
//   - each kernel's rows bit-identical whatever m (batch invariance);
//   - cpu::Embedding of a quantized table against ref::Embedding.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"
#include "tensor/quant.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

constexpr int kBits[] = {2, 3, 4, 5, 6, 8};
constexpr int kGroups[] = {32, 64, 128};

TEST(AffineLayout, DequantizeMatchesBitByBitValues) {
  for (int bits : kBits) {
    for (int group : kGroups) {
      for (DType sd : {DType::kF32, DType::kBF16, DType::kF16}) {
        SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(group) + " " + DTypeName(sd));
        const int64_t rows = 3, cols = 2 * group;
        const testing::AffineWeights a = testing::RandomAffine(rows, cols, bits, group, sd, 7 + bits);
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
          DequantizeAffineRow(a.data(), a.q, r, cols, row.data());
          for (int64_t j = 0; j < cols; ++j) ASSERT_EQ(row[j], a.f32[r * cols + j]) << "row " << r << " col " << j;
        }
      }
    }
  }
}

// Every element dequantizes to the representable value (scale * c + bias, c in
// [0, 2^bits)) nearest to it, and the group's edge exactly.
TEST(AffineQuantize, RoundTripIsNearestRepresentable) {
  for (int bits : kBits) {
    for (int group : kGroups) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(group));
      const int64_t cols = 3 * group;
      std::vector<float> w = testing::RandomF32(static_cast<size_t>(cols), 11 + bits, -0.3f, 0.2f);
      w[5] = 0.0f;
      std::vector<uint8_t> codes(static_cast<size_t>(AffineRowBytes(cols, bits)), 0);
      std::vector<float> scales(static_cast<size_t>(cols / group)), biases(scales.size());
      QuantizeAffineRow(w.data(), cols, bits, group, codes.data(), scales.data(), biases.data());
      const AffineQuant q{bits, group, DType::kF32, scales.data(), biases.data()};
      std::vector<float> back(static_cast<size_t>(cols));
      DequantizeAffineRow(codes.data(), q, 0, cols, back.data());
      for (int64_t g = 0; g < cols / group; ++g) {
        float lo = w[g * group], hi = lo;
        for (int64_t j = g * group; j < (g + 1) * group; ++j) lo = std::min(lo, w[j]), hi = std::max(hi, w[j]);
        const float edge = std::abs(lo) > std::abs(hi) ? lo : hi;
        for (int64_t j = g * group; j < (g + 1) * group; ++j) {
          double nearest = INFINITY;
          for (int c = 0; c < (1 << bits); ++c)
            nearest = std::min(nearest, static_cast<double>(std::fabs(std::fma(scales[g], static_cast<float>(c), biases[g]) - w[j])));
          EXPECT_LE(std::abs(back[j] - w[j]), nearest + 1e-6) << "col " << j;
          if (w[j] == edge) {
            EXPECT_EQ(back[j], edge) << "edge of group " << g;
          }
        }
      }
    }
  }
}

// A group worked by hand (4 bits): min -0.3, max 0.15, |min| > |max| so the edge is the
// min and the scale positive: scale = 0.45 / 15 = 0.03; q0 = round(-0.3 / 0.03) = -10,
// so scale = -0.3 / -10 = 0.03 and bias = -0.3; w = 0 -> code round(0.3 / 0.03) = 10.
TEST(AffineQuantize, FollowsTheMlxRoundingRule) {
  std::vector<float> w(32, 0.0f);
  w[0] = -0.3f;
  w[1] = 0.15f;
  w[2] = 0.1f;
  std::vector<uint8_t> codes(16, 0);
  float scale = 0, bias = 0;
  QuantizeAffineRow(w.data(), 32, 4, 32, codes.data(), &scale, &bias);
  EXPECT_FLOAT_EQ(scale, 0.03f);
  EXPECT_FLOAT_EQ(bias, -0.3f);
  EXPECT_EQ(AffineCode(codes.data(), 0, 4), 0u);
  EXPECT_EQ(AffineCode(codes.data(), 1, 4), 15u);
  EXPECT_EQ(AffineCode(codes.data(), 2, 4), 13u);  // (0.1 + 0.3) / 0.03 = 13.3
  EXPECT_EQ(AffineCode(codes.data(), 3, 4), 10u);
  // The larger magnitude at the max: the scale turns negative and the max is the bias.
  for (float& v : w) v = -v;
  QuantizeAffineRow(w.data(), 32, 4, 32, codes.data(), &scale, &bias);
  EXPECT_FLOAT_EQ(bias, 0.3f);
  EXPECT_LT(scale, 0.0f);
}

struct Case {
  int64_t m, n, k;
};

// cpu vs ref for one shape, format and kernel; outputs poisoned, padding checked.
void CheckAffineMatmul(const Case& c, int bits, int group, DType sd, MatmulKernel kernel, bool accumulate) {
  SCOPED_TRACE("m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) + " bits " +
               std::to_string(bits) + " group " + std::to_string(group) + " " + DTypeName(sd) +
               (kernel == MatmulKernel::kThroughput ? " gemm" : " gemv") + (accumulate ? " accumulate" : ""));
  const testing::AffineWeights a = testing::RandomAffine(c.n, c.k, bits, group, sd, 3 + c.n + bits);
  const std::vector<float> x = testing::RandomF32(static_cast<size_t>(c.m * c.k), 5 + c.m);
  const int64_t ldy = c.n + 2;
  std::vector<float> y0 = testing::RandomF32(static_cast<size_t>(c.m * ldy), 9);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < ldy; ++j)
      if (!accumulate || j >= c.n) y0[i * ldy + j] = kPoison;
  MatmulParams p;
  p.x = x.data();
  p.w = a.data();
  p.w_dtype = DType::kAffine;
  p.wq = a.q;
  p.m = c.m;
  p.n = c.n;
  p.k = c.k;
  p.ldy = ldy;
  p.accumulate = accumulate;
  p.kernel = kernel;
  std::vector<float> want = y0;
  p.y = want.data();
  ref::Matmul(p);
  for (int threads : testing::kThreadCounts) {
    std::vector<float> got = y0;
    p.y = got.data();
    cpu::MatmulWithKernel(p, Pool(threads));
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < ldy; ++j) {
        const float g = got[i * ldy + j];
        if (j >= c.n) {
          ASSERT_TRUE(testing::IsPoison(g)) << "wrote padding y[" << i << "," << j << "]";
          continue;
        }
        double scale = accumulate ? std::fabs(y0[i * ldy + j]) : 0.0;
        for (int64_t kk = 0; kk < c.k; ++kk) scale += std::fabs(x[i * c.k + kk] * a.f32[j * c.k + kk]);
        ASSERT_NEAR(g, want[i * ldy + j], 2e-6 * scale + 1e-30) << "threads " << threads << " y[" << i << "," << j << "]";
      }
    }
  }
}

TEST(AffineMatmul, MatchesRefEveryFormat) {
  for (int bits : kBits) {
    for (int group : kGroups) {
      for (MatmulKernel kernel : {MatmulKernel::kRowInvariant, MatmulKernel::kThroughput}) {
        CheckAffineMatmul({1, 37, 2 * group}, bits, group, DType::kBF16, kernel, false);
        CheckAffineMatmul({3, 13, group}, bits, group, DType::kF16, kernel, true);
      }
    }
  }
}

TEST(AffineMatmul, MatchesRefOddShapes) {
  const Case cases[] = {{1, 1, 64}, {2, 9, 128}, {4, 67, 192}, {5, 33, 256}, {17, 70, 128}, {40, 131, 320}};
  for (const Case& c : cases) {
    for (MatmulKernel kernel : {MatmulKernel::kRowInvariant, MatmulKernel::kThroughput, MatmulKernel::kAuto}) {
      CheckAffineMatmul(c, 4, 64, DType::kBF16, kernel, false);
      CheckAffineMatmul(c, 3, 32, DType::kF32, kernel, true);
    }
  }
}

// Row i of an m-row call equals the same row computed alone, bit for bit, per kernel.
TEST(AffineMatmul, RowsAreBatchInvariant) {
  const int64_t m = 9, n = 45, k = 256;
  for (int bits : {4, 6}) {
    const testing::AffineWeights a = testing::RandomAffine(n, k, bits, 64, DType::kBF16, 21);
    const std::vector<float> x = testing::RandomF32(static_cast<size_t>(m * k), 22);
    for (MatmulKernel kernel : {MatmulKernel::kRowInvariant, MatmulKernel::kThroughput}) {
      MatmulParams p;
      p.x = x.data();
      p.w = a.data();
      p.w_dtype = DType::kAffine;
      p.wq = a.q;
      p.m = m;
      p.n = n;
      p.k = k;
      p.kernel = kernel;
      std::vector<float> all(static_cast<size_t>(m * n));
      p.y = all.data();
      cpu::MatmulWithKernel(p, Pool(2));
      for (int64_t i = 0; i < m; ++i) {
        std::vector<float> one(static_cast<size_t>(n));
        MatmulParams q = p;
        q.m = 1;
        q.x = x.data() + i * k;
        q.y = one.data();
        cpu::MatmulWithKernel(q, Pool(3));
        for (int64_t j = 0; j < n; ++j) ASSERT_EQ(one[j], all[i * n + j]) << "bits " << bits << " row " << i;
      }
    }
  }
}

TEST(AffineEmbedding, MatchesRef) {
  const int64_t vocab = 11, d = 128;
  const testing::AffineWeights a = testing::RandomAffine(vocab, d, 5, 64, DType::kBF16, 31);
  const std::vector<int32_t> ids = {3, 0, 10, 3};
  std::vector<float> want(ids.size() * d), got(ids.size() * d, kPoison);
  EmbeddingParams p{a.data(), DType::kAffine, ids.data(), want.data(), 4, d, vocab, 2.0f, a.q};
  ref::Embedding(p);
  for (size_t t = 0; t < ids.size(); ++t)
    for (int64_t j = 0; j < d; ++j) ASSERT_EQ(want[t * d + j], a.f32[ids[t] * d + j] * 2.0f);
  p.out = got.data();
  cpu::Embedding(p, Pool(2));
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace ax::kernels
