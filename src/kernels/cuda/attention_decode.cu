// Attention for generated rows (decode tokens and draft rows): one query per row, so
// the work is a handful of K/V rows per (row, kv head) and the kernel must spread keys
// over warps rather than tile queries.
//
// One block of W warps (16; 8 for groups of 8, for shared memory) per (row, kv head,
// key split). Lane l holds dimensions [l·E, l·E + E) of the group's query heads (E = 1,
// 2, 4 or 8 bf16 per lane, head_dim <= 32·E) and each warp takes 32 / W of every 32 keys:
// per key one K and one V load per lane (issued together) and a warp-sum per query
// head, then one online-softmax update per head, in registers. The warps merge in
// shared memory. A batch-1 step has few blocks, so a block's time is the latency of
// one warp's instruction stream: few keys per warp keep it short.
//
#include <algorithm>
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

using detail::Bf16ToF32;
using detail::F32ToBf16;

constexpr int kChunkKeys = 32;  // keys whose loads one block issues together

// Warps per block for a group rounded up to G and E elements per lane: s_acc below is
// W·G·32·E floats, at most 8192 (32 KiB of static shared memory). Groups of 4 with
// head_dim 65-128 (Qwen3-8B, Llama 3 8B) take 8: on the H100 a batch of 128 rows runs
// 17% faster than with 16 (three blocks per SM) for 0.9 µs more per layer at batch 1
// (experiment 60).
constexpr int WarpsFor(int g, int e) {
  if (e <= 4) return g >= 8 || (g == 4 && e == 4) ? 8 : 16;
  return 8192 / (g * 32 * e) < 16 ? 8192 / (g * 32 * e) : 16;
}

