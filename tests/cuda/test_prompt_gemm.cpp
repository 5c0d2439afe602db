// Prompt rows through the fixed-algorithm cuBLASLt matmul (the default; kernels/cuda/
// gemm_fixed.cpp): every prompt row has the bits of the same row in a
// larger prompt batch, from 1 row to 700, at Qwen3-8B-like shapes (bf16 and f32
// outputs, with and without the residual add), and agrees with kernels/ref.
#include <cstring>

#include "cuda_test_util.h"
#include "kernels/ref/ref.h"

namespace ax::cuda_testing {
namespace {

TEST(CudaPromptGemm, RowsAreBitIdenticalAcrossPromptBatchSizes) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  constexpr int64_t kMax = 700;
  struct Case {
    int64_t n, k;
    DType out;
    bool accumulate;
  };
  for (const Case c : {Case{1024, 4096, DType::kBF16, false}, Case{4096, 4096, DType::kBF16, true},
                       Case{4096, 12288, DType::kBF16, true}, Case{2000, 4096, DType::kF32, false}}) {
    const std::vector<float> x = RandomBf16(static_cast<size_t>(kMax * c.k), 11);
    const std::vector<float> w = RandomBf16(static_cast<size_t>(c.n * c.k), 12, -0.05f, 0.05f);
    const std::vector<float> y0 = RandomBf16(static_cast<size_t>(kMax * c.n), 13);
    TensorView wd = ToDevice(be, w, DType::kBF16, Shape{c.n, c.k});
    TensorView xd = ToDevice(be, x, DType::kBF16, Shape{kMax, c.k});
    auto run = [&](int64_t m) {
      TensorView xm = xd;
      xm.shape = Shape{m, c.k};
      TensorView y = c.accumulate ? ToDevice(be, std::vector<float>(y0.begin(), y0.begin() + m * c.n), c.out, Shape{m, c.n})
                                  : Poisoned(be, c.out, Shape{m, c.n});
      be.Matmul(xm, wd, y, c.accumulate, /*throughput_rows=*/m);
      return ToHost(be, y);
    };
    const std::vector<float> all = run(kMax);
    EXPECT_LT(RelError(all, RefMatmul(x, w, kMax, c.n, c.k, c.accumulate ? &y0 : nullptr)), kBf16Tol)
        << "n " << c.n << " k " << c.k;
    for (int64_t m : {1, 5, 9, 37, 128, 513}) {
      const std::vector<float> part = run(m);
      EXPECT_EQ(std::memcmp(part.data(), all.data(), static_cast<size_t>(m * c.n) * sizeof(float)), 0)
          << "n " << c.n << " k " << c.k << ": the first " << m << " rows differ from the same rows of " << kMax;
    }
  }
}

}  // namespace
}  // namespace ax::cuda_testing
