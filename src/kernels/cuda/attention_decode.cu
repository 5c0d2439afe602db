// Attention for generated rows (decode tokens and draft rows): one query per row, so
// the work is a handful of K/V rows per (row, kv head) and the kernel must spread keys
// over warps rather than tile queries.
//
// One block of 4 warps per (row, kv head, key split). Lane l holds dimensions
// [l·E, l·E + E) of the group's query heads (E = 1, 2 or 4 bf16 per lane, head_dim ≤ 32·E)
// and each warp takes 8 of every 32 keys: per key one K and one V load per lane (all 8
// issued together) and a warp-sum per query head (all independent, so they pipeline),
// then one online-softmax update per head for the 8 keys, in registers. The four
// warps merge in shared memory.
//
// Splits are a function of the row's own key count (DecodeSplitKeys), never of the
// batch or the grid, so a row gives the same bits alone, batched, or replayed from a
// CUDA graph whose grid was sized for the longest context (blocks past the row's last
// split exit at once). With more than one split each block writes (acc, m, l) to
// `partial`; the last block of a (row, kv head) to finish, counted in split_counters,
// merges them in split order and resets the counter (no second kernel).
#include <algorithm>
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

using detail::Bf16ToF32;
using detail::F32ToBf16;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kChunkKeys = 32;  // keys whose loads one block issues together

// E consecutive bf16 at p (aligned to E elements) as f32.
template <int E>
__device__ __forceinline__ void LoadRow(const uint16_t* p, float (&out)[E]) {
  if constexpr (E == 1) {
    out[0] = Bf16ToF32(*p);
  } else if constexpr (E == 2) {
    const uint32_t w = *reinterpret_cast<const uint32_t*>(p);
    out[0] = detail::LoHalf(w);
    out[1] = detail::HiHalf(w);
  } else {
    const uint2 w = *reinterpret_cast<const uint2*>(p);
    out[0] = detail::LoHalf(w.x);
    out[1] = detail::HiHalf(w.x);
    out[2] = detail::LoHalf(w.y);
    out[3] = detail::HiHalf(w.y);
  }
}

// Keys per split of a row with n_keys keys (a multiple of kDecodeSplitKeys, at most
// kDecodeMaxSplits splits): the kernel and the host's grid sizing share it.
__host__ __device__ __forceinline__ int SplitKeys(int n_keys) {
  const int even = (n_keys + kDecodeMaxSplits - 1) / kDecodeMaxSplits;
  const int per = (even + kDecodeSplitKeys - 1) / kDecodeSplitKeys * kDecodeSplitKeys;
  return per > kDecodeSplitKeys ? per : kDecodeSplitKeys;
}

// G: the group rounded up to a power of two (registers and unrolled work follow G,
// not kDecodeMaxGroup). Scores live in the exp2 domain (q pre-scaled by log2 e).
template <int E, int G>
__global__ void __launch_bounds__(kThreads) DecodeAttentionKernel(AttentionParams p) {
  __shared__ float s_acc[kWarps][G][32 * E];
  __shared__ float s_m[kWarps][G], s_l[kWarps][G];
  __shared__ int64_t s_slot[kChunkKeys];
  __shared__ float s_split_m[G][kDecodeMaxSplits], s_split_l[G][kDecodeMaxSplits];
  __shared__ bool s_last;
  detail::GridDependencyWait();
  detail::LaunchDependents();

  const int group = p.n_heads / p.n_kv_heads, hd = p.head_dim;
  const int64_t r = blockIdx.x / p.n_kv_heads;  // row within this launch
  const int64_t t = p.row_begin + r;
  const int g = static_cast<int>(blockIdx.x % p.n_kv_heads), split = static_cast<int>(blockIdx.y);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int n_keys = p.positions[t] + 1;
  const int per = SplitKeys(n_keys);
  const int n_active = (n_keys + per - 1) / per;
  if (split >= n_active) return;
  const int k0 = split * per, k1 = min(n_keys, k0 + per);
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t]) * p.max_blocks_per_seq;
  const int64_t kv_row = static_cast<int64_t>(p.n_kv_heads) * hd;
  const int64_t q_head0 = t * p.n_heads + static_cast<int64_t>(g) * group;
  const bool lane_on = lane * E < hd;

  float q[G][E], acc[G][E], m[G], l[G];
