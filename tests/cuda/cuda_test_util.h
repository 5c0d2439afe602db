// Helpers for the CUDA tests: they reach the GPU only through the Backend interface
// (no CUDA header outside src/kernels/cuda and src/backend/cuda), so device buffers
// are made by uploading host data (poisoned with NaN for outputs) and read back with
// ReadToHost. Every test skips when no CUDA device is usable (CI compiles them).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "kernels/ref/ref.h"
#include "tensor/dtype.h"

namespace ax::cuda_testing {

inline std::unique_ptr<Backend> MakeCuda(Precision precision, int max_sequences = 0) {
  BackendOptions opts;
  opts.precision = precision;
  opts.max_sequences = max_sequences;
  auto r = CreateBackend("cuda", opts);
  if (!r.ok()) {
    std::fprintf(stderr, "no CUDA backend: %s\n", r.status().message().c_str());
    return nullptr;
  }
  std::fprintf(stderr, "CUDA backend: %s\n", (*r)->Describe().c_str());
  return std::move(r).value();
}

// The process-wide CUDA backend for op tests, or nullptr (with the reason printed once).
inline Backend* Cuda() {
  static std::unique_ptr<Backend> be = MakeCuda(Precision::kAuto);
  return be.get();
}

// The bf16 backend of a single-sequence engine (max_seqs 1): generated rows on the GEMV
// instead of the row GEMM.
inline Backend* CudaGemv() {
  static std::unique_ptr<Backend> be = MakeCuda(Precision::kAuto, 1);
  return be.get();
}

// The same in the f32 precision mode (f32 activations and KV cache).
inline Backend* CudaF32() {
  static std::unique_ptr<Backend> be = MakeCuda(Precision::kF32);
  return be.get();
}

// kernels/ref's matmul: y[m, n] (+)= x[m, k] · w[n, k]^T, starting from *y0 when given.
inline std::vector<float> RefMatmul(const std::vector<float>& x, const std::vector<float>& w, int64_t m, int64_t n,
                                     int64_t k, const std::vector<float>* y0) {
  std::vector<float> y = y0 != nullptr ? *y0 : std::vector<float>(static_cast<size_t>(m * n));
  kernels::MatmulParams p;
  p.x = x.data();
  p.w = w.data();
  p.y = y.data();
  p.m = m;
  p.n = n;
  p.k = k;
  p.accumulate = y0 != nullptr;
  kernels::ref::Matmul(p);
  return y;
}

#define AX_REQUIRE_CUDA()                                    \
  do {                                                       \
    if (::ax::cuda_testing::Cuda() == nullptr) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

// Root of the checkout at run time: $AX_SOURCE_DIR (the device machine runs a
// carried build from another path) or the configure-time path.
inline std::string SourceDir() {
  const char* env = std::getenv("AX_SOURCE_DIR");
  return env != nullptr ? env : AX_SOURCE_DIR_DEFAULT;
}

inline std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Values rounded to bf16, so host reference and device see the same inputs.
inline std::vector<float> RandomBf16(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v = Random(n, seed, lo, hi);
  for (float& x : v) x = Bf16ToF32(F32ToBf16(x));
  return v;
}

// A device tensor of `shape` and dtype (bf16 or f32) holding `values` (uploaded as a
// vector so that the backend keeps the dtype, then viewed with the shape).
inline TensorView ToDevice(Backend& be, const std::vector<float>& values, DType dt, const Shape& shape) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.numel());
  TensorView host{const_cast<float*>(values.data()), DType::kF32, Shape{shape.numel()}, Device::kCpu};
  auto r = be.UploadWeight(host, dt);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  TensorView t = r.value();
  EXPECT_EQ(t.dtype, dt);
  t.shape = shape;
  return t;
}

inline TensorView Poisoned(Backend& be, DType dt, const Shape& shape) {
  return ToDevice(be, std::vector<float>(static_cast<size_t>(shape.numel()), NAN), dt, shape);
}

inline std::vector<float> ToHost(Backend& be, const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  if (t.dtype == DType::kF32) {
    Status s = be.ReadToHost(t, out.data(), t.nbytes());
    EXPECT_TRUE(s.ok()) << s.ToString();
  } else {
    std::vector<uint16_t> raw(out.size());
    Status s = be.ReadToHost(t, raw.data(), t.nbytes());
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (size_t i = 0; i < raw.size(); ++i) out[i] = Bf16ToF32(raw[i]);
  }
  return out;
}

// ‖got − want‖ / ‖want‖, or +inf when any element of got is NaN/inf (unwritten).
inline double RelError(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    const double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

// bf16 storage: 8 bits of mantissa, so ~2^-9 per rounding; outputs that went through
// one or two roundings land well under this.
inline constexpr double kBf16Tol = 8e-3;
// f32 activations: f32 arithmetic in another order than the oracle, and prompt-row
// matmuls through split bf16 GEMMs (about 2^-17 of each input).
inline constexpr double kF32Tol = 1e-4;

}  // namespace ax::cuda_testing
