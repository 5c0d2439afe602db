// Prefill attention on tensor cores (flash-attention 2 style, causal, paged KV, GQA).
//
// One block of 4 warps per (64-query tile, query head); warp w owns the tile's rows
// [16w, 16w + 16). Keys are walked in blocks of 64, each staged in shared memory
// (bf16, rows padded by 8 elements so that fragment reads hit distinct banks):
//
//   S = Q·Kᵀ       mma.m16n8k16 (bf16 in, f32 out); Q fragments stay in registers
//   online softmax  per row, in the exp2 domain, masked where key > the row's position
//   O += P·V       P re-packed from S's accumulators as A fragments (same layout);
//                  V fragments by ldmatrix.trans from the key-major tile
//
// P is rounded to bf16 for the second product (as every flash-attention kernel does);
// everything else accumulates in f32. Fragment layouts (PTX ISA, mma.m16n8k16):
// g = lane / 4, t = lane % 4;
//   A (16×16, row): reg0 (g, 2t..2t+1), reg1 (g+8, 2t..), reg2 (g, 2t+8..), reg3 (g+8, 2t+8..)
//   B (16×8, col):  reg0 (k 2t..2t+1, n g), reg1 (k 2t+8.., n g)
//   C (16×8, f32):  c0,c1 (g, 2t..2t+1), c2,c3 (g+8, 2t..2t+1)
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/head_dims.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kBM = kPrefillTileQueries;  // queries per block (16 per warp)
constexpr int kBN = 64;                   // keys per step
static_assert(kBM == 16 * kWarps, "each warp owns 16 query rows");

__device__ __forceinline__ void Mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8×8 bf16 matrices from shared memory, transposed (row addresses from lanes
// 8i..8i+7 for matrix i).
__device__ __forceinline__ void LdMatrixX4Trans(const uint16_t* p, uint32_t& r0, uint32_t& r1, uint32_t& r2,
                                                uint32_t& r3) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr));
}

__device__ __forceinline__ uint32_t PackBf16(float lo, float hi) {
  return static_cast<uint32_t>(detail::F32ToBf16(lo)) | (static_cast<uint32_t>(detail::F32ToBf16(hi)) << 16);
}

template <int HD>
__global__ void __launch_bounds__(kThreads) PrefillAttentionKernel(AttentionParams p) {
  constexpr int kLd = HD + 8;     // shared row stride (bf16)
  constexpr int kKSteps = HD / 16;
  constexpr int kDTiles = HD / 8;  // n-tiles of O
  constexpr int kSTiles = kBN / 8; // n-tiles of S
  __shared__ __align__(16) uint16_t k_tile[kBN * kLd];
  __shared__ __align__(16) uint16_t v_tile[kBN * kLd];
  detail::GridDependencyWait();
  detail::LaunchDependents();

  const int qt = static_cast<int>(gridDim.x - 1 - blockIdx.x);  // later (longer) tiles start first
  const int head = static_cast<int>(blockIdx.y);
  const int group = p.n_heads / p.n_kv_heads, kvh = head / group;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int gi = lane / 4, ti = lane % 4;
  const int t_begin = p.q_tiles[2 * qt], n_q = p.q_tiles[2 * qt + 1];
  // A tile's rows are consecutive prompt positions of one sequence.
  const int first_pos = p.positions[t_begin];
  const int n_keys = p.positions[t_begin + n_q - 1] + 1;
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t_begin]) * p.max_blocks_per_seq;
  const int64_t kv_row = static_cast<int64_t>(p.n_kv_heads) * HD;

  const int row0 = warp * 16 + gi, row1 = row0 + 8;
  const int pos0 = row0 < n_q ? first_pos + row0 : -1;
  const int pos1 = row1 < n_q ? first_pos + row1 : -1;

  // Q as A fragments, one per 16 dims (rows past the tile read as zero).
  uint32_t qa[kKSteps][4];
  {
    const uint16_t* q0 = p.q + ((static_cast<int64_t>(t_begin) + row0) * p.n_heads + head) * HD;
    const uint16_t* q1 = p.q + ((static_cast<int64_t>(t_begin) + row1) * p.n_heads + head) * HD;
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) {
      const int c = kk * 16 + 2 * ti;
      qa[kk][0] = pos0 >= 0 ? *reinterpret_cast<const uint32_t*>(q0 + c) : 0u;
      qa[kk][1] = pos1 >= 0 ? *reinterpret_cast<const uint32_t*>(q1 + c) : 0u;
      qa[kk][2] = pos0 >= 0 ? *reinterpret_cast<const uint32_t*>(q0 + c + 8) : 0u;
      qa[kk][3] = pos1 >= 0 ? *reinterpret_cast<const uint32_t*>(q1 + c + 8) : 0u;
    }
  }
  float o[kDTiles][4];
