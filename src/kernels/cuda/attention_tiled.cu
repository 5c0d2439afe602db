// Query-tiled causal GQA attention over the paged KV cache, bf16 or f32 (head_dim 64 / 128),
// CUDA cores, f32 math, online softmax, optional split-K (merged by CombineKernel in
// attention.cu). Replaces the per-token kernel where it applies: a block serves up to
// kAttentionTileQueries query tokens × kAttentionTiledHeads query heads of one kv head
// (≤ 64 rows), so each K/V tile is loaded from the cache once per 16 queries instead of
// once per query, with 16-byte loads.
//
//   block (query tile, kv head g, head block, split):
//     rows r = (token i of the tile, head hi):   Q [rows, HD] in shared memory (f32)
//     for each key tile of 32 keys (paged → shared memory, f32, rows padded to HD + 1):
//       S = Q·Kᵀ  [rows, 32]      thread (rg, cg) computes rows 4rg..4rg+3 × keys cg+8b
//       causal mask key ≤ position(row); online softmax per row (warp per row)
//       O += P·V  [rows, HD]      thread (rg, cg) keeps rows 4rg.. × dims cg+8i in registers
//
// Example: prefill of 512 tokens, 32 q heads / 8 kv heads: 32 query tiles × 8 kv heads
// = 256 blocks; the tile of positions 496..511 walks 16 key tiles, the last one masked
// per row. A decode row (one token) is a tile of one query: 4 rows × 8 kv heads, split
// over the key tiles (flash-decoding).
#include <cmath>

#include "kernels/cuda/attention_internal.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/head_dims.h"
#include "kernels/cuda/cuda_check.h"

namespace ax::kernels::cuda {
namespace {

using detail::Bf16ToF32;
using detail::F32ToBf16;

constexpr int kTK = kAttentionTileKeys;
constexpr int kRows = kAttentionTileQueries * kAttentionTiledHeads;  // 64
constexpr int kThreads = 128;
static_assert(kRows == 64 && kThreads == 128, "thread (rg, cg) = (tid / 8, tid % 8) covers 16 x 4 rows");
static_assert(kTK == 32, "4 x 8 key columns per tile; the softmax maps one key per lane");

template <int HD>
constexpr size_t SharedFloats() {
  return static_cast<size_t>(kRows) * (HD + 1) + 2 * static_cast<size_t>(kTK) * (HD + 1) +
         static_cast<size_t>(kRows) * (kTK + 1) + 4 * static_cast<size_t>(kRows);
}

// 8 elements of a cache row as f32 into dst (vector c of the row at src), or zeros.
__device__ __forceinline__ void Load8(const uint16_t* src, int c, bool valid, float* dst) {
  const uint4 v = valid ? reinterpret_cast<const uint4*>(src)[c] : make_uint4(0, 0, 0, 0);
  dst[0] = detail::LoHalf(v.x);
  dst[1] = detail::HiHalf(v.x);
  dst[2] = detail::LoHalf(v.y);
  dst[3] = detail::HiHalf(v.y);
  dst[4] = detail::LoHalf(v.z);
  dst[5] = detail::HiHalf(v.z);
  dst[6] = detail::LoHalf(v.w);
  dst[7] = detail::HiHalf(v.w);
}
__device__ __forceinline__ void Load8(const float* src, int c, bool valid, float* dst) {
  const float4 z = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  const float4 a = valid ? reinterpret_cast<const float4*>(src)[2 * c] : z;
  const float4 b = valid ? reinterpret_cast<const float4*>(src)[2 * c + 1] : z;
  dst[0] = a.x;
  dst[1] = a.y;
  dst[2] = a.z;
  dst[3] = a.w;
  dst[4] = b.x;
  dst[5] = b.y;
  dst[6] = b.z;
  dst[7] = b.w;
}

template <int HD, typename T>
__global__ void __launch_bounds__(kThreads) AttentionTiledKernel(AttentionParamsT<T> p) {
  constexpr int kLd = HD + 1, kSl = kTK + 1, kDims = HD / 8, kVecs = HD / 8;
  extern __shared__ float smem[];
  float* qs = smem;                       // [kRows][kLd], pre-scaled
  float* ks = qs + kRows * kLd;           // [kTK][kLd]
  float* vs = ks + kTK * kLd;             // [kTK][kLd]
  float* sc = vs + kTK * kLd;             // [kRows][kSl]: scores, then probabilities
  float* m_run = sc + kRows * kSl;        // [kRows]
  float* l_run = m_run + kRows;           // [kRows]
  float* rescale = l_run + kRows;         // [kRows]
  int* row_pos = reinterpret_cast<int*>(rescale + kRows);  // [kRows]: position of the row's token, -1 if unused

  const int group = p.n_heads / p.n_kv_heads;
  const int head_blocks = (group + kAttentionTiledHeads - 1) / kAttentionTiledHeads;  // AttentionHeadBlocks
  int bx = static_cast<int>(blockIdx.x);
  const int hb = bx % head_blocks;
  bx /= head_blocks;
  const int g = bx % p.n_kv_heads;
  const int qt = bx / p.n_kv_heads;
  const int split = static_cast<int>(blockIdx.y);
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int rg = tid / 8, cg = tid % 8;
  const int h_begin = hb * kAttentionTiledHeads;
  const int h_count = min(kAttentionTiledHeads, group - h_begin);

  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int t_begin = p.q_tiles[2 * qt], n_q = p.q_tiles[2 * qt + 1];
  const int rows = n_q * h_count;
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t_begin]) * p.max_blocks_per_seq;
  int max_pos = 0;
  for (int i = 0; i < n_q; ++i) max_pos = max(max_pos, p.positions[t_begin + i]);
  const int n_keys = max_pos + 1;
  const int n_tiles = (n_keys + kTK - 1) / kTK;
  const int per_split = (n_tiles + p.n_splits - 1) / p.n_splits;
  const int tile_begin = split * per_split;
  const int tile_end = min(n_tiles, tile_begin + per_split);
  const int64_t kv_row = static_cast<int64_t>(p.n_kv_heads) * HD;
  // Row r of the block is query head (g·group + h_begin + r % h_count) of token
  // (t_begin + r / h_count).
  const auto q_row = [&](int r) {
    return (static_cast<int64_t>(t_begin) + r / h_count) * p.n_heads + static_cast<int64_t>(g) * group + h_begin +
           r % h_count;
  };

