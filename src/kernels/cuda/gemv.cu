// Batch-1..8 matmul (decode, draft verification): y[m, n] (+)= x[m, k] · w[n, k]^T.
// Memory-bound on the weight: each weight row is read once, with 16-byte streaming
// loads (no L1 allocation), U loads in flight per lane; x rows (small) come through
// the read-only cache. One warp per output row, 8 rows per 256-thread block; the
// warp reduces its M partial sums with shuffles and lane 0 writes (adding to y when
// accumulating: the fused residual add). x is bf16 or, in the f32 precision mode, f32
// (32-byte loads per 8 weights; the products are then exact f32).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemv_row.cuh"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

using detail::Bf16ToF32;
using detail::F32ToBf16;
using detail::WarpRowDot;

template <bool kOutF32>
__device__ __forceinline__ void Store(void* y, int64_t idx, float v, bool accumulate) {
  if constexpr (kOutF32) {
    float* p = static_cast<float*>(y) + idx;
    *p = accumulate ? *p + v : v;
  } else {
    uint16_t* p = static_cast<uint16_t*>(y) + idx;
    *p = F32ToBf16(accumulate ? Bf16ToF32(*p) + v : v);
  }
}

// Block b of 8 warps: warp i takes row 8b + i of w [n, k] (if < n), and its lane 0
// hands the M sums to store(m, row, sum).
template <int M, int U, typename X, typename StoreFn>
__device__ __forceinline__ void BlockRowsDot(const X* __restrict__ x, const uint16_t* __restrict__ w,
                                             int64_t n, int64_t k, int64_t b, StoreFn store) {
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row = b * 8 + warp;
  if (row >= n) return;
  float acc[M];
  WarpRowDot<M, U>(x, reinterpret_cast<const uint4*>(w + row * k), k / 8, lane, true, acc);
  if (lane == 0) {
#pragma unroll
    for (int m = 0; m < M; ++m) store(m, row, acc[m]);
  }
}

// REQUIRES: k % 8 == 0, x and w 16-byte aligned.
template <int M, int U, bool kOutF32, typename X>
__global__ void __launch_bounds__(256) GemvKernel(const X* __restrict__ x, const uint16_t* __restrict__ w,
                                                  void* __restrict__ y, int64_t n, int64_t k, bool accumulate) {
  BlockRowsDot<M, U>(x, w, n, k, blockIdx.x,
                     [&](int m, int64_t row, float s) { Store<kOutF32>(y, m * n + row, s, accumulate); });
}

// Several matrices of one input in one launch (a layer's q, k and v projections):
// blocks [0, blocks[0]) serve matrix 0, the next blocks[1] matrix 1, and so on; each
// row as in GemvKernel, bf16 out. One launch instead of three, and the narrow k/v
// matrices no longer leave most SMs idle on their own.
template <typename T>
struct GemvMats {
  const uint16_t* w[kGemvMaxMats];
  T* y[kGemvMaxMats];
  int64_t n[kGemvMaxMats];
  int blocks[kGemvMaxMats];
  int count;
};

// act[m, j] = silu(gate_j · x[m]) * (up_j · x[m]) for a gate/up matrix [2·f, k] (gate
// rows, then up rows): block b's warps 0-3 take gate rows 4b..4b+3 and warps 4-7 the
// matching up rows, and the block applies SiLU to its four pairs. The gate_up row
// of activations is never written, and the SiLU kernel is not launched. Each product is
// rounded to T first, as the unfused path stores it, so both give the same bits.
// REQUIRES: f % 4 == 0, k % 8 == 0, x and w 16-byte aligned.
template <int M, int U, typename T>
__global__ void __launch_bounds__(256) GemvSiluKernel(const T* __restrict__ x, const uint16_t* __restrict__ w,
                                                      T* __restrict__ act, int64_t f, int64_t k) {
  __shared__ float s[8][M];
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * 4;
  const int64_t row = (warp < 4 ? 0 : f) + j0 + warp % 4;
  const int64_t kv = k / 8;
  float acc[M];
  WarpRowDot<M, U>(x, reinterpret_cast<const uint4*>(w + row * k), kv, lane, true, acc);
  if (lane == 0) {
#pragma unroll
    for (int m = 0; m < M; ++m) s[warp][m] = acc[m];
  }
  __syncthreads();
  if (threadIdx.x < 4 * M) {
    const int m = static_cast<int>(threadIdx.x) / 4, j = static_cast<int>(threadIdx.x) % 4;
    act[m * f + j0 + j] =
        detail::FromF32<T>(detail::SiluTimes(detail::RoundAs<T>(s[j][m]), detail::RoundAs<T>(s[4 + j][m])));
  }
}