#pragma unroll
  for (int d = 0; d < kDTiles; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;
  float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;
  const float scale_log2 = p.scale * 1.4426950408889634f;

  for (int kb = 0; kb * kBN < n_keys; ++kb) {
    const int key0 = kb * kBN;
    // Stage K and V (keys past n_keys as zeros: never NaN from unwritten cache).
    for (int e = static_cast<int>(threadIdx.x); e < kBN * (HD / 8); e += kThreads) {
      const int key = e / (HD / 8), c = e % (HD / 8), j = key0 + key;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (j < n_keys) {
        const int64_t slot = static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size;
        const int64_t off = slot * kv_row + static_cast<int64_t>(kvh) * HD + c * 8;
        kv = *reinterpret_cast<const uint4*>(p.k_cache + off);
        vv = *reinterpret_cast<const uint4*>(p.v_cache + off);
      }
      *reinterpret_cast<uint4*>(k_tile + key * kLd + c * 8) = kv;
      *reinterpret_cast<uint4*>(v_tile + key * kLd + c * 8) = vv;
    }
    __syncthreads();

    float s[kSTiles][4];
#pragma unroll
    for (int nt = 0; nt < kSTiles; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
      const uint16_t* kr = k_tile + (nt * 8 + gi) * kLd + 2 * ti;
#pragma unroll
      for (int kk = 0; kk < kKSteps; ++kk) {
        const uint32_t b0 = *reinterpret_cast<const uint32_t*>(kr + kk * 16);
        const uint32_t b1 = *reinterpret_cast<const uint32_t*>(kr + kk * 16 + 8);
        Mma(s[nt], qa[kk], b0, b1);
      }
    }
    // Scale into the exp2 domain, mask future keys, row maxima over the quad.
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < kSTiles; ++nt) {
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int key = key0 + nt * 8 + 2 * ti + c;
        s[nt][c] = key <= pos0 ? s[nt][c] * scale_log2 : -INFINITY;
        s[nt][2 + c] = key <= pos1 ? s[nt][2 + c] * scale_log2 : -INFINITY;
        mx0 = fmaxf(mx0, s[nt][c]);
        mx1 = fmaxf(mx1, s[nt][2 + c]);
      }
    }
#pragma unroll
    for (int o_ = 1; o_ <= 2; o_ <<= 1) {
      mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, o_));
      mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, o_));
    }
    const float new0 = fmaxf(m0, mx0), new1 = fmaxf(m1, mx1);
    // A row with every key so far masked keeps base 0 (exp2(-inf) = 0, no NaN).
    const float base0 = new0 == -INFINITY ? 0.0f : new0, base1 = new1 == -INFINITY ? 0.0f : new1;
    const float corr0 = exp2f(m0 - base0), corr1 = exp2f(m1 - base1);
    m0 = new0;
    m1 = new1;
    float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
    for (int nt = 0; nt < kSTiles; ++nt) {
      s[nt][0] = exp2f(s[nt][0] - base0);
      s[nt][1] = exp2f(s[nt][1] - base0);
      s[nt][2] = exp2f(s[nt][2] - base1);
      s[nt][3] = exp2f(s[nt][3] - base1);
      sum0 += s[nt][0] + s[nt][1];
      sum1 += s[nt][2] + s[nt][3];
    }
    l0 = l0 * corr0 + sum0;  // this thread's share; the quad is summed at the end
    l1 = l1 * corr1 + sum1;
