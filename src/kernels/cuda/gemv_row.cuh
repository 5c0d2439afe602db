// The weight-row dot product of the GEMV kernels (gemv.cu) and of the MoE experts
// (moe.cu): one warp streams a bf16 weight row against up to 8 activation rows.
#pragma once

#include "kernels/cuda/common.cuh"

namespace ax::kernels::cuda::detail {

// acc + the 8 weights in w · x's 8-element vector number v, in the order of Dot8.
__device__ __forceinline__ float XDot8(uint4 w, const uint16_t* x, int64_t v, float acc) {
  return Dot8(w, __ldg(reinterpret_cast<const uint4*>(x) + v), acc);
}
__device__ __forceinline__ float XDot8(uint4 w, const float* x, int64_t v, float acc) {
  const float4* x4 = reinterpret_cast<const float4*>(x) + 2 * v;
  const float4 a = __ldg(x4), b = __ldg(x4 + 1);
  acc = fmaf(LoHalf(w.x), a.x, acc);
  acc = fmaf(HiHalf(w.x), a.y, acc);
  acc = fmaf(LoHalf(w.y), a.z, acc);
  acc = fmaf(HiHalf(w.y), a.w, acc);
  acc = fmaf(LoHalf(w.z), b.x, acc);
  acc = fmaf(HiHalf(w.z), b.y, acc);
  acc = fmaf(LoHalf(w.w), b.z, acc);
  acc = fmaf(HiHalf(w.w), b.w, acc);
  return acc;
}

// acc[m] = x[m, :] · (weight row wr) over the 16-byte vectors first, first + kStride,
// ... < kv, summed over the warp (every lane gets the sums): a warp takes a whole row
// (first = lane, kStride = 32) or an interleaved share of it. The first U weight
// vectors are loaded before waiting for the previous kernel (weights are never written
// by a kernel), so the stream of weight bytes starts while the producer of x drains.
// The order of the sum depends only on kv, kStride and first, never on M (batch
// invariance). A warp with !valid (a row past the matrix) loads nothing but still
// waits, so it can join block-wide merges.
template <int M, int U, int kStride = 32, typename X>
__device__ __forceinline__ void WarpRowDot(const X* __restrict__ x, const uint4* __restrict__ wr, int64_t kv,
                                           int64_t first, bool valid, float (&acc)[M]) {
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.0f;
  int64_t i = first;
  uint4 wv[U];
  const bool full = valid && i + kStride * (U - 1) < kv;
  if (full) {
#pragma unroll
    for (int u = 0; u < U; ++u) wv[u] = LoadStreaming(wr + i + kStride * u);
  }
  GridDependencyWait();
  LaunchDependents();
  if (full) {
    while (true) {
#pragma unroll
      for (int u = 0; u < U; ++u) {
#pragma unroll
        for (int m = 0; m < M; ++m) acc[m] = XDot8(wv[u], x, m * kv + i + kStride * u, acc[m]);
      }
      i += kStride * U;
      if (i + kStride * (U - 1) >= kv) break;
#pragma unroll
      for (int u = 0; u < U; ++u) wv[u] = LoadStreaming(wr + i + kStride * u);
    }
  }
  if (valid) {
    for (; i < kv; i += kStride) {
      const uint4 v = LoadStreaming(wr + i);
#pragma unroll
      for (int m = 0; m < M; ++m) acc[m] = XDot8(v, x, m * kv + i, acc[m]);
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = WarpSum(acc[m]);
}

}  // namespace ax::kernels::cuda::detail