template <int M, int U, typename T>
__global__ void __launch_bounds__(256) GemvGroupKernel(const T* __restrict__ x, GemvMats<T> mats, int64_t k) {
  // The block's matrix, with constant indices only (a dynamic index into the kernel
  // parameters would copy them to local memory first).
  int b = static_cast<int>(blockIdx.x);
  const uint16_t* w = mats.w[0];
  T* y = mats.y[0];
  int64_t n = mats.n[0];
  bool past = true;  // b lies past matrices [0, i)
#pragma unroll
  for (int i = 1; i < kGemvMaxMats; ++i) {
    past = past && i < mats.count && b >= mats.blocks[i - 1];
    if (past) {
      b -= mats.blocks[i - 1];
      w = mats.w[i];
      y = mats.y[i];
      n = mats.n[i];
    }
  }
  BlockRowsDot<M, U>(x, w, n, k, b, [&](int m, int64_t row, float s) { y[m * n + row] = detail::FromF32<T>(s); });
}

// Narrow matrices (k_proj / v_proj: n = 1024 rows would give one block per SM):
// four warps per row, each over an interleaved quarter of k, merged in shared memory;
// two rows per block. REQUIRES: k % 8 == 0, x and w 16-byte aligned.
template <int M, int U, bool kOutF32, typename X>
__global__ void __launch_bounds__(256) GemvSplitKernel(const X* __restrict__ x,
                                                       const uint16_t* __restrict__ w, void* __restrict__ y,
                                                       int64_t n, int64_t k, bool accumulate) {
  constexpr int kW = 4;
  constexpr int64_t kStride = 32 * kW;
  __shared__ float red[8][M];
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row = static_cast<int64_t>(blockIdx.x) * (8 / kW) + warp / kW;
  const bool valid = row < n;
  const int64_t kv = k / 8;
  const uint4* wr = reinterpret_cast<const uint4*>(w + (valid ? row : 0) * k);
  float acc[M];
  WarpRowDot<M, U, kStride>(x, wr, kv, lane + 32 * (warp % kW), valid, acc);
  if (lane == 0) {
#pragma unroll
    for (int m = 0; m < M; ++m) red[warp][m] = acc[m];
  }
  __syncthreads();
  if (valid && lane == 0 && warp % kW == 0) {
#pragma unroll
    for (int m = 0; m < M; ++m) {
      float s = 0.0f;
#pragma unroll
      for (int q = 0; q < kW; ++q) s += red[warp + q][m];
      Store<kOutF32>(y, m * n + row, s, accumulate);
    }
  }
}

// Any k and alignment (e.g. stories260K's intermediate size 172): scalar loads.
template <bool kOutF32, typename X>
__global__ void __launch_bounds__(256) GemvScalarKernel(const X* __restrict__ x,
                                                        const uint16_t* __restrict__ w, void* __restrict__ y,
                                                        int m_rows, int64_t n, int64_t k, bool accumulate) {
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row = static_cast<int64_t>(blockIdx.x) * 8 + warp;
  detail::GridDependencyWait();
  detail::LaunchDependents();
  if (row >= n) return;
  float acc[kGemvMaxRows];
#pragma unroll
  for (int m = 0; m < kGemvMaxRows; ++m) acc[m] = 0.0f;
  for (int64_t j = lane; j < k; j += 32) {
    const float wj = Bf16ToF32(w[row * k + j]);
#pragma unroll
    for (int m = 0; m < kGemvMaxRows; ++m)
      if (m < m_rows) acc[m] = fmaf(wj, detail::ToF32(x[m * k + j]), acc[m]);
  }
#pragma unroll
  for (int m = 0; m < kGemvMaxRows; ++m) {
    if (m < m_rows) {
      const float s = detail::WarpSum(acc[m]);
      if (lane == 0) Store<kOutF32>(y, m * n + row, s, accumulate);
    }
  }
}

// Weight vectors each lane loads before the grid wait and keeps in flight: a short
// row (k <= 4096 for one or two x rows) is loaded whole before the wait, so a
// projection's weight stream starts while the previous kernel drains instead of
// ramping up after it (a 4096 x 4096 GEMV is only ~8 us at the copy bandwidth). The
// order of each row's sum does not depend on U.
template <int M>
constexpr int Unroll(bool whole_row) {
  return whole_row && M <= 2 ? 16 : M <= 2 ? 8 : 4;
}
inline bool WholeRow(int64_t k) { return k / 8 <= 32 * 16 && detail::GemvWholeRowEnabled(); }

