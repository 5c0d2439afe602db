// Causal GQA attention over the paged bf16 KV cache, for decode and prefill chunks
// alike (CUDA cores, f32 math; a tensor-core prefill kernel is future work, see
// docs/cuda-backend.md).
//
// One block per (query token t, kv head g, key split): the block serves all
// `group = n_heads / n_kv_heads` query heads that read kv head g, so each K/V row is
// loaded once per group (GQA-aware). Keys [0, positions[t]] are walked in tiles of
// kTK = 32 through shared memory (f32, rows padded to head_dim + 1 floats so that
// column reads across a warp hit distinct banks), with an online softmax:
//
//   per tile:  S[h][j] = q_h · K_j            (thread per (h, j))
//              m' = max(m, max_j S), P = exp(S - m'), l = l·e^(m-m') + ΣP  (warp per h)
//              acc[h][d] = acc[h][d]·e^(m-m') + Σ_j P[h][j] V_j[d]        (thread per (h, d))
//
// Split-K (flash-decoding): with n_splits > 1 the tiles of a row are divided into
// n_splits contiguous ranges; each block writes its unnormalised acc, m and l to
// `partial`, and CombineKernel merges them: out = Σ_s acc_s e^(m_s-M) / Σ_s l_s e^(m_s-M).
// Example: decode at position 639 (640 keys = 20 tiles), 8 kv heads, n_splits 20 →
// 160 blocks of one tile each instead of 8 blocks of 20 tiles.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/attention_internal.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/head_dims.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kTK = kAttentionTileKeys;  // keys per tile == warp size (softmax step)
constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
static_assert(kTK == 32, "the softmax step maps one key per lane");

template <typename T>
__global__ void __launch_bounds__(kThreads) AttentionKernel(AttentionParamsT<T> p) {
  extern __shared__ float smem[];
  const int group = p.n_heads / p.n_kv_heads;
  const int hd = p.head_dim, ld = hd + 1;
  float* qs = smem;                // [group][hd], pre-scaled
  float* acc = qs + group * hd;    // [group][hd]
  float* ks = acc + group * hd;    // [kTK][ld]
  float* vs = ks + kTK * ld;       // [kTK][ld]
  float* sc = vs + kTK * ld;       // [group][kTK]
  float* m_run = sc + group * kTK; // [group]
  float* l_run = m_run + group;    // [group]
  float* rescale = l_run + group;  // [group]
  detail::GridDependencyWait();
  detail::LaunchDependents();

  const int64_t t = blockIdx.x / p.n_kv_heads;
  const int g = static_cast<int>(blockIdx.x % p.n_kv_heads);
  const int split = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int n_keys = p.positions[t] + 1;
  // A sliding window starts the keys at lo; the tiles from lo's tile on each hold at
  // least one visible key, so every split's running max is finite.
  const int lo = p.window > 0 ? max(0, n_keys - p.window) : 0;
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t]) * p.max_blocks_per_seq;
  const int first_tile = lo / kTK;
  const int n_tiles = (n_keys + kTK - 1) / kTK - first_tile;
  const int per_split = (n_tiles + p.n_splits - 1) / p.n_splits;
  const int tile_begin = first_tile + split * per_split;
  const int tile_end = min(first_tile + n_tiles, tile_begin + per_split);
  const float cap = p.softcap;
  const int64_t kv_row = static_cast<int64_t>(p.n_kv_heads) * hd;
  const int64_t q_head0 = t * p.n_heads + static_cast<int64_t>(g) * group;  // first q head row

  for (int e = tid; e < group * hd; e += kThreads) {
    qs[e] = detail::ToF32(p.q[q_head0 * hd + e]) * p.scale;
    acc[e] = 0.0f;
  }
  if (tid < group) {
    m_run[tid] = -INFINITY;
    l_run[tid] = 0.0f;
  }
  __syncthreads();

  for (int tile = tile_begin; tile < tile_end; ++tile) {
    const int j0 = tile * kTK;
    for (int e = tid; e < kTK * hd; e += kThreads) {
      const int j = e / hd, d = e % hd, pos = j0 + j;
      float kv = 0.0f, vv = 0.0f;
      if (pos >= lo && pos < n_keys) {  // a windowed layer's blocks before lo may be released
        const int64_t slot = static_cast<int64_t>(table[pos / p.block_size]) * p.block_size + pos % p.block_size;
        const int64_t off = slot * kv_row + static_cast<int64_t>(g) * hd + d;
        kv = detail::ToF32(p.k_cache[off]);
        vv = detail::ToF32(p.v_cache[off]);
      }
      ks[j * ld + d] = kv;
      vs[j * ld + d] = vv;
    }
    __syncthreads();
    for (int e = tid; e < group * kTK; e += kThreads) {
      const int h = e / kTK, j = e % kTK;
      const float* qh = qs + h * hd;
      const float* kj = ks + j * ld;
      float dot = 0.0f;
      for (int d = 0; d < hd; ++d) dot = fmaf(qh[d], kj[d], dot);
      if (cap > 0.0f) dot = cap * tanhf(dot / cap);
      sc[e] = j0 + j < n_keys && j0 + j >= lo ? dot : -INFINITY;
    }
    __syncthreads();
    for (int h = warp; h < group; h += kWarps) {
      const float s = sc[h * kTK + lane];
      const float m_new = fmaxf(m_run[h], detail::WarpMax(s));  // finite: the tile has a visible key
      const float pr = expf(s - m_new);
      const float sum = detail::WarpSum(pr);
      sc[h * kTK + lane] = pr;
      if (lane == 0) {
        const float r = expf(m_run[h] - m_new);
        rescale[h] = r;
        l_run[h] = l_run[h] * r + sum;
        m_run[h] = m_new;
      }
    }
    __syncthreads();
    for (int e = tid; e < group * hd; e += kThreads) {
      const int h = e / hd, d = e % hd;
      const float* ph = sc + h * kTK;
      float a = 0.0f;
#pragma unroll 8
      for (int j = 0; j < kTK; ++j) a = fmaf(ph[j], vs[j * ld + d], a);
      acc[e] = acc[e] * rescale[h] + a;
    }
    __syncthreads();
  }

  if (p.n_splits == 1) {
    for (int e = tid; e < group * hd; e += kThreads) p.out[q_head0 * hd + e] = detail::FromF32<T>(acc[e] / l_run[e / hd]);
  } else {
    for (int e = tid; e < group * hd; e += kThreads) {
      const int h = e / hd, d = e % hd;
      float* part = p.partial + ((q_head0 + h) * p.n_splits + split) * (hd + 2);
      part[d] = acc[e];
      if (d == 0) {
        part[hd] = m_run[h];
        part[hd + 1] = l_run[h];
      }
    }
  }
}

