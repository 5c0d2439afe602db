// Attention for generated rows (decode tokens and draft rows): one query per row, so
// the work is a handful of K/V rows per (row, kv head) and the kernel must spread keys
// over warps rather than tile queries.
//
// A row's arithmetic is fixed by its own keys alone, whatever the schedule: the keys
// [lo, n_keys) are cut into leaves of kDecodeLeafKeys (8) consecutive keys; a leaf's
// scores, max, weights and weighted V sum are computed in one fixed order, and the
// leaves are merged (the online-softmax merge, the left operand the earlier keys) along
// one binary tree over leaf indices, where a missing right subtree passes the left one
// through. Any split of the leaves into aligned power-of-two runs, each reduced as its
// subtree and the runs then merged along the upper levels, computes the same tree.
// So the schedule can follow the batch (test_cuda_ops: the bits are the same under
// every schedule):
//   * a warp reduces one leaf at a time (lanes over dims: E = 1, 2, 4 or 8 elements per
//     lane, head_dim <= 32·E; a warp-sum per key and query head),
//   * a block of W warps (4 or 16) takes W consecutive leaves per iteration and merges
//     them along the tree's lower levels in shared memory; warp 0 carries the
//     iterations' results up the tree with a binary-counter stack in shared memory,
//   * a (row, kv head) is split over up to kDecodeMaxSplits blocks (the grid's y), each
//     an aligned run of leaves; the last block to finish merges their results from
//     `partial` along the upper levels.
// Many rows: 4-warp blocks, few splits (each block streams many leaves); one row: 16
// warps and enough splits to fill the GPU (DecodeAttentionSchedule).
#include <algorithm>
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kLeaf = kDecodeLeafKeys;
constexpr float kLog2e = 1.4426950408889634f;

// E consecutive elements of a K or V row as loaded, widened to f32 at use: bf16 stays
// packed (two per register) so that a leaf's 8 K and 8 V rows take half the registers.
template <typename T, int E>
struct RawRow;
template <int E>
struct RawRow<uint16_t, E> {
  uint32_t w[(E + 1) / 2];
  __device__ __forceinline__ float at(int e) const {
    return e % 2 == 0 ? detail::LoHalf(w[e / 2]) : detail::HiHalf(w[e / 2]);
  }
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int i = 0; i < (E + 1) / 2; ++i) w[i] = 0;
  }
  __device__ __forceinline__ void load(const uint16_t* p) {
    if constexpr (E == 8) {
      const uint4 v = *reinterpret_cast<const uint4*>(p);
      w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w;
    } else if constexpr (E == 4) {
      const uint2 v = *reinterpret_cast<const uint2*>(p);
      w[0] = v.x, w[1] = v.y;
    } else if constexpr (E == 2) {
      w[0] = *reinterpret_cast<const uint32_t*>(p);
    } else {
      w[0] = *p;  // the low half
    }
  }
};
template <int E>
struct RawRow<float, E> {
  float v[E];
  __device__ __forceinline__ float at(int e) const { return v[e]; }
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int e = 0; e < E; ++e) v[e] = 0.0f;
  }
  __device__ __forceinline__ void load(const float* p) {
    if constexpr (E >= 4) {
#pragma unroll
      for (int i = 0; i < E / 4; ++i) {
        const float4 f = *reinterpret_cast<const float4*>(p + 4 * i);
        v[4 * i] = f.x, v[4 * i + 1] = f.y, v[4 * i + 2] = f.z, v[4 * i + 3] = f.w;
      }
    } else if constexpr (E == 2) {
      const float2 f = *reinterpret_cast<const float2*>(p);
      v[0] = f.x, v[1] = f.y;
    } else {
      v[0] = *p;
    }
  }
};

// The online-softmax state of a run of keys, one lane's share: per query head the max
// score m (exp2 domain), the weight sum l and the lane's E dims of the weighted V sum.
template <int G, int E>
struct Part {
  float m[G], l[G], acc[G][E];
};
// Floats of a Part of a whole warp in shared memory: acc [G][32·E], then m [G], l [G].
template <int G, int E>
constexpr int kPartFloats = G * 32 * E + 2 * G;