#pragma unroll
  for (int h = 0; h < G; ++h) {
    if (h < group && lane_on) {
      LoadRow<E>(p.q + (q_head0 + h) * hd + lane * E, q[h]);
    } else {
#pragma unroll
      for (int e = 0; e < E; ++e) q[h][e] = 0.0f;
    }
#pragma unroll
    for (int e = 0; e < E; ++e) {
      q[h][e] *= p.scale * 1.4426950408889634f;
      acc[h][e] = 0.0f;
    }
    m[h] = -INFINITY;
    l[h] = 0.0f;
  }

  // Keys in chunks of 32: the chunk's slots are looked up once (one table read per
  // key, by the first warp), then each warp issues the K and V loads of its 8 keys
  // together, so a chunk costs two memory latencies rather than eight.
  constexpr int kPerWarp = kChunkKeys / kWarps;
  for (int c0 = k0; c0 < k1; c0 += kChunkKeys) {
    if (threadIdx.x < kChunkKeys) {
      const int j = c0 + static_cast<int>(threadIdx.x);
      s_slot[threadIdx.x] =
          j < k1 ? static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size : -1;
    }
    __syncthreads();
    float kf[kPerWarp][E], vf[kPerWarp][E];
#pragma unroll
    for (int i = 0; i < kPerWarp; ++i) {
      const int64_t slot = s_slot[warp * kPerWarp + i];
      if (slot >= 0 && lane_on) {
        const int64_t off = slot * kv_row + static_cast<int64_t>(g) * hd + lane * E;
        LoadRow<E>(p.k_cache + off, kf[i]);
        LoadRow<E>(p.v_cache + off, vf[i]);
      } else {
#pragma unroll
        for (int e = 0; e < E; ++e) kf[i][e] = vf[i][e] = 0.0f;
      }
    }
    // All scores first (independent warp sums that pipeline), then one online-softmax
    // update per head for the warp's 8 keys.
    float sc[kPerWarp][G];
#pragma unroll
    for (int i = 0; i < kPerWarp; ++i) {
#pragma unroll
      for (int h = 0; h < G; ++h) {
        float s = 0.0f;
#pragma unroll
        for (int e = 0; e < E; ++e) s = fmaf(q[h][e], kf[i][e], s);
        sc[i][h] = h < group ? detail::WarpSum(s) : 0.0f;
      }
    }
    bool valid[kPerWarp];
#pragma unroll
    for (int i = 0; i < kPerWarp; ++i) valid[i] = s_slot[warp * kPerWarp + i] >= 0;
#pragma unroll
    for (int h = 0; h < G; ++h) {
      if (h >= group) break;
      float mx = m[h];
#pragma unroll
      for (int i = 0; i < kPerWarp; ++i) mx = valid[i] ? fmaxf(mx, sc[i][h]) : mx;
      if (mx == -INFINITY) continue;  // no key for this warp yet
      const float corr = exp2f(m[h] - mx);
      float sum = 0.0f;
#pragma unroll
      for (int e = 0; e < E; ++e) acc[h][e] *= corr;
#pragma unroll
      for (int i = 0; i < kPerWarp; ++i) {
        const float pr = valid[i] ? exp2f(sc[i][h] - mx) : 0.0f;
        sum += pr;
#pragma unroll
        for (int e = 0; e < E; ++e) acc[h][e] = fmaf(pr, vf[i][e], acc[h][e]);
      }
      l[h] = l[h] * corr + sum;
      m[h] = mx;
    }
    __syncthreads();  // s_slot is rewritten by the next chunk
  }

