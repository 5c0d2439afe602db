// Row argmax of f32 logits on the device (greedy steps read back one id per row, not a
// row of logits): one block per row, 16-byte loads, each thread keeps its (max, index)
// and the block reduces them. Lowest index on ties; NaN never wins (a row of NaN
// gives 0).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kThreads = 1024;

// (v, i) replaces (best, at) when larger, or equal with a lower index.
__device__ __forceinline__ void Take(float v, int i, float& best, int& at) {
  if (v > best || (v == best && i < at)) {
    best = v;
    at = i;
  }
}

__global__ void __launch_bounds__(kThreads) ArgmaxRowsKernel(const float* __restrict__ x, int64_t n,
                                                             int32_t* __restrict__ ids, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const float* row = x + static_cast<int64_t>(blockIdx.x) * n;
  float best = -INFINITY;
  int at = 0x7fffffff;
  if (vec) {
    const float4* r4 = reinterpret_cast<const float4*>(row);
    for (int64_t j = threadIdx.x; j < n / 4; j += kThreads) {
      const float4 v = r4[j];
      const int i = static_cast<int>(4 * j);
      Take(v.x, i, best, at);
      Take(v.y, i + 1, best, at);
      Take(v.z, i + 2, best, at);
      Take(v.w, i + 3, best, at);
    }
  } else {
    for (int64_t j = threadIdx.x; j < n; j += kThreads) Take(row[j], static_cast<int>(j), best, at);
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const int i = __shfl_xor_sync(0xffffffffu, at, o);
    Take(v, i, best, at);
  }
  __shared__ float s_best[kThreads / 32];
  __shared__ int s_at[kThreads / 32];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (lane == 0) {
    s_best[warp] = best;
    s_at[warp] = at;
  }
  __syncthreads();
  if (warp != 0) return;
  best = s_best[lane];
  at = s_at[lane];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const int i = __shfl_xor_sync(0xffffffffu, at, o);
    Take(v, i, best, at);
  }
  if (lane == 0) ids[blockIdx.x] = at == 0x7fffffff ? 0 : at;
}

}  // namespace

Status LaunchArgmaxRows(const float* x, int64_t rows, int64_t n, int32_t* ids, cudaStream_t stream) {
  if (rows == 0) return Status::Ok();
  if (n <= 0 || n > 0x7ffffffe) return InvalidArgument("LaunchArgmaxRows: row length out of range");
  const bool vec = n % 4 == 0 && detail::Aligned16(x);
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(ArgmaxRowsKernel, dim3(static_cast<unsigned>(rows)), dim3(kThreads), 0,
                                         stream, x, n, ids, vec));
  return AX_CUDA_LAUNCH_STATUS("ArgmaxRowsKernel");
}

}  // namespace ax::kernels::cuda