// a = merge(a, b), b the later keys. The same expressions as MergeScalar (the split
// merge), so a row's bits do not depend on where a level of the tree is merged.
template <int G, int E>
__device__ __forceinline__ void Merge(Part<G, E>& a, const Part<G, E>& b, int group) {
#pragma unroll
  for (int h = 0; h < G; ++h) {
    if (h >= group) break;
    const float mx = fmaxf(a.m[h], b.m[h]);
    const float wa = exp2f(a.m[h] - mx), wb = exp2f(b.m[h] - mx);
    a.l[h] = fmaf(b.l[h], wb, a.l[h] * wa);
#pragma unroll
    for (int e = 0; e < E; ++e) a.acc[h][e] = fmaf(b.acc[h][e], wb, a.acc[h][e] * wa);
    a.m[h] = mx;
  }
}
__device__ __forceinline__ void MergeScalar(float& am, float& al, float& aa, float bm, float bl, float ba) {
  const float mx = fmaxf(am, bm);
  const float wa = exp2f(am - mx), wb = exp2f(bm - mx);
  al = fmaf(bl, wb, al * wa);
  aa = fmaf(ba, wb, aa * wa);
  am = mx;
}

template <int G, int E>
__device__ __forceinline__ void StorePart(float* s, const Part<G, E>& p, int lane) {
#pragma unroll
  for (int h = 0; h < G; ++h) {
#pragma unroll
    for (int e = 0; e < E; ++e) s[h * 32 * E + lane * E + e] = p.acc[h][e];
    if (lane == 0) {
      s[G * 32 * E + h] = p.m[h];
      s[G * 32 * E + G + h] = p.l[h];
    }
  }
}
template <int G, int E>
__device__ __forceinline__ Part<G, E> LoadPart(const float* s, int lane) {
  Part<G, E> p;
#pragma unroll
  for (int h = 0; h < G; ++h) {
#pragma unroll
    for (int e = 0; e < E; ++e) p.acc[h][e] = s[h * 32 * E + lane * E + e];
    p.m[h] = s[G * 32 * E + h];
    p.l[h] = s[G * 32 * E + G + h];
  }
  return p;
}

// Aligned leaves per block for a row of n_leaves leaves over `blocks` blocks: a power of
// two, at least W (one iteration's leaves). The kernel and the host's shared-memory
// sizing share it.
__host__ __device__ __forceinline__ int BlockLeaves(int n_leaves, int blocks, int w) {
  int rb = w;
  while (static_cast<int64_t>(rb) * blocks < n_leaves) rb *= 2;
  return rb;
}

// G: the group rounded up to a power of two (registers and unrolled work follow G, not
// kDecodeMaxGroup). Scores live in the exp2 domain (q pre-scaled by log2 e). Dynamic
// shared memory: W + stack_levels Parts.
template <typename T, int E, int G, int W>
__global__ void __launch_bounds__(32 * W, W == 16       ? 1
                                          : G * E >= 64 ? 2
                                          : G * E >= 32 ? 3
                                                        : 4) DecodeAttentionKernel(AttentionParamsT<T> p) {
  extern __shared__ float smem[];
  constexpr int kPart = kPartFloats<G, E>;
  float* slots = smem;              // [W] Parts: the tree's lower levels (slot w: warp w's)
  float* stack = smem + W * kPart;  // warp 0's binary-counter stack over iterations
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
  // Keys [lo, n_keys): a sliding window starts them (and the leaves) at lo.
  const int lo = p.window > 0 ? max(0, n_keys - p.window) : 0;
  const int n_leaves = (n_keys - lo + kLeaf - 1) / kLeaf;
  const int rb = BlockLeaves(n_leaves, static_cast<int>(gridDim.y), W);
  const int n_blocks = (n_leaves + rb - 1) / rb;  // blocks this row uses
  if (split >= n_blocks) return;
  const int lb = split * rb, le = min(n_leaves, lb + rb);  // this block's leaves
  const int n_it = (le - lb + W - 1) / W;
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t]) * p.max_blocks_per_seq;
  // Lane i < kLeaf: the cache slot of key i of leaf `leaf` (-1 past the keys).
  auto leaf_slot = [&](int leaf) {
    const int j = lo + leaf * kLeaf + lane;
    return lane < kLeaf && leaf < le && j < n_keys ? table[j / p.block_size] * p.block_size + j % p.block_size : -1;
  };
  int slot = leaf_slot(lb + warp);
  detail::GridDependencyWait();
  detail::LaunchDependents();

  const int64_t kv_row = static_cast<int64_t>(p.n_kv_heads) * hd;
  const int64_t q_head0 = t * p.n_heads + static_cast<int64_t>(g) * group;
  const bool lane_on = lane * E < hd;
  const float cap2 = p.softcap * kLog2e;  // the softcap in the exp2 domain

  float q[G][E];