  for (int e = tid; e < kRows * HD; e += kThreads) {
    const int r = e / HD, d = e % HD;
    qs[r * kLd + d] = r < rows ? detail::ToF32(p.q[q_row(r) * HD + d]) * p.scale : 0.0f;
  }
  if (tid < kRows) {
    m_run[tid] = -INFINITY;
    l_run[tid] = 0.0f;
    rescale[tid] = 1.0f;
    row_pos[tid] = tid < rows ? p.positions[t_begin + tid / h_count] : -1;
  }
  float acc[4][kDims];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
#pragma unroll
    for (int i = 0; i < kDims; ++i) acc[a][i] = 0.0f;
  }
  const bool active = rg * 4 < rows;
  __syncthreads();

  for (int kt = tile_begin; kt < tile_end; ++kt) {
    const int j0 = kt * kTK;
    for (int e = tid; e < kTK * kVecs; e += kThreads) {
      const int j = e / kVecs, c = e % kVecs, pos = j0 + j;
      const bool valid = pos < n_keys;
      int64_t off = 0;
      if (valid) {
        const int64_t slot = static_cast<int64_t>(table[pos / p.block_size]) * p.block_size + pos % p.block_size;
        off = slot * kv_row + static_cast<int64_t>(g) * HD;
      }
      Load8(p.k_cache + off, c, valid, ks + j * kLd + c * 8);
      Load8(p.v_cache + off, c, valid, vs + j * kLd + c * 8);
    }
    __syncthreads();

    float s[4][4];
#pragma unroll
    for (int a = 0; a < 4; ++a) {
#pragma unroll
      for (int b = 0; b < 4; ++b) s[a][b] = 0.0f;
    }
    if (active) {
#pragma unroll 8
      for (int d = 0; d < HD; ++d) {
        float qv[4], kv[4];
#pragma unroll
        for (int a = 0; a < 4; ++a) qv[a] = qs[(rg * 4 + a) * kLd + d];
#pragma unroll
        for (int b = 0; b < 4; ++b) kv[b] = ks[(cg + 8 * b) * kLd + d];
#pragma unroll
        for (int a = 0; a < 4; ++a) {
#pragma unroll
          for (int b = 0; b < 4; ++b) s[a][b] = fmaf(qv[a], kv[b], s[a][b]);
        }
      }
    }
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      const int r = rg * 4 + a;
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        const int j = cg + 8 * b;
        // Masked keys of a live row: -inf (softmax gives 0); unused rows: 0.
        sc[r * kSl + j] = j0 + j <= row_pos[r] ? s[a][b] : (r < rows ? -INFINITY : 0.0f);
      }
    }
    __syncthreads();

    for (int r = warp; r < rows; r += kThreads / 32) {
      const float sv = sc[r * kSl + lane];
      const float m_old = m_run[r];
      const float m_new = fmaxf(m_old, detail::WarpMax(sv));
      float pr = 0.0f, rs = 1.0f;
      if (m_new != -INFINITY) {  // the row has a visible key in this split so far
        pr = expf(sv - m_new);
        rs = expf(m_old - m_new);
      }
      const float sum = detail::WarpSum(pr);
      sc[r * kSl + lane] = pr;
      if (lane == 0) {
        rescale[r] = rs;
        l_run[r] = l_run[r] * rs + sum;
        m_run[r] = m_new;
      }
    }
    __syncthreads();

    if (active) {
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        const float rs = rescale[rg * 4 + a];
#pragma unroll
        for (int i = 0; i < kDims; ++i) acc[a][i] *= rs;
      }