// Matrices of at most this many rows take the split-k kernel.
constexpr int64_t kSplitMaxRows = 2048;

// The kernel is chosen by the matrix alone (never by m): a row's sum runs in the same
// order whether it is computed alone or with up to 7 others (batch invariance).
template <int M, bool kOutF32, typename X>
cudaError_t Launch(const MatmulParamsT<X>& p, cudaStream_t stream) {
  if (p.n <= kSplitMaxRows && detail::GemvSplitEnabled()) {
    constexpr int kSplitUnroll = M <= 2 ? 4 : 2;
    return detail::Launch(GemvSplitKernel<M, kSplitUnroll, kOutF32, X>, dim3(detail::Blocks(p.n, 2)), dim3(256), 0,
                          stream, p.x, p.w, p.y, p.n, p.k, p.accumulate);
  }
  const dim3 grid(detail::Blocks(p.n, 8));
  if (WholeRow(p.k) && M <= 2)
    return detail::Launch(GemvKernel<M, Unroll<M>(true), kOutF32, X>, grid, dim3(256), 0, stream, p.x, p.w, p.y, p.n,
                          p.k, p.accumulate);
  return detail::Launch(GemvKernel<M, Unroll<M>(false), kOutF32, X>, grid, dim3(256), 0, stream, p.x, p.w, p.y, p.n,
                        p.k, p.accumulate);
}

template <bool kOutF32, typename X>
cudaError_t Dispatch(const MatmulParamsT<X>& p, cudaStream_t stream) {
  switch (p.m) {
    case 1: return Launch<1, kOutF32>(p, stream);
    case 2: return Launch<2, kOutF32>(p, stream);
    case 3: return Launch<3, kOutF32>(p, stream);
    case 4: return Launch<4, kOutF32>(p, stream);
    case 5: return Launch<5, kOutF32>(p, stream);
    case 6: return Launch<6, kOutF32>(p, stream);
    case 7: return Launch<7, kOutF32>(p, stream);
    default: return Launch<8, kOutF32>(p, stream);
  }
}

template <int M, typename T>
cudaError_t LaunchGroup(const T* x, const GemvMats<T>& mats, int blocks, int64_t k, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(blocks));
  return WholeRow(k) ? detail::Launch(GemvGroupKernel<M, Unroll<M>(true), T>, grid, dim3(256), 0, stream, x, mats, k)
                     : detail::Launch(GemvGroupKernel<M, Unroll<M>(false), T>, grid, dim3(256), 0, stream, x, mats, k);
}

template <int M, typename T>
cudaError_t LaunchSilu(const GemvSiluParamsT<T>& p, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(p.f / 4));
  if (WholeRow(p.k))
    return detail::Launch(GemvSiluKernel<M, Unroll<M>(true), T>, grid, dim3(256), 0, stream, p.x, p.w, p.act, p.f,
                          p.k);
  return detail::Launch(GemvSiluKernel<M, Unroll<M>(false), T>, grid, dim3(256), 0, stream, p.x, p.w, p.act, p.f, p.k);
}

}  // namespace

template <typename T>
bool GemvSiluSupports(const GemvSiluParamsT<T>& p) {
  return p.f > 0 && p.f % 4 == 0 && p.k % 8 == 0 && detail::Aligned16(p.x) && detail::Aligned16(p.w);
}

template <typename T>
Status LaunchGemvSilu(const GemvSiluParamsT<T>& p, cudaStream_t stream) {
  if (p.m <= 0 || p.m > kGemvMaxRows) return InvalidArgument("LaunchGemvSilu: m must be in [1, 8]");
  if (!GemvSiluSupports(p)) return InvalidArgument("LaunchGemvSilu: f % 4, k % 8 or alignment unsupported");
  cudaError_t e = cudaSuccess;
  switch (p.m) {
    case 1: e = LaunchSilu<1>(p, stream); break;
    case 2: e = LaunchSilu<2>(p, stream); break;
    case 3: e = LaunchSilu<3>(p, stream); break;
    case 4: e = LaunchSilu<4>(p, stream); break;
    case 5: e = LaunchSilu<5>(p, stream); break;
    case 6: e = LaunchSilu<6>(p, stream); break;
    case 7: e = LaunchSilu<7>(p, stream); break;
    default: e = LaunchSilu<8>(p, stream); break;
  }
  AX_CUDA_RETURN_IF_ERROR(e);
  return AX_CUDA_LAUNCH_STATUS("GemvSiluKernel");
}