#pragma unroll
  for (int h = 0; h < G; ++h) {
    RawRow<T, E> raw;
    raw.zero();
    if (h < group && lane_on) raw.load(p.q + (q_head0 + h) * hd + lane * E);
#pragma unroll
    for (int e = 0; e < E; ++e) q[h][e] = raw.at(e) * (p.scale * kLog2e);
  }

  Part<G, E> cur{};
  for (int it = 0; it < n_it; ++it) {
    const int first = lb + it * W;  // this iteration's first leaf
    // The leaf: every key's K and V loads issued together, the next leaf's slots looked
    // up behind them.
    if (first + warp < le) {
      RawRow<T, E> kr[kLeaf], vr[kLeaf];
      bool valid[kLeaf];
#pragma unroll
      for (int i = 0; i < kLeaf; ++i) {
        const int s = __shfl_sync(0xffffffffu, slot, i);
        valid[i] = s >= 0;
        kr[i].zero();
        vr[i].zero();
        if (valid[i] && lane_on) {
          const int64_t off = static_cast<int64_t>(s) * kv_row + static_cast<int64_t>(g) * hd + lane * E;
          kr[i].load(p.k_cache + off);
          vr[i].load(p.v_cache + off);
        }
      }
      slot = leaf_slot(first + W + warp);
#pragma unroll
      for (int h = 0; h < G; ++h) {
        if (h >= group) break;
        float sc[kLeaf];
        float mx = -INFINITY;
#pragma unroll
        for (int i = 0; i < kLeaf; ++i) {
          float s = 0.0f;
#pragma unroll
          for (int e = 0; e < E; ++e) s = fmaf(q[h][e], kr[i].at(e), s);
          s = detail::WarpSum(s);
          sc[i] = cap2 > 0.0f ? cap2 * tanhf(s / cap2) : s;
          mx = valid[i] ? fmaxf(mx, sc[i]) : mx;
        }
        float l = 0.0f, acc[E];
#pragma unroll
        for (int e = 0; e < E; ++e) acc[e] = 0.0f;
#pragma unroll
        for (int i = 0; i < kLeaf; ++i) {
          const float pr = valid[i] ? exp2f(sc[i] - mx) : 0.0f;
          l += pr;
#pragma unroll
          for (int e = 0; e < E; ++e) acc[e] = fmaf(pr, vr[i].at(e), acc[e]);
        }
        cur.m[h] = mx;
        cur.l[h] = l;
#pragma unroll
        for (int e = 0; e < E; ++e) cur.acc[h][e] = acc[e];
      }
    }
    // The tree's levels inside the iteration: at span s, warp w (w % 2s == s) hands its
    // subtree to warp w - s. A slot is written once and read once per iteration, and
    // with W >= 4 a barrier separates its read from the next iteration's write.
#pragma unroll
    for (int span = 1; span < W; span *= 2) {
      if ((warp & (2 * span - 1)) == span && first + warp < le) StorePart(slots + warp * kPart, cur, lane);
      __syncthreads();
      if ((warp & (2 * span - 1)) == 0 && first + warp + span < le)
        Merge(cur, LoadPart<G, E>(slots + (warp + span) * kPart, lane), group);
    }
    // Warp 0 carries the iteration up the tree: stack level k holds the left sibling
    // (2^k iterations) until its right one is done; after iteration it, the levels of
    // the set bits of it + 1 are full. The last carry stays in registers.
    if (warp == 0 && n_it > 1) {
      int k = 0;
      while ((it >> k) & 1) {
        Part<G, E> left = LoadPart<G, E>(stack + k * kPart, lane);
        Merge(left, cur, group);
        cur = left;
        ++k;
      }
      if (it + 1 < n_it) {
        StorePart(stack + k * kPart, cur, lane);
        __syncwarp();
      }
    }
  }
  // The tail: levels above the last carry's that n_it's set bits fill, right-nested
  // (a missing right subtree passes the left one through).
  if (warp == 0 && n_it > 1) {
    const int low = __ffs(n_it) - 1;
    for (int k = low + 1; (n_it >> k) != 0; ++k) {
      if (((n_it >> k) & 1) == 0) continue;
      Part<G, E> left = LoadPart<G, E>(stack + k * kPart, lane);
      Merge(left, cur, group);
      cur = left;
    }
  }

  const int64_t part_row0 = r * p.n_heads + static_cast<int64_t>(g) * group;  // partial rows of this block
  const int stride = hd + 2;
  if (warp == 0) {
#pragma unroll
    for (int h = 0; h < G; ++h) {
      if (h >= group) break;
      if (n_blocks == 1) {
        if (lane_on) {
#pragma unroll
          for (int e = 0; e < E; ++e)
            p.out[(q_head0 + h) * hd + lane * E + e] = detail::FromF32<T>(cur.acc[h][e] / cur.l[h]);
        }
      } else {
        float* part = p.partial + ((part_row0 + h) * kDecodeMaxSplits + split) * stride;
        if (lane_on) {
#pragma unroll
          for (int e = 0; e < E; ++e) part[lane * E + e] = cur.acc[h][e];
        }
        if (lane == 0) {
          part[hd] = cur.m[h];
          part[hd + 1] = cur.l[h];
        }
      }
    }
  }
  if (n_blocks == 1) return;

  // The last block of this (row, kv head) merges the blocks' results along the tree's
  // upper levels (the same binary counter over block indices), thread per (head, dim).
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    int* counter = p.split_counters + r * p.n_kv_heads + g;
    s_last = atomicAdd(counter, 1) == n_blocks - 1;
    if (s_last) *counter = 0;
  }
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  constexpr int kLevels = 6;  // log2(kDecodeMaxSplits) + 1
  static_assert(kDecodeMaxSplits <= 1 << (kLevels - 1));
  for (int e = static_cast<int>(threadIdx.x); e < group * hd; e += 32 * W) {
    const int h = e / hd, d = e % hd;
    const float* base = p.partial + (part_row0 + h) * kDecodeMaxSplits * stride;
    float sm[kLevels], sl[kLevels], sa[kLevels];
    float cm = 0.0f, cl = 0.0f, ca = 0.0f;
#pragma unroll
    for (int y = 0; y < kDecodeMaxSplits; ++y) {
      if (y >= n_blocks) break;
      cm = __ldcg(base + y * stride + hd);
      cl = __ldcg(base + y * stride + hd + 1);
      ca = __ldcg(base + y * stride + d);
#pragma unroll
      for (int k = 0; k < kLevels; ++k) {
        if (((y >> k) & 1) == 0) {
          sm[k] = cm, sl[k] = cl, sa[k] = ca;
          break;
        }
        float lm = sm[k], ll = sl[k], la = sa[k];
        MergeScalar(lm, ll, la, cm, cl, ca);
        cm = lm, cl = ll, ca = la;
      }
    }
    // (cm, cl, ca): the last carry, at the lowest set bit of n_blocks; then the tail.
    const int low = __ffs(n_blocks) - 1;
#pragma unroll
    for (int k = 0; k < kLevels; ++k) {
      if (k <= low || ((n_blocks >> k) & 1) == 0) continue;
      float lm = sm[k], ll = sl[k], la = sa[k];
      MergeScalar(lm, ll, la, cm, cl, ca);
      cm = lm, cl = ll, ca = la;
    }
    p.out[(q_head0 + h) * hd + d] = detail::FromF32<T>(ca / cl);
  }
}

