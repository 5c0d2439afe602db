// The k best entries of each f32 row, in canonical order (value descending, index
// ascending; NaN ranks below -inf), for sampling on the host from k candidates instead of
// a row of logits. One block per row:
//   1. radix select on order-preserving 32-bit keys, 8 bits per pass (a shared
//      histogram per pass), finds the key T of the k-th best and how many entries equal
//      to T are needed;
//   2. one pass collects every entry above T, and the entries equal to T; when more of
//      those exist than the block can hold, an index-ordered pass takes the lowest ones;
//   3. the k entries are ranked against each other and written in order.
// And each row's mass at a temperature (RowMassKernel), which with the k best decides
// most top-p draws on the host.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kThreads = 1024;

// Larger float → larger key; NaN → 0 (below -inf, which maps to 0x007fffff).
__device__ __forceinline__ uint32_t Key(float v) {
  const uint32_t u = __float_as_uint(v);
  if (v != v) return 0u;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__global__ void __launch_bounds__(kThreads) TopKRowsKernel(const float* __restrict__ x, int64_t n, int k,
                                                          int32_t* __restrict__ out_ids, float* __restrict__ out_vals) {
  __shared__ uint32_t s_hist[256];
  __shared__ uint32_t s_prefix, s_mask, s_need;  // need: entries equal to the final key still to take
  __shared__ int32_t s_ids[2 * kTopKMax];         // [0, k): chosen; [k, 2k): equal-key candidates
  __shared__ float s_vals[2 * kTopKMax];
  __shared__ int s_above, s_equal;
  __shared__ int s_warp[kThreads / 32];
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const float* row = x + static_cast<int64_t>(blockIdx.x) * n;
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  if (tid == 0) {
    s_prefix = 0;
    s_mask = 0;
    s_need = static_cast<uint32_t>(k);
    s_above = 0;
    s_equal = 0;
  }
  for (int shift = 24; shift >= 0; shift -= 8) {
    if (tid < 256) s_hist[tid] = 0;
    __syncthreads();
    const uint32_t prefix = s_prefix, mask = s_mask;
    for (int64_t j = tid; j < n; j += kThreads) {
      const uint32_t key = Key(row[j]);
      if ((key & mask) == prefix) atomicAdd(&s_hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (warp == 0) {
      // Lane l sums bins [255 - 8l - 7, 255 - 8l] (from the top); a scan over lanes finds
      // the group, then the lane walks its 8 bins down to the one that completes `need`.
      uint32_t sum = 0;
#pragma unroll
      for (int b = 0; b < 8; ++b) sum += s_hist[255 - 8 * lane - b];
      uint32_t incl = sum;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const uint32_t v = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += v;
      }
      const uint32_t need = s_need;
      const uint32_t excl = incl - sum;
      if (excl < need && incl >= need) {  // exactly one lane
        uint32_t acc = excl;
        for (int b = 0; b < 8; ++b) {
          const int bin = 255 - 8 * lane - b;
          if (acc + s_hist[bin] >= need) {
            s_prefix = prefix | (static_cast<uint32_t>(bin) << shift);
            s_mask = mask | (255u << shift);
            s_need = need - acc;
            break;
          }
          acc += s_hist[bin];
        }
      }
    }
    __syncthreads();
  }
  const uint32_t kth = s_prefix, need = s_need;  // k - need entries lie above kth
  for (int64_t j = tid; j < n; j += kThreads) {
    const float v = row[j];
    const uint32_t key = Key(v);
    if (key > kth) {
      const int at = atomicAdd(&s_above, 1);
      s_ids[at] = static_cast<int32_t>(j);
      s_vals[at] = v;
    } else if (key == kth) {
      const int at = atomicAdd(&s_equal, 1);
      if (at < kTopKMax) {
        s_ids[k + at] = static_cast<int32_t>(j);
        s_vals[k + at] = v;
      }
    }
  }
  __syncthreads();
  const int above = k - static_cast<int>(need), equal = s_equal;
  if (equal <= kTopKMax) {
    // The `need` lowest indices among the equal candidates, by rank.
    if (tid < equal) {
      const int32_t id = s_ids[k + tid];
      int rank = 0;
      for (int i = 0; i < equal; ++i) rank += s_ids[k + i] < id;
      if (rank < static_cast<int>(need)) {
        s_ids[above + rank] = id;
        s_vals[above + rank] = s_vals[k + tid];
      }
    }
  } else {
    // Many equal entries (e.g. a masked row of -inf): take them in index order, one
    // tile of kThreads consecutive indices at a time.
    int taken = 0;
    for (int64_t base = 0; base < n && taken < static_cast<int>(need); base += kThreads) {
      const int64_t j = base + tid;
      const bool eq = j < n && Key(row[j]) == kth;
      const uint32_t ballot = __ballot_sync(0xffffffffu, eq);
      if (lane == 0) s_warp[warp] = __popc(ballot);
      __syncthreads();
      int before = taken;
      for (int w = 0; w < warp; ++w) before += s_warp[w];
      before += __popc(ballot & ((1u << lane) - 1u));
      if (eq && before < static_cast<int>(need)) {
        s_ids[above + before] = static_cast<int32_t>(j);
        s_vals[above + before] = row[j];
      }
      int total = 0;
      for (int w = 0; w < kThreads / 32; ++w) total += s_warp[w];
      taken += total;
      __syncthreads();
    }
  }
  __syncthreads();
  // Canonical order: rank each of the k chosen against the others.
  if (tid < k) {
    const float v = s_vals[tid];
    const int32_t id = s_ids[tid];
    const uint32_t key = Key(v);
    int rank = 0;
    for (int i = 0; i < k; ++i) {
      const uint32_t ki = Key(s_vals[i]);
      rank += ki > key || (ki == key && s_ids[i] < id);
    }
    out_ids[static_cast<int64_t>(blockIdx.x) * k + rank] = id;
    out_vals[static_cast<int64_t>(blockIdx.x) * k + rank] = v;
  }
}

}  // namespace

Status LaunchTopKRows(const float* x, int64_t rows, int64_t n, int k, int32_t* ids, float* vals,
                      cudaStream_t stream) {
  if (rows == 0) return Status::Ok();
  if (k < 1 || k > kTopKMax || n < k || n > 0x7ffffffe)
    return InvalidArgument("LaunchTopKRows: k must be in [1, " + std::to_string(kTopKMax) + "] and at most the row");
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(TopKRowsKernel, dim3(static_cast<unsigned>(rows)), dim3(kThreads), 0, stream,
                                         x, n, k, ids, vals));
  return AX_CUDA_LAUNCH_STATUS("TopKRowsKernel");
}