// E consecutive elements at p (aligned to E elements) as f32: bf16 or f32 (the f32
// precision mode).
template <int E>
__device__ __forceinline__ void LoadRow(const float* p, float (&out)[E]) {
  if constexpr (E == 8) {
    const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
    out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
    out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
  } else if constexpr (E == 1) {
    out[0] = *p;
  } else if constexpr (E == 2) {
    const float2 v = *reinterpret_cast<const float2*>(p);
    out[0] = v.x;
    out[1] = v.y;
  } else {
    const float4 v = *reinterpret_cast<const float4*>(p);
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
  }
}
template <int E>
__device__ __forceinline__ void LoadRow(const uint16_t* p, float (&out)[E]) {
  if constexpr (E == 8) {
    const uint4 w = *reinterpret_cast<const uint4*>(p);
    const uint32_t ws[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      out[2 * i] = detail::LoHalf(ws[i]);
      out[2 * i + 1] = detail::HiHalf(ws[i]);
    }
  } else if constexpr (E == 1) {
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

// Keys per split of a row with n_keys keys (a multiple of kDecodeSplitKeys, at least
// min_keys, at most kDecodeMaxSplits splits): the kernel and the host's grid sizing
// share it.
__host__ __device__ __forceinline__ int SplitKeys(int n_keys, int min_keys) {
  const int even = (n_keys + kDecodeMaxSplits - 1) / kDecodeMaxSplits;
  const int per = (even + kDecodeSplitKeys - 1) / kDecodeSplitKeys * kDecodeSplitKeys;
  return per > min_keys ? per : min_keys;
}

// G: the group rounded up to a power of two (registers and unrolled work follow G,
// not kDecodeMaxGroup). Scores live in the exp2 domain (q pre-scaled by log2 e).
template <typename T, int E, int G, int W = WarpsFor(G, E)>
__global__ void __launch_bounds__(32 * W, W == 16 ? 2 : W == 8 ? 3 : 4) DecodeAttentionKernel(AttentionParamsT<T> p) {
  constexpr int kThreads = 32 * W;
  constexpr int kPerWarp = kChunkKeys / W;
  __shared__ float s_acc[W][G][32 * E];
  __shared__ float s_m[W][G], s_l[W][G], s_block_m[G];
  __shared__ int64_t s_slot[kChunkKeys];
  __shared__ float s_split_m[G][kDecodeMaxSplits], s_split_l[G][kDecodeMaxSplits];
  __shared__ bool s_last;

  // Batch metadata and block tables are staged by copies before the forward's first
  // kernel, so they are read before the wait (overlapping the previous kernel's tail);
  // q and the KV cache (the current key was just appended) only after it.
  const int group = p.n_heads / p.n_kv_heads, hd = p.head_dim;
  const int64_t r = blockIdx.x / p.n_kv_heads;  // row within this launch
  const int64_t t = p.row_begin + r;
  const int g = static_cast<int>(blockIdx.x % p.n_kv_heads), split = static_cast<int>(blockIdx.y);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int n_keys = p.positions[t] + 1;
  // Keys [lo, n_keys): a sliding window starts them at lo. The splits divide that range
  // alone, so a row's result depends on its own position and window only.
  const int lo = p.window > 0 ? max(0, n_keys - p.window) : 0;
  const int per = SplitKeys(n_keys - lo, p.split_keys);
  const int n_active = (n_keys - lo + per - 1) / per;
  if (split >= n_active) return;
  const int k0 = lo + split * per, k1 = min(n_keys, k0 + per);
  // The softcap in the exp2 domain of the scores: cap·log2(e)·tanh(s / (cap·log2(e))).
  const float cap2 = p.softcap * 1.4426950408889634f;
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t]) * p.max_blocks_per_seq;
  auto fill_slots = [&](int c0) {  // the chunk's cache slots, one table read per key
    if (threadIdx.x < kChunkKeys) {
      const int j = c0 + static_cast<int>(threadIdx.x);
      s_slot[threadIdx.x] =
          j < k1 ? static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size : -1;
    }
  };
  fill_slots(k0);
  detail::GridDependencyWait();
  detail::LaunchDependents();

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

  // Keys in chunks of 32: each warp issues the K and V loads of its keys together, and
  // the next chunk's slots are looked up while this one computes.
  for (int c0 = k0; c0 < k1; c0 += kChunkKeys) {
    __syncthreads();  // this chunk's s_slot is written
    float kf[kPerWarp][E], vf[kPerWarp][E];
    bool valid[kPerWarp];
#pragma unroll
    for (int i = 0; i < kPerWarp; ++i) {
      const int64_t slot = s_slot[warp * kPerWarp + i];
      valid[i] = slot >= 0;
      if (valid[i] && lane_on) {
        const int64_t off = slot * kv_row + static_cast<int64_t>(g) * hd + lane * E;
        LoadRow<E>(p.k_cache + off, kf[i]);
        LoadRow<E>(p.v_cache + off, vf[i]);
      } else {
#pragma unroll
        for (int e = 0; e < E; ++e) kf[i][e] = vf[i][e] = 0.0f;
      }
    }
    __syncthreads();  // every warp has read s_slot
    if (c0 + kChunkKeys < k1) fill_slots(c0 + kChunkKeys);
    // All scores first (independent warp sums that pipeline), then one online-softmax
    // update per head for the warp's keys.
    float sc[kPerWarp][G];
#pragma unroll
    for (int i = 0; i < kPerWarp; ++i) {
#pragma unroll
      for (int h = 0; h < G; ++h) {
        float s = 0.0f;
#pragma unroll
        for (int e = 0; e < E; ++e) s = fmaf(q[h][e], kf[i][e], s);
        s = h < group ? detail::WarpSum(s) : 0.0f;
        sc[i][h] = cap2 > 0.0f ? cap2 * tanhf(s / cap2) : s;
      }
    }
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
  }

  // Merge the warps: the block's max per head first, so each warp rescales its own
  // (acc, l) to it and the merge is a plain sum (a warp that saw no key has l 0).
  if (lane == 0) {
#pragma unroll
    for (int h = 0; h < G; ++h) s_m[warp][h] = m[h];
  }
  __syncthreads();
#pragma unroll
  for (int h = 0; h < G; ++h) {
    if (h >= group) break;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < W; ++w) mx = fmaxf(mx, s_m[w][h]);
    const float wt = l[h] == 0.0f ? 0.0f : exp2f(m[h] - mx);
    if (lane == 0) s_l[warp][h] = l[h] * wt;
#pragma unroll
    for (int e = 0; e < E; ++e) s_acc[warp][h][lane * E + e] = acc[h][e] * wt;
    if (threadIdx.x == 0) s_block_m[h] = mx;
  }
  __syncthreads();

  // Thread per (query head, dimension).
  const int64_t part_row0 = r * p.n_heads + static_cast<int64_t>(g) * group;  // partial rows of this block
  const int stride = hd + 2;
  for (int e = static_cast<int>(threadIdx.x); e < group * hd; e += kThreads) {
    const int h = e / hd, d = e % hd;
    float num = 0.0f, den = 0.0f;
#pragma unroll
    for (int w = 0; w < W; ++w) {
      num += s_acc[w][h][d];
      den += s_l[w][h];
    }
    if (n_active == 1) {
      p.out[(q_head0 + h) * hd + d] = detail::FromF32<T>(num / den);
    } else {
      float* part = p.partial + ((part_row0 + h) * kDecodeMaxSplits + split) * stride;
      part[d] = num;
      if (d == 0) {
        part[hd] = s_block_m[h];  // finite: a split has at least one key
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
  // Warp h (and h + W, ...: a group of 8 with head_dim 256 has 4 warps), lane = split:
  // each split's weight and the head's denominator at once.
  for (int h = warp; h < group; h += W) {
    const int sp = lane;
    const float* part = p.partial + ((part_row0 + h) * kDecodeMaxSplits + sp) * stride;
    const float sm = sp < n_active ? __ldcg(part + hd) : -INFINITY;
    const float sl = sp < n_active ? __ldcg(part + hd + 1) : 0.0f;
    const float mx = detail::WarpMax(sm);
    const float wt = sl == 0.0f ? 0.0f : exp2f(sm - mx);
    s_split_m[h][sp] = wt;
    const float den = detail::WarpSum(sl * wt);
    if (lane == 0) s_split_l[h][0] = den;
  }
  __syncthreads();
  // Every split's value of (h, d) loaded at once, then summed in split order.
  for (int e = static_cast<int>(threadIdx.x); e < group * hd; e += kThreads) {
    const int h = e / hd, d = e % hd;
    const float* base = p.partial + (part_row0 + h) * kDecodeMaxSplits * stride + d;
    constexpr int kBatch = 16;  // loads in flight per thread
    float num = 0.0f;
    for (int sp0 = 0; sp0 < n_active; sp0 += kBatch) {
      float v[kBatch];
#pragma unroll
      for (int i = 0; i < kBatch; ++i) v[i] = sp0 + i < n_active ? __ldcg(base + (sp0 + i) * stride) : 0.0f;
#pragma unroll
      for (int i = 0; i < kBatch; ++i) num = fmaf(v[i], s_split_m[h][sp0 + i], num);
    }
    p.out[(q_head0 + h) * hd + d] = detail::FromF32<T>(num / s_split_l[h][0]);
  }
}

// Elements per lane for head_dim, or 0 when the kernel does not serve it.
int ElemsPerLane(int head_dim) {
  for (int e : {1, 2, 4, 8}) {
    if (head_dim <= 32 * e) return head_dim % e == 0 ? e : 0;
  }
  return 0;
}

template <int E, typename T>
cudaError_t ByGroup(int g, dim3 grid, const AttentionParamsT<T>& p, cudaStream_t stream) {
  // Experiments (AttentionParamsT::decode_warps): 4 or 16 warps per block instead of 8
  // for groups of 4 with head_dim 65-128 (Qwen3-8B's shape); a row's bits follow the
  // warp count.
  if constexpr (E == 4) {
    if (g == 4 && p.decode_warps == 4)
      return detail::Launch(DecodeAttentionKernel<T, E, 4, 4>, grid, dim3(32 * 4), 0, stream, p);
    if (g == 4 && p.decode_warps == 16)
      return detail::Launch(DecodeAttentionKernel<T, E, 4, 16>, grid, dim3(32 * 16), 0, stream, p);
  }
  switch (g) {
    case 1: return detail::Launch(DecodeAttentionKernel<T, E, 1>, grid, dim3(32 * WarpsFor(1, E)), 0, stream, p);
    case 2: return detail::Launch(DecodeAttentionKernel<T, E, 2>, grid, dim3(32 * WarpsFor(2, E)), 0, stream, p);
    case 4: return detail::Launch(DecodeAttentionKernel<T, E, 4>, grid, dim3(32 * WarpsFor(4, E)), 0, stream, p);
    default: return detail::Launch(DecodeAttentionKernel<T, E, 8>, grid, dim3(32 * WarpsFor(8, E)), 0, stream, p);
  }
}

template <typename T>
cudaError_t ByElems(int e, int g, dim3 grid, const AttentionParamsT<T>& p, cudaStream_t stream) {
  switch (e) {
    case 1: return ByGroup<1>(g, grid, p, stream);
    case 2: return ByGroup<2>(g, grid, p, stream);
    case 4: return ByGroup<4>(g, grid, p, stream);
    default: return ByGroup<8>(g, grid, p, stream);
  }
}

template <typename T>
Status LaunchDecode(const AttentionParamsT<T>& p, int grid_splits, cudaStream_t stream) {
  if (p.n_rows == 0) return Status::Ok();
  if (!DecodeAttentionSupports(p.n_heads, p.n_kv_heads, p.head_dim) || grid_splits < 1 || p.split_keys < 1 ||
      p.split_keys % kDecodeSplitKeys != 0 ||
      grid_splits > kDecodeMaxSplits || p.partial == nullptr || p.split_counters == nullptr)
    return InvalidArgument("LaunchDecodeAttention: unsupported shape or missing workspace");
  const dim3 grid(static_cast<unsigned>(p.n_rows * p.n_kv_heads), static_cast<unsigned>(grid_splits));
  const int group = p.n_heads / p.n_kv_heads;
  const int g = group <= 1 ? 1 : group <= 2 ? 2 : group <= 4 ? 4 : 8;
  AX_CUDA_RETURN_IF_ERROR(ByElems(ElemsPerLane(p.head_dim), g, grid, p, stream));
  return AX_CUDA_LAUNCH_STATUS("DecodeAttentionKernel");
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
  return LaunchDecode(p, grid_splits, stream);
}
Status LaunchDecodeAttention(const AttentionParamsF32& p, int grid_splits, cudaStream_t stream) {
  return LaunchDecode(p, grid_splits, stream);
}

int DecodeAttentionSplits(int max_keys, int split_keys) {
  const int per = SplitKeys(max_keys, split_keys);
  return std::max(1, (max_keys + per - 1) / per);
}

}  // namespace ax::kernels::cuda