// Elements per lane for head_dim, or 0 when the kernel does not serve it.
int ElemsPerLane(int head_dim) {
  for (int e : {1, 2, 4, 8}) {
    if (head_dim <= 32 * e) return head_dim % e == 0 ? e : 0;
  }
  return 0;
}

// 16-warp blocks only where their Parts stay small (G·E <= 16: 33 KiB of slots).
constexpr bool WideServes(int g, int e) { return g * e <= 16; }

// Stack levels warp 0 may need: floor(log2(iterations)) + 1 for the longest row the
// block tables can hold.
int StackLevels(const DecodeSchedule& s, int max_keys) {
  const int n_leaves = (max_keys + kLeaf - 1) / kLeaf;
  const int its = BlockLeaves(n_leaves, s.splits, s.warps) / s.warps;
  int levels = 1;
  while ((2 << (levels - 1)) <= its) ++levels;
  return levels;
}

template <typename T, int E, int G, int W>
cudaError_t LaunchShape(dim3 grid, const AttentionParamsT<T>& p, int levels, cudaStream_t stream) {
  auto* kernel = DecodeAttentionKernel<T, E, G, W>;
  const size_t smem = static_cast<size_t>(W + levels) * kPartFloats<G, E> * sizeof(float);
  // Long rows need more than 48 KiB of stack: the instantiation's limit is raised to the
  // device's opt-in maximum at its first launch, which is never a graph capture (a shape
  // runs eagerly twice before it is recorded).
  static const cudaError_t raised = [kernel] {
    int device = 0, max_optin = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&max_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    // The opt-in maximum covers static and dynamic shared memory together.
    cudaFuncAttributes attr{};
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, kernel);
    if (e == cudaSuccess)
      e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               max_optin - static_cast<int>(attr.sharedSizeBytes));
    return e;
  }();
  if (raised != cudaSuccess) return raised;
  return detail::Launch(kernel, grid, dim3(32 * W), smem, stream, p);
}