template <typename T>
bool GemvGroupSupports(const GemvGroupParamsT<T>& p) {
  if (p.count < 1 || p.count > kGemvMaxMats || p.k % 8 != 0 || !detail::Aligned16(p.x)) return false;
  for (int i = 0; i < p.count; ++i) {
    if (!detail::Aligned16(p.w[i])) return false;
  }
  return true;
}

template <typename T>
Status LaunchGemvGroup(const GemvGroupParamsT<T>& p, cudaStream_t stream) {
  if (p.m <= 0 || p.m > kGemvMaxRows) return InvalidArgument("LaunchGemvGroup: m must be in [1, 8]");
  if (!GemvGroupSupports(p)) return InvalidArgument("LaunchGemvGroup: k % 8, alignment or matrix count unsupported");
  GemvMats<T> mats{};
  mats.count = p.count;
  int blocks = 0;
  for (int i = 0; i < p.count; ++i) {
    mats.w[i] = p.w[i];
    mats.y[i] = p.y[i];
    mats.n[i] = p.n[i];
    mats.blocks[i] = static_cast<int>(detail::Blocks(p.n[i], 8));
    blocks += mats.blocks[i];
  }
  if (blocks == 0) return Status::Ok();
  cudaError_t e = cudaSuccess;
  switch (p.m) {
    case 1: e = LaunchGroup<1>(p.x, mats, blocks, p.k, stream); break;
    case 2: e = LaunchGroup<2>(p.x, mats, blocks, p.k, stream); break;
    case 3: e = LaunchGroup<3>(p.x, mats, blocks, p.k, stream); break;
    case 4: e = LaunchGroup<4>(p.x, mats, blocks, p.k, stream); break;
    case 5: e = LaunchGroup<5>(p.x, mats, blocks, p.k, stream); break;
    case 6: e = LaunchGroup<6>(p.x, mats, blocks, p.k, stream); break;
    case 7: e = LaunchGroup<7>(p.x, mats, blocks, p.k, stream); break;
    default: e = LaunchGroup<8>(p.x, mats, blocks, p.k, stream); break;
  }
  AX_CUDA_RETURN_IF_ERROR(e);
  return AX_CUDA_LAUNCH_STATUS("GemvGroupKernel");
}

template <typename T>
Status LaunchGemv(const MatmulParamsT<T>& p, cudaStream_t stream) {
  if (p.m <= 0 || p.m > kGemvMaxRows) return InvalidArgument("LaunchGemv: m must be in [1, 8]");
  if (p.n == 0) return Status::Ok();
  const bool vec = p.k % 8 == 0 && detail::Aligned16(p.x) && detail::Aligned16(p.w);
  const dim3 grid(detail::Blocks(p.n, 8)), block(256);
  const int m = static_cast<int>(p.m);
  if (vec) {
    AX_CUDA_RETURN_IF_ERROR(p.y_f32 ? Dispatch<true>(p, stream) : Dispatch<false>(p, stream));
  } else if (p.y_f32) {
    AX_CUDA_RETURN_IF_ERROR(
        detail::Launch(GemvScalarKernel<true, T>, grid, block, 0, stream, p.x, p.w, p.y, m, p.n, p.k, p.accumulate));
  } else {
    AX_CUDA_RETURN_IF_ERROR(
        detail::Launch(GemvScalarKernel<false, T>, grid, block, 0, stream, p.x, p.w, p.y, m, p.n, p.k, p.accumulate));
  }
  return AX_CUDA_LAUNCH_STATUS("GemvKernel");
}
#define AX_GEMV_INSTANTIATE(T)                                                    \
  template Status LaunchGemv<T>(const MatmulParamsT<T>&, cudaStream_t);           \
  template Status LaunchGemvGroup<T>(const GemvGroupParamsT<T>&, cudaStream_t);   \
  template Status LaunchGemvSilu<T>(const GemvSiluParamsT<T>&, cudaStream_t);     \
  template bool GemvGroupSupports<T>(const GemvGroupParamsT<T>&);                 \
  template bool GemvSiluSupports<T>(const GemvSiluParamsT<T>&);
AX_GEMV_INSTANTIATE(bf16_bits)
AX_GEMV_INSTANTIATE(float)
#undef AX_GEMV_INSTANTIATE

}  // namespace ax::kernels::cuda
