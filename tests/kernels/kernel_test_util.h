// Helpers shared by the kernel tests: seeded random data, NaN poisoning, thread pools.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace ax::kernels::testing {

inline constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

// The pools the tests run every kernel on (1, 2 and 3 threads; 3 > cores on purpose:
// uneven chunks and more threads than work).
inline ThreadPool& Pool(int threads) {
  static std::unique_ptr<ThreadPool> pools[4];
  if (!pools[threads]) pools[threads] = std::make_unique<ThreadPool>(threads);
  return *pools[threads];
}
inline constexpr int kThreadCounts[] = {1, 2, 3};

inline std::vector<float> RandomF32(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Weights of dtype dt stored as raw bytes, plus their exact f32 values.
struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> f32;  // the value each element represents (conversion is exact)
  const void* data() const { return bytes.data(); }
};

inline Weights RandomWeights(DType dt, size_t n, uint32_t seed) {
  Weights w;
  w.f32 = RandomF32(n, seed);
  w.bytes.resize(n * DTypeSize(dt));
  for (size_t i = 0; i < n; ++i) {
    if (dt == DType::kF32) {
      reinterpret_cast<float*>(w.bytes.data())[i] = w.f32[i];
    } else {
      const uint16_t h = dt == DType::kBF16 ? F32ToBf16(w.f32[i]) : F32ToF16(w.f32[i]);
      reinterpret_cast<uint16_t*>(w.bytes.data())[i] = h;
      w.f32[i] = dt == DType::kBF16 ? Bf16ToF32(h) : F16ToF32(h);
    }
  }
  return w;
}

inline bool IsPoison(float v) { return std::isnan(v); }

// A random MLX affine-quantized matrix [rows, cols]: random codes written bit by bit
// (code j of a row at bits [j*bits, (j+1)*bits) of its little-endian stream), random
// signed scales and biases in scale_dtype, and the value of every element computed
// here from the bits, independently of tensor/quant.h.
struct AffineWeights {
  std::vector<uint8_t> codes, scales, biases;
  std::vector<float> f32;  // fma(scale, code, bias) of each element
  AffineQuant q;
  const void* data() const { return codes.data(); }
};

inline AffineWeights RandomAffine(int64_t rows, int64_t cols, int bits, int group, DType scale_dtype, uint32_t seed) {
  AffineWeights a;
  std::mt19937 rng(seed);
  const int64_t row_bytes = cols * bits / 8, groups = cols / group;
  a.codes.assign(static_cast<size_t>(rows * row_bytes), 0);
  std::vector<uint32_t> code(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) {
    code[i] = static_cast<uint32_t>(rng() % (1u << bits));
    const int64_t r = i / cols, j = i % cols;
    for (int b = 0; b < bits; ++b) {
      const int64_t bit = j * bits + b;
      if ((code[i] >> b) & 1u) a.codes[r * row_bytes + bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    }
  }
  const size_t esize = DTypeSize(scale_dtype);
  a.scales.resize(static_cast<size_t>(rows * groups) * esize);
  a.biases.resize(a.scales.size());
  std::vector<float> s(static_cast<size_t>(rows * groups)), z(s.size());
  std::uniform_real_distribution<float> mag(0.005f, 0.05f), off(-0.5f, 0.5f);
  for (size_t i = 0; i < s.size(); ++i) {
    const float sv = (rng() & 1u) ? mag(rng) : -mag(rng), bv = off(rng);
    for (auto [v, out, dst] : {std::tuple{sv, &s[i], &a.scales}, std::tuple{bv, &z[i], &a.biases}}) {
      if (scale_dtype == DType::kF32) {
        *out = v;
        std::memcpy(dst->data() + i * 4, &v, 4);
      } else {
        const uint16_t h = scale_dtype == DType::kBF16 ? F32ToBf16(v) : F32ToF16(v);
        *out = scale_dtype == DType::kBF16 ? Bf16ToF32(h) : F16ToF32(h);
        std::memcpy(dst->data() + i * 2, &h, 2);
      }
    }
  }
  a.f32.resize(code.size());
  for (int64_t i = 0; i < rows * cols; ++i) {
    const int64_t g = (i / cols) * groups + (i % cols) / group;
    a.f32[i] = std::fma(s[g], static_cast<float>(code[i]), z[g]);
  }
  a.q = AffineQuant{bits, group, scale_dtype, a.scales.data(), a.biases.data()};
  return a;
}

}  // namespace ax::kernels::testing