template <int E, int G, typename T>
cudaError_t ByWarps(int warps, dim3 grid, const AttentionParamsT<T>& p, int levels, cudaStream_t stream) {
  if constexpr (WideServes(G, E)) {
    if (warps == 16) return LaunchShape<T, E, G, 16>(grid, p, levels, stream);
  }
  return LaunchShape<T, E, G, 4>(grid, p, levels, stream);
}

template <int E, typename T>
cudaError_t ByGroup(int g, int warps, dim3 grid, const AttentionParamsT<T>& p, int levels, cudaStream_t stream) {
  switch (g) {
    case 1: return ByWarps<E, 1>(warps, grid, p, levels, stream);
    case 2: return ByWarps<E, 2>(warps, grid, p, levels, stream);
    case 4: return ByWarps<E, 4>(warps, grid, p, levels, stream);
    default: return ByWarps<E, 8>(warps, grid, p, levels, stream);
  }
}

int GroupBucket(int n_heads, int n_kv_heads) {
  const int group = n_heads / n_kv_heads;
  return group <= 1 ? 1 : group <= 2 ? 2 : group <= 4 ? 4 : 8;
}

template <typename T>
Status LaunchDecode(const AttentionParamsT<T>& p, DecodeSchedule s, cudaStream_t stream) {
  if (p.n_rows == 0) return Status::Ok();
  if (!DecodeAttentionSupports(p.n_heads, p.n_kv_heads, p.head_dim) || s.splits < 1 || s.splits > kDecodeMaxSplits ||
      (s.warps != 4 && s.warps != 16) || p.partial == nullptr || p.split_counters == nullptr)
    return InvalidArgument("LaunchDecodeAttention: unsupported shape, schedule or missing workspace");
  const int e = ElemsPerLane(p.head_dim), g = GroupBucket(p.n_heads, p.n_kv_heads);
  if (!WideServes(g, e)) s.warps = 4;
  const dim3 grid(static_cast<unsigned>(p.n_rows * p.n_kv_heads), static_cast<unsigned>(s.splits));
  const int levels = StackLevels(s, p.max_blocks_per_seq * p.block_size);
  cudaError_t err;
  switch (e) {
    case 1: err = ByGroup<1>(g, s.warps, grid, p, levels, stream); break;
    case 2: err = ByGroup<2>(g, s.warps, grid, p, levels, stream); break;
    case 4: err = ByGroup<4>(g, s.warps, grid, p, levels, stream); break;
    default: err = ByGroup<8>(g, s.warps, grid, p, levels, stream); break;
  }
  AX_CUDA_RETURN_IF_ERROR(err);
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

DecodeSchedule DecodeAttentionSchedule(int64_t rows, int n_kv_heads, int max_keys, int sms) {
  const int64_t units = rows * n_kv_heads;  // (row, kv head) pairs
  const int64_t leaves = (max_keys + kLeaf - 1) / kLeaf;
  DecodeSchedule s;
  // Many pairs: small blocks that each stream a whole row; few: 16 warps per block and
  // splits until the GPU holds about two blocks per SM.
  s.warps = units >= 2LL * sms ? 4 : 16;
  const int64_t target = s.warps == 16 ? 2LL * sms : 6LL * sms;
  const int64_t useful = std::max<int64_t>(1, (leaves + s.warps - 1) / s.warps);
  s.splits = static_cast<int>(
      std::clamp<int64_t>((target + units - 1) / units, 1, std::min<int64_t>(kDecodeMaxSplits, useful)));
  return s;
}

Status LaunchDecodeAttention(const AttentionParams& p, DecodeSchedule s, cudaStream_t stream) {
  return LaunchDecode(p, s, stream);
}
Status LaunchDecodeAttention(const AttentionParamsF32& p, DecodeSchedule s, cudaStream_t stream) {
  return LaunchDecode(p, s, stream);
}

}  // namespace ax::kernels::cuda