#pragma unroll
  for (int h = 0; h < G; ++h) {
    if (h >= group) break;
    if (lane == 0) {
      s_m[warp][h] = m[h];
      s_l[warp][h] = l[h];
    }
#pragma unroll
    for (int e = 0; e < E; ++e) s_acc[warp][h][lane * E + e] = acc[h][e];
  }
  __syncthreads();

  // Thread per (query head, dimension): merge the warps (a warp that saw no key has l 0).
  const int64_t part_row0 = r * p.n_heads + static_cast<int64_t>(g) * group;  // partial rows of this block
  const int stride = hd + 2;
  for (int e = static_cast<int>(threadIdx.x); e < group * hd; e += kThreads) {
    const int h = e / hd, d = e % hd;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, s_m[w][h]);
    float num = 0.0f, den = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      if (s_l[w][h] == 0.0f) continue;
      const float wt = exp2f(s_m[w][h] - mx);
      num = fmaf(s_acc[w][h][d], wt, num);
      den = fmaf(s_l[w][h], wt, den);
    }
    if (n_active == 1) {
      p.out[(q_head0 + h) * hd + d] = F32ToBf16(num / den);
    } else {
      float* part = p.partial + ((part_row0 + h) * kDecodeMaxSplits + split) * stride;
      part[d] = num;
      if (d == 0) {
        part[hd] = mx;
        part[hd + 1] = den;
      }
    }
  }
  if (n_active == 1) return;

  // Last block of this (row, kv head) merges every split's partial, in split order.
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    int* counter = p.split_counters + r * p.n_kv_heads + g;
    s_last = atomicAdd(counter, 1) == n_active - 1;
    if (s_last) *counter = 0;
  }
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  // Every split's (m, l) at once, then each thread's sum over the splits with its
  // loads batched (a loop of dependent L2 round trips grew with the split count).
  for (int e = static_cast<int>(threadIdx.x); e < group * n_active; e += kThreads) {
    const int h = e / n_active, sp = e % n_active;
    const float* part = p.partial + ((part_row0 + h) * kDecodeMaxSplits + sp) * stride;
    s_split_m[h][sp] = __ldcg(part + hd);
    s_split_l[h][sp] = __ldcg(part + hd + 1);
  }
  __syncthreads();
  if (static_cast<int>(threadIdx.x) < group) {
    const int h = static_cast<int>(threadIdx.x);
    float mx = -INFINITY;
    for (int sp = 0; sp < n_active; ++sp) mx = fmaxf(mx, s_split_m[h][sp]);
    float den = 0.0f;
    for (int sp = 0; sp < n_active; ++sp) {
      const float wt = exp2f(s_split_m[h][sp] - mx);
      s_split_m[h][sp] = wt;  // now the split's weight
      den = fmaf(s_split_l[h][sp], wt, den);
    }
    s_split_l[h][0] = den;
  }
  __syncthreads();
  for (int e = static_cast<int>(threadIdx.x); e < group * hd; e += kThreads) {
    const int h = e / hd, d = e % hd;
    const float* base = p.partial + (part_row0 + h) * kDecodeMaxSplits * stride + d;
    float num = 0.0f;
#pragma unroll 8
    for (int sp = 0; sp < n_active; ++sp) num = fmaf(__ldcg(base + sp * stride), s_split_m[h][sp], num);
    p.out[(q_head0 + h) * hd + d] = F32ToBf16(num / s_split_l[h][0]);
  }
}

// Elements per lane for head_dim, or 0 when the kernel does not serve it.
int ElemsPerLane(int head_dim) {
  for (int e : {1, 2, 4}) {
    if (head_dim <= 32 * e) return head_dim % e == 0 ? e : 0;
  }
  return 0;
}

template <int E>
cudaError_t ByGroup(int g, dim3 grid, const AttentionParams& p, cudaStream_t stream) {
  switch (g) {
    case 1: return detail::Launch(DecodeAttentionKernel<E, 1>, grid, dim3(kThreads), 0, stream, p);
    case 2: return detail::Launch(DecodeAttentionKernel<E, 2>, grid, dim3(kThreads), 0, stream, p);
    case 4: return detail::Launch(DecodeAttentionKernel<E, 4>, grid, dim3(kThreads), 0, stream, p);
    default: return detail::Launch(DecodeAttentionKernel<E, 8>, grid, dim3(kThreads), 0, stream, p);
  }
}

cudaError_t ByElems(int e, int g, dim3 grid, const AttentionParams& p, cudaStream_t stream) {
  switch (e) {
    case 1: return ByGroup<1>(g, grid, p, stream);
    case 2: return ByGroup<2>(g, grid, p, stream);
    default: return ByGroup<4>(g, grid, p, stream);
  }
}

}  // namespace

bool DecodeAttentionSupports(int n_heads, int n_kv_heads, int head_dim) {
  return n_kv_heads > 0 && n_heads % n_kv_heads == 0 && n_heads / n_kv_heads <= kDecodeMaxGroup &&
         ElemsPerLane(head_dim) != 0;
}

int64_t DecodeAttentionPartialFloats(int n_heads, int head_dim) {
  return static_cast<int64_t>(n_heads) * kDecodeMaxSplits * (head_dim + 2);
}

Status LaunchDecodeAttention(const AttentionParams& p, int grid_splits, cudaStream_t stream) {
  if (p.n_rows == 0) return Status::Ok();
  if (!DecodeAttentionSupports(p.n_heads, p.n_kv_heads, p.head_dim) || grid_splits < 1 ||
      grid_splits > kDecodeMaxSplits || p.partial == nullptr || p.split_counters == nullptr)
    return InvalidArgument("LaunchDecodeAttention: unsupported shape or missing workspace");
  const dim3 grid(static_cast<unsigned>(p.n_rows * p.n_kv_heads), static_cast<unsigned>(grid_splits));
  const int group = p.n_heads / p.n_kv_heads;
  const int g = group <= 1 ? 1 : group <= 2 ? 2 : group <= 4 ? 4 : 8;
  AX_CUDA_RETURN_IF_ERROR(ByElems(ElemsPerLane(p.head_dim), g, grid, p, stream));
  return AX_CUDA_LAUNCH_STATUS("DecodeAttentionKernel");
}

int DecodeAttentionSplits(int max_keys) {
  const int per = SplitKeys(max_keys);
  return std::max(1, (max_keys + per - 1) / per);
}

}  // namespace ax::kernels::cuda