// One block per (token, q head); thread d merges dimension d over the splits.
template <typename T>
__global__ void __launch_bounds__(256) CombineKernel(AttentionParamsT<T> p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t row = blockIdx.x;  // token * n_heads + head
  const int hd = p.head_dim;
  const float* part = p.partial + row * p.n_splits * (hd + 2);
  float m_max = -INFINITY;
  for (int s = 0; s < p.n_splits; ++s) m_max = fmaxf(m_max, part[s * (hd + 2) + hd]);
  for (int d = static_cast<int>(threadIdx.x); d < hd; d += blockDim.x) {
    float num = 0.0f, den = 0.0f;
    for (int s = 0; s < p.n_splits; ++s) {
      const float* ps = part + s * (hd + 2);
      if (ps[hd + 1] == 0.0f) continue;  // a split past the last key
      const float wgt = expf(ps[hd] - m_max);
      num = fmaf(ps[d], wgt, num);
      den = fmaf(ps[hd + 1], wgt, den);
    }
    p.out[row * hd + d] = detail::FromF32<T>(num / den);
  }
}

}  // namespace

size_t AttentionSharedBytes(int group, int head_dim) {
  const size_t floats = 2 * static_cast<size_t>(group) * head_dim + 2 * static_cast<size_t>(kTK) * (head_dim + 1) +
                        static_cast<size_t>(group) * kTK + 3 * static_cast<size_t>(group);
  return floats * sizeof(float);
}

Status AttentionInit(size_t max_bytes) {
  AX_CUDA_RETURN_IF_ERROR(cudaFuncSetAttribute(AttentionKernel<bf16_bits>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(max_bytes)));
  AX_CUDA_RETURN_IF_ERROR(cudaFuncSetAttribute(AttentionKernel<float>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(max_bytes)));
  return AttentionTiledInit();
}

bool AttentionUsesTiled(int head_dim) {
  static const bool simple = [] {
    const char* e = std::getenv("AX_CUDA_ATTN");
    return e != nullptr && std::strcmp(e, "simple") == 0;
  }();
  return !simple && HasTemplatedHeadDim(head_dim);
}

namespace {

// The tiled kernel where it serves, else the per-token one; then the merge.
template <typename T>
Status Launch(const AttentionParamsT<T>& p, cudaStream_t stream) {
  if (p.n_tokens == 0) return Status::Ok();
  if (p.n_kv_heads <= 0 || p.n_heads % p.n_kv_heads != 0 || p.n_splits < 1 || (p.n_splits > 1 && !p.partial))
    return InvalidArgument("LaunchAttention: bad head counts or splits");
  if (AttentionUsesTiled(p.head_dim) && p.window == 0 && p.softcap == 0.0f) {
    if (p.q_tiles == nullptr || p.n_q_tiles <= 0) return InvalidArgument("LaunchAttention: no query tiles");
    AX_RETURN_IF_ERROR(LaunchAttentionTiled(p, stream));
  } else {
    const size_t smem = AttentionSharedBytes(p.n_heads / p.n_kv_heads, p.head_dim);
    const dim3 grid(static_cast<unsigned>(p.n_tokens * p.n_kv_heads), static_cast<unsigned>(p.n_splits));
    AX_CUDA_RETURN_IF_ERROR(detail::Launch(AttentionKernel<T>, grid, dim3(kThreads), smem, stream, p));
    AX_RETURN_IF_ERROR(AX_CUDA_LAUNCH_STATUS("AttentionKernel"));
  }
  if (p.n_splits > 1) {
    AX_CUDA_RETURN_IF_ERROR(detail::Launch(CombineKernel<T>, dim3(static_cast<unsigned>(p.n_tokens * p.n_heads)),
                                           dim3(128), 0, stream, p));
    AX_RETURN_IF_ERROR(AX_CUDA_LAUNCH_STATUS("CombineKernel"));
  }
  return Status::Ok();
}

}  // namespace

Status LaunchAttention(const AttentionParams& p, cudaStream_t stream) { return Launch(p, stream); }
Status LaunchAttention(const AttentionParamsF32& p, cudaStream_t stream) { return Launch(p, stream); }

}  // namespace ax::kernels::cuda
