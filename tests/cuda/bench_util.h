// Helpers of the CUDA micro-benchmarks (bench_cuda_ops, bench_gemm_rows): device
// tensors of deterministic pseudo-random values, and the device time of an op run back
// to back.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "backend/backend.h"

namespace ax::bench {

// A device tensor of `shape` (n elements) in dtype dt, values uniform in
// [-value_scale, value_scale) from an LCG seeded by `seed` and n. Exits on failure.
inline TensorView Upload(Backend& be, int64_t n, DType dt, const Shape& shape, float value_scale, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t s = seed + static_cast<uint32_t>(n);
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = (static_cast<float>(s >> 8) / 16777216.0f - 0.5f) * 2.0f * value_scale;
  }
  auto r = be.UploadWeight(TensorView{v.data(), DType::kF32, Shape{n}, Device::kCpu}, dt);
  if (!r.ok()) {
    std::fprintf(stderr, "upload failed: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  TensorView t = r.value();
  t.shape = shape;
  return t;
}

// Microseconds per call of op(i), i = 0 … reps-1, after 3 warm-up calls: the ops run
// back to back on the backend's stream, drained once by a 2-byte read of sync_on (so a
// figure includes the launch gaps a step sees). Exits if an op failed.
inline double TimeOp(Backend& be, const TensorView& sync_on, int reps, const std::function<void(int)>& op) {
  float sink[1];
  for (int i = 0; i < 3; ++i) op(i);
  (void)be.ReadToHost(sync_on, sink, 2);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) op(i);
  const Status s = be.ReadToHost(sync_on, sink, 2);
  const auto t1 = std::chrono::steady_clock::now();
  if (!s.ok()) {
    std::fprintf(stderr, "op failed: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / reps;
}

}  // namespace ax::bench
