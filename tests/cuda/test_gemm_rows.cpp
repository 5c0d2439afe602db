// The tensor-core GEMM for generated rows (kernels/cuda/gemm_rows.cu), through the
// Backend interface with bf16 activations: Matmul, MatmulGroup and MatmulGatedAct with
// throughput_rows = 0 send every row to it when k % 64 == 0 on an sm_90 device (the
// default backend; elsewhere, or with AX_CUDA_GEMM_ROWS=0, these tests check the
// GEMV's batch invariance instead).
//   - against kernels/ref at odd n and m (k a multiple of 64), bf16 and f32 outputs,
//     with and without the fused residual add, outputs poisoned with NaN first;
//   - batch invariance: every row of a batch of m = 1, 3, 8, 17, 32, 64, 200, 256 rows
//     has the bits of the same row computed alone (m = 1), for each op. These m cover
//     every token-tile width the kernel picks (16, 64, 128) and several token tiles.
#include <cstring>

#include "cuda_test_util.h"
#include "kernels/ref/ref.h"

namespace ax::cuda_testing {
namespace {

constexpr int64_t kBatches[] = {1, 3, 8, 17, 32, 64, 200, 256};
constexpr int64_t kMaxRows = 256;

// Row r of a dense device matrix [rows, cols] as a [1, cols] view.
TensorView Row(const TensorView& t, int64_t r, int64_t cols) {
  TensorView v = t;
  v.data = static_cast<char*>(t.data) + r * cols * static_cast<int64_t>(DTypeSize(t.dtype));
  v.shape = Shape{1, cols};
  return v;
}
// The first `rows` rows of a dense device matrix.
TensorView Rows(const TensorView& t, int64_t rows, int64_t cols) {
  TensorView v = t;
  v.shape = Shape{rows, cols};
  return v;
}

// Bitwise equality of the first `rows` rows of two host copies (NaN-safe).
bool SameBits(const std::vector<float>& a, const std::vector<float>& b, size_t count) {
  return a.size() >= count && b.size() >= count && std::memcmp(a.data(), b.data(), count * sizeof(float)) == 0;
}

TEST(CudaGemmRows, MatchesReference) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  struct Case {
    int64_t n, k;
  };
  for (const Case c : {Case{4097, 64}, Case{13, 192}, Case{200, 1088}, Case{129, 4096}, Case{1, 320}}) {
    const std::vector<float> w = RandomBf16(static_cast<size_t>(c.n * c.k), 61);
    TensorView wd = ToDevice(be, w, DType::kBF16, Shape{c.n, c.k});
    for (int64_t m : {int64_t{1}, int64_t{3}, int64_t{9}, int64_t{33}, int64_t{65}, int64_t{200}}) {
      const std::vector<float> x = RandomBf16(static_cast<size_t>(m * c.k), 62);
      TensorView xd = ToDevice(be, x, DType::kBF16, Shape{m, c.k});
      const std::vector<float> want = RefMatmul(x, w, m, c.n, c.k, nullptr);
      for (DType out : {DType::kBF16, DType::kF32}) {
        TensorView y = Poisoned(be, out, Shape{m, c.n});
        be.Matmul(xd, wd, y, /*accumulate=*/false, /*throughput_rows=*/0);
        EXPECT_LT(RelError(ToHost(be, y), want), kBf16Tol)
            << "n " << c.n << " k " << c.k << " m " << m << " out " << DTypeName(out);
      }
      // Fused residual add into an f32 output (the logits path writes f32; decoder
      // layers add into the bf16 residual stream).
      const std::vector<float> y0 = RandomBf16(static_cast<size_t>(m * c.n), 63);
      const std::vector<float> want_acc = RefMatmul(x, w, m, c.n, c.k, &y0);
      for (DType out : {DType::kBF16, DType::kF32}) {
        TensorView y = ToDevice(be, y0, out, Shape{m, c.n});
        be.Matmul(xd, wd, y, /*accumulate=*/true, 0);
        EXPECT_LT(RelError(ToHost(be, y), want_acc), kBf16Tol)
            << "accumulate n " << c.n << " k " << c.k << " m " << m << " out " << DTypeName(out);
      }
    }
  }
}

// Each row of every batch equals the row computed alone, bit for bit.
TEST(CudaGemmRows, RowsAreBitIdenticalAcrossBatchSizes) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  struct Case {
    int64_t n, k;
    DType out;
    bool accumulate;
  };
  for (const Case c : {Case{4097, 256, DType::kBF16, false}, Case{300, 4096, DType::kF32, false},
                       Case{130, 12288, DType::kBF16, true}, Case{77, 448, DType::kF32, true}}) {
    const std::vector<float> w = RandomBf16(static_cast<size_t>(c.n * c.k), 71);
    const std::vector<float> x = RandomBf16(static_cast<size_t>(kMaxRows * c.k), 72);
    const std::vector<float> y0 = RandomBf16(static_cast<size_t>(kMaxRows * c.n), 73);
    TensorView wd = ToDevice(be, w, DType::kBF16, Shape{c.n, c.k});
    TensorView xd = ToDevice(be, x, DType::kBF16, Shape{kMaxRows, c.k});
    auto start = [&] {
      return c.accumulate ? ToDevice(be, y0, c.out, Shape{kMaxRows, c.n}) : Poisoned(be, c.out, Shape{kMaxRows, c.n});
    };
    TensorView alone = start();
    for (int64_t r = 0; r < kMaxRows; ++r) be.Matmul(Row(xd, r, c.k), wd, Row(alone, r, c.n), c.accumulate, 0);
    const std::vector<float> want = ToHost(be, alone);
    EXPECT_LT(RelError(want, RefMatmul(x, w, kMaxRows, c.n, c.k, c.accumulate ? &y0 : nullptr)), kBf16Tol);
    for (int64_t m : kBatches) {
      TensorView y = start();
      be.Matmul(Rows(xd, m, c.k), wd, Rows(y, m, c.n), c.accumulate, 0);
      EXPECT_TRUE(SameBits(ToHost(be, y), want, static_cast<size_t>(m * c.n)))
          << "n " << c.n << " k " << c.k << " m " << m << " out " << DTypeName(c.out);
    }
  }
}

