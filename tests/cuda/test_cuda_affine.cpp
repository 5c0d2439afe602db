// MLX affine-quantized weights on the CUDA backend (kernels/cuda/gemv_affine.cu)
// against kernels/ref: every bit width, group size and scale dtype at odd shapes, both
// precisions, accumulate, prompt rows (the GEMV, or past 8 of them with bf16
// activations the bf16 dequantization and cuBLAS) and generated rows; a row's bits independent of how
// many rows share the launch; quantized embedding rows; and a quantized tiny fixture's
// logits on the GPU against the CPU backend's.
#include <filesystem>

#include "cuda/staged_batch.h"
#include "cuda_test_util.h"
#include "kernels/kernel_test_util.h"
#include "kernels/ref/ref.h"
#include "model/quantize.h"

namespace ax::cuda_testing {
namespace {

// The device copy of a random affine matrix (codes, scales and biases as stored).
TensorView Upload(Backend& be, const kernels::testing::AffineWeights& a, int64_t n, int64_t k) {
  TensorView host{const_cast<uint8_t*>(a.codes.data()), DType::kAffine, Shape{n, k}, Device::kCpu};
  host.quant = a.q;
  auto r = be.UploadWeight(host, DType::kAffine);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.value();
}

class CudaAffine : public testing::TestWithParam<Precision> {
 protected:
  bool F32() const { return GetParam() == Precision::kF32; }
  Backend& Be() const { return F32() ? *CudaF32() : *Cuda(); }
  DType Act() const { return F32() ? DType::kF32 : DType::kBF16; }
};
INSTANTIATE_TEST_SUITE_P(Precisions, CudaAffine, testing::Values(Precision::kBF16, Precision::kF32),
                         [](const testing::TestParamInfo<Precision>& i) { return PrecisionName(i.param); });

TEST_P(CudaAffine, MatmulMatchesRef) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    for (int group : {32, 64, 128}) {
      for (DType sd : {DType::kBF16, DType::kF16, DType::kF32}) {
        // m = 40: 20 prompt rows, more than the GEMV's 8: dequantized to bf16, then cuBLAS.
        for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{1, 37, 2 * group}, {5, 130, 5 * group},
                               {9, 4, 768}, {3, 1027, 4096}, {40, 70, 3 * group}}) {
          if (k % group != 0) continue;
          const auto a = kernels::testing::RandomAffine(n, k, bits, group, sd, static_cast<uint32_t>(bits + n));
          const std::vector<float> x = F32() ? Random(static_cast<size_t>(m * k), 4) : RandomBf16(static_cast<size_t>(m * k), 4);
          const std::vector<float> y0 = RandomBf16(static_cast<size_t>(m * n), 6);
          const DType out = F32() ? DType::kF32 : DType::kBF16;
          for (bool acc : {false, true}) {
            TensorView yd = acc ? ToDevice(be, y0, out, Shape{m, n}) : Poisoned(be, out, Shape{m, n});
            be.Matmul(ToDevice(be, x, Act(), Shape{m, k}), Upload(be, a, n, k), yd, acc, m / 2);
            std::vector<float> want = y0;
            kernels::MatmulParams p;
            p.x = x.data();
            p.w = a.data();
            p.w_dtype = DType::kAffine;
            p.wq = a.q;
            p.y = want.data();
            p.m = m;
            p.n = n;
            p.k = k;
            p.accumulate = acc;
            kernels::ref::Matmul(p);
            EXPECT_LT(RelError(ToHost(be, yd), want), F32() ? 1e-5 : kBf16Tol)
                << "bits " << bits << " group " << group << " " << DTypeName(sd) << " m " << m << " n " << n << " k "
                << k << " acc " << acc;
          }
        }
      }
    }
  }
}

// A row's bits at every bit width, for each class of rows on its own (the backend gives
// prompt rows and generated rows their own kernels, each batch-invariant): generated
// rows, the batch's first row among other companions at 1 to 8 rows (the GEMV); prompt
// rows, the last rows of a batch of 11 as a chunk of 1 to 8 (the fixed-algorithm
// dequantized GEMM in bf16, the GEMV in the f32 mode).
TEST_P(CudaAffine, RowsAreBatchInvariant) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  const int64_t m = 11, n = 1030, k = 2048;
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    const int group = bits == 3 ? 32 : bits == 6 ? 128 : 64;
    const auto a = kernels::testing::RandomAffine(n, k, bits, group, DType::kBF16, static_cast<uint32_t>(3 + bits));
    const TensorView w = Upload(be, a, n, k);
    const std::vector<float> x = RandomBf16(static_cast<size_t>(m * k), 5);
    TensorView all = Poisoned(be, Act(), Shape{m, n});
    be.Matmul(ToDevice(be, x, Act(), Shape{m, k}), w, all, false, 0);
    const std::vector<float> batched = ToHost(be, all);
    TensorView all_prompt = Poisoned(be, Act(), Shape{m, n});
    be.Matmul(ToDevice(be, x, Act(), Shape{m, k}), w, all_prompt, false, m);
    const std::vector<float> prompt = ToHost(be, all_prompt);
    for (int64_t rows : {1, 2, 3, 4, 5, 8}) {
      const std::vector<float> xs(x.end() - rows * k, x.end());
      TensorView part = Poisoned(be, Act(), Shape{rows, n});
      be.Matmul(ToDevice(be, xs, Act(), Shape{rows, k}), w, part, false, rows);
      EXPECT_EQ(ToHost(be, part), std::vector<float>(prompt.end() - rows * n, prompt.end()))
          << "bits " << bits << " prompt rows " << rows;
      std::vector<float> xm(x.begin(), x.begin() + k);
      for (int64_t r = 1; r < rows; ++r) xm.insert(xm.end(), x.begin() + (m - r) * k, x.begin() + (m - r + 1) * k);
      TensorView mixed = Poisoned(be, Act(), Shape{rows, n});
      be.Matmul(ToDevice(be, xm, Act(), Shape{rows, k}), w, mixed, false, 0);
      const std::vector<float> got = ToHost(be, mixed);
      EXPECT_EQ(std::vector<float>(got.begin(), got.begin() + n),
                std::vector<float>(batched.begin(), batched.begin() + n))
          << "bits " << bits << " rows " << rows << " (first row, other companions)";
    }
  }
}

TEST_P(CudaAffine, EmbeddingMatchesRef) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  const int64_t vocab = 37, d = 192, n = 7;
  const auto a = kernels::testing::RandomAffine(vocab, d, 3, 64, DType::kF16, 9);
  StagedBatch s;
  for (int64_t t = 0; t < n; ++t) {
    s.tokens.push_back(static_cast<int32_t>((t * 11 + 2) % vocab));
    s.positions.push_back(static_cast<int32_t>(t));
    s.slots.push_back(static_cast<int32_t>(t));
  }
  s.q_len = {static_cast<int32_t>(n)};
  s.tables = {0};
  ASSERT_TRUE(be.BeginForward(s.meta()).ok());
  TensorView out = Poisoned(be, Act(), Shape{n, d});
  be.Embedding(Upload(be, a, vocab, d), 1.5f, out);
  std::vector<float> want(static_cast<size_t>(n * d));
  kernels::EmbeddingParams p{a.data(), DType::kAffine, s.tokens.data(), want.data(), n, d, vocab, 1.5f, a.q};
  kernels::ref::Embedding(p);
  if (!F32())
    for (float& v : want) v = Bf16ToF32(F32ToBf16(v));
  EXPECT_LT(RelError(ToHost(be, out), want), F32() ? 1e-6 : 1e-3);
}

}  // namespace
}  // namespace ax::cuda_testing
