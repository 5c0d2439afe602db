// cpu::Matmul vs ref::Matmul: both regimes (GEMV m <= 4, packed GEMM above), odd
// sizes, f32/f16/bf16 weights, accumulate, row strides, NaN-poisoned outputs and
// padding, 1/2/3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

struct Shape {
  int64_t m, n, k;
};

// Bound on |cpu - ref| relative to sum_k |x_k * w_k|. Weight conversion to f32 is exact
// for all three dtypes, so the only error is f32 accumulation (ref accumulates in f64);
// the table stays per dtype so a future approximate path (e.g. f16 products) can loosen
// its own entry.
double RelTol(DType dt) {
  switch (dt) {
    case DType::kF32: return 2e-6;
    case DType::kF16: return 2e-6;
    case DType::kBF16: return 2e-6;
    case DType::kI32:
    case DType::kU32:
    case DType::kAffine: break;  // test_matmul_affine.cpp
  }
  return 0.0;
}

void CheckMatmul(const Shape& s, DType dt, bool accumulate, int64_t pad) {
  SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
               " k=" + std::to_string(s.k) + " dtype=" + DTypeName(dt) +
               " accumulate=" + std::to_string(accumulate) + " pad=" + std::to_string(pad));
  const int64_t ldx = s.k + pad, ldy = s.n + pad;
  // x: [m, ldx], the padding columns poisoned (a kernel reading them produces NaN).
  std::vector<float> x = testing::RandomF32(s.m * ldx, 1 + s.m * 7 + s.k);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = s.k; j < ldx; ++j) x[i * ldx + j] = kPoison;
  const testing::Weights w = testing::RandomWeights(dt, s.n * s.k, 2 + s.n * 13 + s.k);
  // y: in range random (accumulate) or poisoned; padding columns poisoned.
  std::vector<float> y0 = testing::RandomF32(s.m * ldy, 3);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < ldy; ++j)
      if (!accumulate || j >= s.n) y0[i * ldy + j] = kPoison;

  MatmulParams p;
  p.x = x.data();
  p.w = w.data();
  p.w_dtype = dt;
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.ldx = pad ? ldx : 0;
  p.ldy = pad ? ldy : 0;
  p.accumulate = accumulate;

  std::vector<float> want = y0;
  p.y = want.data();
  ref::Matmul(p);

  std::vector<double> scale(s.m * s.n);  // sum_k |x w|, the error scale of each output
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double a = 0.0;
      for (int64_t kk = 0; kk < s.k; ++kk) a += std::fabs(x[i * ldx + kk] * w.f32[j * s.k + kk]);
      scale[i * s.n + j] = a + (accumulate ? std::fabs(y0[i * ldy + j]) : 0.0);
    }

  for (int threads : testing::kThreadCounts) {
    std::vector<float> got = y0;
    p.y = got.data();
    cpu::Matmul(p, Pool(threads));
    int bad = 0;
    for (int64_t i = 0; i < s.m && bad < 5; ++i) {
      for (int64_t j = 0; j < ldy && bad < 5; ++j) {
        const float g = got[i * ldy + j];
        if (j >= s.n) {
          if (!testing::IsPoison(g)) {
            ADD_FAILURE() << "threads=" << threads << " wrote padding y[" << i << "," << j << "]";
            ++bad;
          }
          continue;
        }
        const double tol = RelTol(dt) * scale[i * s.n + j] + 1e-30;
        if (!(std::fabs(g - want[i * ldy + j]) <= tol)) {
          ADD_FAILURE() << "threads=" << threads << " y[" << i << "," << j << "] = " << g
                        << ", want " << want[i * ldy + j] << " (tol " << tol << ")";
          ++bad;
        }
      }
    }
  }
}

class MatmulTest : public ::testing::TestWithParam<DType> {};

// m <= 16: the GEMV path (one weight read for all rows of x; m = 1 uses 8-row tiles,
// m % 4 == 0 3-row tiles x 4 rows of x, others 4-row tiles x groups of 3/2/1).
TEST_P(MatmulTest, SmallM) {
  const Shape shapes[] = {{1, 1, 1},    {1, 7, 3},     {1, 33, 7},   {1, 257, 33},
                          {1, 9, 4097}, {1, 1000, 64}, {2, 33, 257}, {3, 17, 33},
                          {4, 31, 100}, {4, 3, 4097},  {5, 33, 257}, {8, 20, 33},
                          {13, 9, 100}, {16, 17, 1030}};
  for (const Shape& s : shapes) {
    CheckMatmul(s, GetParam(), /*accumulate=*/false, /*pad=*/0);
    CheckMatmul(s, GetParam(), /*accumulate=*/true, /*pad=*/3);
  }
}

// m > 16: the packed GEMM path, including partial 6x16 tiles, balanced k blocks
// (k = 1030), both loop orders (x fits the A buffer or not: 300 x 1030), the row-split
// path (n narrow), and m past one m block (600 > 516).
TEST_P(MatmulTest, LargeM) {
  const Shape shapes[] = {{17, 1, 1},    {17, 7, 3},     {17, 33, 257}, {64, 49, 64},
                          {300, 20, 1030},
                          {300, 257, 33}, {17, 33, 4097}, {64, 16, 1030}, {300, 7, 33},
                          {600, 20, 520}, {65, 17, 7}};
  for (const Shape& s : shapes) {
    CheckMatmul(s, GetParam(), /*accumulate=*/false, /*pad=*/0);
    CheckMatmul(s, GetParam(), /*accumulate=*/true, /*pad=*/5);
  }
}

TEST_P(MatmulTest, ZeroK) {
  std::vector<float> y(6, 7.0f);
  MatmulParams p;
  p.x = nullptr;
  p.w = nullptr;
  p.w_dtype = GetParam();
  p.y = y.data();
  p.m = 2;
  p.n = 3;
  p.k = 0;
  p.accumulate = true;
  cpu::Matmul(p, Pool(2));
  for (float v : y) EXPECT_EQ(v, 7.0f);
  p.accumulate = false;
  cpu::Matmul(p, Pool(2));
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, MatmulTest,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                         [](const ::testing::TestParamInfo<DType>& param_info) {
                           return std::string(DTypeName(param_info.param));
                         });

}  // namespace
}  // namespace ax::kernels