#pragma unroll
    for (int d = 0; d < kDTiles; ++d) {
      o[d][0] *= corr0;
      o[d][1] *= corr0;
      o[d][2] *= corr1;
      o[d][3] *= corr1;
    }
    // O += P·V, 16 keys per step.
#pragma unroll
    for (int kk = 0; kk < kBN / 16; ++kk) {
      const uint32_t pa[4] = {PackBf16(s[2 * kk][0], s[2 * kk][1]), PackBf16(s[2 * kk][2], s[2 * kk][3]),
                              PackBf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              PackBf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      const int key = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
      for (int d = 0; d < kDTiles; d += 2) {
        uint32_t b0, b1, b2, b3;
        LdMatrixX4Trans(v_tile + key * kLd + (d + (lane >> 4)) * 8, b0, b1, b2, b3);
        Mma(o[d], pa, b0, b1);
        Mma(o[d + 1], pa, b2, b3);
      }
    }
    __syncthreads();  // the tiles are restaged next step
  }

#pragma unroll
  for (int o_ = 1; o_ <= 2; o_ <<= 1) {
    l0 += __shfl_xor_sync(0xffffffffu, l0, o_);
    l1 += __shfl_xor_sync(0xffffffffu, l1, o_);
  }
  if (pos0 >= 0) {
    uint16_t* out0 = p.out + ((static_cast<int64_t>(t_begin) + row0) * p.n_heads + head) * HD;
    const float inv = 1.0f / l0;
#pragma unroll
    for (int d = 0; d < kDTiles; ++d)
      *reinterpret_cast<uint32_t*>(out0 + d * 8 + 2 * ti) = PackBf16(o[d][0] * inv, o[d][1] * inv);
  }
  if (pos1 >= 0) {
    uint16_t* out1 = p.out + ((static_cast<int64_t>(t_begin) + row1) * p.n_heads + head) * HD;
    const float inv = 1.0f / l1;
#pragma unroll
    for (int d = 0; d < kDTiles; ++d)
      *reinterpret_cast<uint32_t*>(out1 + d * 8 + 2 * ti) = PackBf16(o[d][2] * inv, o[d][3] * inv);
  }
}

}  // namespace

bool PrefillAttentionSupports(int head_dim) {
  static const bool off = [] {
    const char* e = std::getenv("AX_CUDA_ATTN");
    return e != nullptr && (std::strcmp(e, "simple") == 0 || std::strcmp(e, "tiled") == 0);
  }();
  return !off && HasTemplatedHeadDim(head_dim);
}

Status LaunchPrefillAttention(const AttentionParams& p, cudaStream_t stream) {
  if (p.n_q_tiles == 0) return Status::Ok();
  if (!PrefillAttentionSupports(p.head_dim) || p.n_kv_heads <= 0 || p.n_heads % p.n_kv_heads != 0)
    return InvalidArgument("LaunchPrefillAttention: unsupported shape");
  const dim3 grid(static_cast<unsigned>(p.n_q_tiles), static_cast<unsigned>(p.n_heads));
  AX_CUDA_RETURN_IF_ERROR(WithHeadDim(p.head_dim, [&](auto hd) {
    return detail::Launch(PrefillAttentionKernel<decltype(hd)::value>, grid, dim3(kThreads), 0, stream, p);
  }));
  return AX_CUDA_LAUNCH_STATUS("PrefillAttentionKernel");
}

}  // namespace ax::kernels::cuda