#pragma unroll 4
      for (int j = 0; j < kTK; ++j) {
        float pv[4];
#pragma unroll
        for (int a = 0; a < 4; ++a) pv[a] = sc[(rg * 4 + a) * kSl + j];
#pragma unroll
        for (int i = 0; i < kDims; ++i) {
          const float v = vs[j * kLd + cg + 8 * i];
#pragma unroll
          for (int a = 0; a < 4; ++a) acc[a][i] = fmaf(pv[a], v, acc[a][i]);
        }
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int r = rg * 4 + a;
    if (r >= rows) continue;
    const int64_t row = q_row(r);
    if (p.n_splits == 1) {
      const float inv = 1.0f / l_run[r];
#pragma unroll
      for (int i = 0; i < kDims; ++i) p.out[row * HD + cg + 8 * i] = detail::FromF32<T>(acc[a][i] * inv);
    } else {
      float* part = p.partial + (row * p.n_splits + split) * (HD + 2);
#pragma unroll
      for (int i = 0; i < kDims; ++i) part[cg + 8 * i] = acc[a][i];
      if (cg == 0) {
        part[HD] = m_run[r];
        part[HD + 1] = l_run[r];
      }
    }
  }
}

}  // namespace

size_t AttentionTiledSharedBytes(int head_dim) {
  return WithHeadDim(head_dim, [](auto hd) { return SharedFloats<decltype(hd)::value>(); }) * sizeof(float);
}

Status AttentionTiledInit() {
  const auto raise = [](auto kernel, size_t floats) {
    return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                static_cast<int>(floats * sizeof(float)));
  };
  AX_CUDA_RETURN_IF_ERROR(raise(AttentionTiledKernel<64, bf16_bits>, SharedFloats<64>()));
  AX_CUDA_RETURN_IF_ERROR(raise(AttentionTiledKernel<128, bf16_bits>, SharedFloats<128>()));
  AX_CUDA_RETURN_IF_ERROR(raise(AttentionTiledKernel<64, float>, SharedFloats<64>()));
  AX_CUDA_RETURN_IF_ERROR(raise(AttentionTiledKernel<128, float>, SharedFloats<128>()));
  return Status::Ok();
}

template <typename T>
Status LaunchAttentionTiled(const AttentionParamsT<T>& p, cudaStream_t stream) {
  const int group = p.n_heads / p.n_kv_heads;
  const dim3 grid(static_cast<unsigned>(p.n_q_tiles * p.n_kv_heads * AttentionHeadBlocks(group)),
                  static_cast<unsigned>(p.n_splits));
  if (!HasTemplatedHeadDim(p.head_dim)) return InvalidArgument("LaunchAttentionTiled: head_dim must be 64 or 128");
  AX_CUDA_RETURN_IF_ERROR(WithHeadDim(p.head_dim, [&](auto hd) {
    constexpr int HD = decltype(hd)::value;
    return detail::Launch(AttentionTiledKernel<HD, T>, grid, dim3(kThreads), SharedFloats<HD>() * sizeof(float), stream,
                          p);
  }));
  return AX_CUDA_LAUNCH_STATUS("AttentionTiledKernel");
}
template Status LaunchAttentionTiled<bf16_bits>(const AttentionParamsT<bf16_bits>&, cudaStream_t);
template Status LaunchAttentionTiled<float>(const AttentionParamsT<float>&, cudaStream_t);

}  // namespace ax::kernels::cuda