// q/k/v in one launch: each matrix's rows have the bits of Matmul alone, at every m.
TEST(CudaGemmRows, GroupEqualsMatmulAtEveryBatchSize) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  const int64_t k = 512;
  const int64_t ns[] = {256, 64, 200};
  std::vector<TensorView> wd;
  for (int i = 0; i < 3; ++i) wd.push_back(ToDevice(be, RandomBf16(static_cast<size_t>(ns[i] * k), 80 + i),
                                                    DType::kBF16, Shape{ns[i], k}));
  const std::vector<float> x = RandomBf16(static_cast<size_t>(kMaxRows * k), 84);
  TensorView xd = ToDevice(be, x, DType::kBF16, Shape{kMaxRows, k});
  std::vector<std::vector<float>> want;
  for (int i = 0; i < 3; ++i) {
    TensorView alone = Poisoned(be, DType::kBF16, Shape{kMaxRows, ns[i]});
    for (int64_t r = 0; r < kMaxRows; ++r) be.Matmul(Row(xd, r, k), wd[i], Row(alone, r, ns[i]), false, 0);
    want.push_back(ToHost(be, alone));
  }
  for (int64_t m : kBatches) {
    std::vector<TensorView> yd;
    for (int i = 0; i < 3; ++i) yd.push_back(Poisoned(be, DType::kBF16, Shape{m, ns[i]}));
    be.MatmulGroup(Rows(xd, m, k), wd, yd, 0);
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(SameBits(ToHost(be, yd[i]), want[i], static_cast<size_t>(m * ns[i]))) << "m " << m << " matrix " << i;
  }
}

// gate/up + SiLU in one launch: the bits of Matmul (alone, m = 1) then SiluMul.
TEST(CudaGemmRows, SiluEqualsSeparateOpsAtEveryBatchSize) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  for (auto [f, k] : {std::pair<int64_t, int64_t>{192, 320}, {64, 4096}}) {
    TensorView wd = ToDevice(be, RandomBf16(static_cast<size_t>(2 * f * k), 90), DType::kBF16, Shape{2 * f, k});
    TensorView xd = ToDevice(be, RandomBf16(static_cast<size_t>(kMaxRows * k), 91), DType::kBF16, Shape{kMaxRows, k});
    TensorView gu = Poisoned(be, DType::kBF16, Shape{kMaxRows, 2 * f});
    for (int64_t r = 0; r < kMaxRows; ++r) be.Matmul(Row(xd, r, k), wd, Row(gu, r, 2 * f), false, 0);
    TensorView act = Poisoned(be, DType::kBF16, Shape{kMaxRows, f});
    be.GatedAct(gu, act, GateAct::kSilu);
    const std::vector<float> want = ToHost(be, act);
    for (int64_t m : kBatches) {
      TensorView scratch = Poisoned(be, DType::kBF16, Shape{m, 2 * f});
      TensorView got = Poisoned(be, DType::kBF16, Shape{m, f});
      be.MatmulGatedAct(Rows(xd, m, k), wd, scratch, got, GateAct::kSilu, 0);
      EXPECT_TRUE(SameBits(ToHost(be, got), want, static_cast<size_t>(m * f))) << "f " << f << " k " << k << " m " << m;
    }
  }
}

}  // namespace
}  // namespace ax::cuda_testing