namespace {

constexpr int kMassThreads = 512;

// One block per row: expf per entry (2 ulp), summed per thread in double, then across
// the block; well within Backend::kRowMassRelError.
__global__ void __launch_bounds__(kMassThreads)
    RowMassKernel(const float* __restrict__ x, int64_t n, const float* __restrict__ best, int64_t best_stride,
                  const float* __restrict__ inv_t, float* __restrict__ mass) {
  __shared__ double s_warp[kMassThreads / 32];
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t r = blockIdx.x;
  const float* row = x + r * n;
  const float b = best[r * best_stride], s = inv_t[r];
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += kMassThreads) acc += expf((row[j] - b) * s);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (lane == 0) s_warp[warp] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int w = 0; w < kMassThreads / 32; ++w) total += s_warp[w];
    mass[r] = static_cast<float>(total);
  }
}

}  // namespace

Status LaunchRowMass(const float* x, int64_t rows, int64_t n, const float* best, int64_t best_stride,
                     const float* inv_t, float* mass, cudaStream_t stream) {
  if (rows == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(RowMassKernel, dim3(static_cast<unsigned>(rows)), dim3(kMassThreads), 0,
                                         stream, x, n, best, best_stride, inv_t, mass));
  return AX_CUDA_LAUNCH_STATUS("RowMassKernel");
}

}  // namespace ax::kernels::cuda
