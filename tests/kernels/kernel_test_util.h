// Helpers shared by the kernel tests: seeded random data, NaN poisoning, thread pools.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
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

}  // namespace ax::kernels::testing
