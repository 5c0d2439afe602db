// Generated rows (decode tokens, drafts, logits) on tensor cores, batch-invariant:
// y[m, n] (+)= x[m, k] · w[n, k]^T with bf16 x and w, f32 accumulation, for any m.
//
// The reduction (what makes a row's bits independent of m):
//   k is cut into C = k / 64 chunks of 64 and the chunks into four contiguous
//   quarters, quarter q = chunks [q·C/4, (q+1)·C/4) (integer division). Within a
//   quarter an output element is one chain of mma.sync.m16n8k16 (bf16 in, f32
//   accumulate) over the chunks in increasing order, four k16 steps per chunk, from
//   0; the four quarter sums are then added in the order ((p0 + p1) + p2) + p3 in f32,
//   and the sum is rounded (and added to y) once. Each mma output element depends only
//   on its A row, its B column and its accumulator, so none of this depends on m, on
//   the other rows of x, or on how rows are tiled: m only chooses how many tokens a
//   warp carries (8 … 128) and how many token tiles the grid has.
//
// The schedule: a cluster of 4 CTAs owns a tile of 128 weight rows and one tile of
// tokens; CTA q of the cluster computes quarter q. Each of its 8 warps streams 16
// weight rows straight from global memory into registers (16-byte streaming loads,
// U chunks in flight, the first U issued before the grid-dependency wait, as the GEMV
// does) and is the mma's A operand (weights as rows: 16 per mma, so one token wastes
// 7 of 8 B columns rather than 15 of 16 A rows); tokens are the B operand, read
// through L1, where the 8 warps share them. The partial sums go to shared memory and
// CTA q adds the four quarters of rows [32q, 32q + 32) of the tile through
// distributed shared memory (so the K split costs no global scratch and no second
// kernel), then stores.
//
// Fragment layout with a permuted k (the same for A and B, so the dot product is
// unchanged): lane l = 4g + t loads, of each row it serves, the two 16-byte vectors
// holding chunk elements [8t, 8t + 8) and [32 + 8t, 32 + 8t + 8), 8 registers
// r[0..7] of two bf16 each; k16 step s uses r[2s] where the mma expects logical k
// (2t, 2t + 1) and r[2s + 1] for (2t + 8, 2t + 9). A row's 64 chunk bytes are then
// two 64-byte runs per load instead of 4-byte pieces.
//
// sm_90 only (clusters); GemmRowsSupports says false elsewhere and the backend keeps
// the GEMV, which is batch-invariant too.
#include <cooperative_groups.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

namespace cg = cooperative_groups;
using detail::Bf16ToF32;
using detail::F32ToBf16;

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kWarpRows = 16;
constexpr int kTileRows = kWarps * kWarpRows;  // 128 weight rows per cluster
constexpr int kQuarters = 4;                   // CTAs per cluster (k quarters)
constexpr int kChunk = 64;                     // k elements per chunk
[[maybe_unused]] constexpr int kChunkVecs = kChunk / 8;         // 16-byte vectors per row and chunk

// One k16 step: d (16 weight rows x 8 tokens, f32) += a (16 x 16) · b (16 x 8).
[[maybe_unused]] __device__ __forceinline__ void Mma(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                    uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#endif
}

[[maybe_unused]] __device__ __forceinline__ uint32_t Reg(const uint4& lo, const uint4& hi, int i) {
  // Compile-time i only (unrolled loops), so the vectors stay in registers.
  const uint4& v = i < 4 ? lo : hi;
  switch (i % 4) {
    case 0: return v.x;
    case 1: return v.y;
    case 2: return v.z;
    default: return v.w;
  }
}

// What a cluster's tile is: rows of up to kGemvMaxMats matrices of one input (plain
// matmul: one matrix), or, for the fused gate/up + SiLU, 64 gate rows and the
// matching 64 up rows.
struct RowsArgs {
  const uint16_t* x = nullptr;  // [m, k]
  int64_t m = 0, k = 0;
  const uint16_t* w[kGemvMaxMats] = {};
  void* y[kGemvMaxMats] = {};
  int64_t n[kGemvMaxMats] = {};
  int tiles[kGemvMaxMats] = {};  // row tiles of each matrix
  int count = 1;
  bool y_f32 = false, accumulate = false;
  int64_t f = 0;  // SiLU: gate rows [0, f), up rows [f, 2f) of w[0]; act = y[0] [m, f]
};

// The matrix of row tile `tile` (constant parameter indices only: a dynamic index
// would copy the parameter arrays to local memory) and the tile's index within it.
struct Mat {
  const uint16_t* w;
  void* y;
  int64_t n;
  int64_t tile;
};
[[maybe_unused]] __device__ __forceinline__ Mat PickMat(const RowsArgs& a, int64_t tile) {
  Mat r{a.w[0], a.y[0], a.n[0], tile};
  bool past = true;
#pragma unroll
  for (int i = 1; i < kGemvMaxMats; ++i) {
    past = past && i < a.count && r.tile >= a.tiles[i - 1];
    if (past) {
      r.tile -= a.tiles[i - 1];
      r.w = a.w[i];
      r.y = a.y[i];
      r.n = a.n[i];
    }
  }
  return r;
}

// Partial sums of one warp: 16 weight rows (row pointers ra for rows g, rb for rows
// g + 8 of the lane) against NT8 x 8 tokens from t0, over chunks [cb, ce).
// acc[j][0..1]: row g, tokens 8j + 2t, +1; acc[j][2..3]: row g + 8.
template <int NT8, int U>
__device__ __forceinline__ void WarpQuarter(const RowsArgs& a, const uint4* __restrict__ ra,
                                            const uint4* __restrict__ rb, int64_t t0, int64_t cb, int64_t ce,
                                            float (&acc)[NT8][4]) {
  const int lane = static_cast<int>(threadIdx.x % 32), g = lane / 4, t = lane % 4;
#pragma unroll
  for (int j = 0; j < NT8; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;
  // Token rows of the lane's B columns, clamped into [0, m) (rows past m compute
  // duplicates that are never stored).
  // 32-bit offsets (in 16-byte vectors) keep NT8 pointers out of the register budget.
  const int64_t kv = a.k / 8;
  const uint4* xb = reinterpret_cast<const uint4*>(a.x) + t;
  uint32_t xo[NT8];
#pragma unroll
  for (int j = 0; j < NT8; ++j) {
    const int64_t tok = t0 + 8 * j + g;
    xo[j] = static_cast<uint32_t>((tok < a.m ? tok : a.m - 1) * kv);
  }
  ra += t;
  rb += t;
  // wv[u]: chunk (base + u)'s four weight vectors: row g lo/hi, row g + 8 lo/hi.
  uint4 wv[U][4];
#pragma unroll
  for (int u = 0; u < U; ++u) {
    const int64_t c = cb + u;
    if (c < ce) {
      wv[u][0] = detail::LoadStreaming(ra + c * kChunkVecs);
      wv[u][1] = detail::LoadStreaming(ra + c * kChunkVecs + 4);
      wv[u][2] = detail::LoadStreaming(rb + c * kChunkVecs);
      wv[u][3] = detail::LoadStreaming(rb + c * kChunkVecs + 4);
    }
  }
  detail::GridDependencyWait();
  detail::LaunchDependents();
  for (int64_t base = cb; base < ce; base += U) {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t c = base + u;
      if (c < ce) {
#pragma unroll
        for (int j = 0; j < NT8; ++j) {
          const uint4* xp = xb + xo[j] + c * kChunkVecs;
          const uint4 x0 = __ldg(xp), x1 = __ldg(xp + 4);
#pragma unroll
          for (int s = 0; s < 4; ++s) {
            Mma(acc[j], Reg(wv[u][0], wv[u][1], 2 * s), Reg(wv[u][2], wv[u][3], 2 * s),
                Reg(wv[u][0], wv[u][1], 2 * s + 1), Reg(wv[u][2], wv[u][3], 2 * s + 1), Reg(x0, x1, 2 * s),
                Reg(x0, x1, 2 * s + 1));
          }
        }
        const int64_t next = c + U;
        if (next < ce) {
          wv[u][0] = detail::LoadStreaming(ra + next * kChunkVecs);
          wv[u][1] = detail::LoadStreaming(ra + next * kChunkVecs + 4);
          wv[u][2] = detail::LoadStreaming(rb + next * kChunkVecs);
          wv[u][3] = detail::LoadStreaming(rb + next * kChunkVecs + 4);
        }
      }
    }
  }
}

template <typename T>
__device__ __forceinline__ void StoreOut(void* y, int64_t idx, float v, bool y_f32, bool accumulate) {
  if (y_f32) {
    float* p = static_cast<float*>(y) + idx;
    *p = accumulate ? *p + v : v;
  } else {
    T* p = static_cast<T*>(y) + idx;
    *p = F32ToBf16(accumulate ? Bf16ToF32(*p) + v : v);
  }
}

// Shared-memory partials: [kTileRows][BT + 4] f32 (padded rows).
template <int NT8>
__host__ __device__ constexpr int PartStride() {
  return 8 * NT8 + 4;
}
template <int NT8>
constexpr size_t PartBytes() {
  return sizeof(float) * kTileRows * PartStride<NT8>();
}

// grid: x = kQuarters x token tiles (the cluster's CTAs are one token tile's
// quarters), y = row tiles (of all matrices; SiLU: f / 64).
template <int NT8, int U, bool kSilu>
__global__ void __launch_bounds__(kThreads, NT8 <= 4 && U <= 4 ? 2 : 1) GemmRowsKernel(const RowsArgs a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ float4 smem4[];
  float* part = reinterpret_cast<float*>(smem4);
  constexpr int kBt = 8 * NT8, kS = PartStride<NT8>();
  cg::cluster_group cluster = cg::this_cluster();
  const int q = static_cast<int>(cluster.block_rank());
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int g = lane / 4, t = lane % 4;
  const int64_t t0 = static_cast<int64_t>(blockIdx.x / kQuarters) * kBt;
  const Mat mat = kSilu ? Mat{a.w[0], a.y[0], 2 * a.f, blockIdx.y} : PickMat(a, blockIdx.y);
  // The warp's first weight row: SiLU tiles are 64 gate rows (warps 0-3) and the
  // matching 64 up rows (warps 4-7).
  const int64_t row0 = kSilu ? (warp < 4 ? 0 : a.f) + mat.tile * 64 + kWarpRows * (warp % 4)
                             : mat.tile * kTileRows + kWarpRows * warp;
  const int64_t rows_a = row0 + g < mat.n ? row0 + g : mat.n - 1;
  const int64_t rows_b = row0 + g + 8 < mat.n ? row0 + g + 8 : mat.n - 1;
  const uint4* ra = reinterpret_cast<const uint4*>(mat.w + rows_a * a.k);
  const uint4* rb = reinterpret_cast<const uint4*>(mat.w + rows_b * a.k);
  const int64_t chunks = a.k / kChunk;
  float acc[NT8][4];
  WarpQuarter<NT8, U>(a, ra, rb, t0, q * chunks / kQuarters, (q + 1) * chunks / kQuarters, acc);

#pragma unroll
  for (int j = 0; j < NT8; ++j) {
    float* p = part + (kWarpRows * warp + g) * kS + 8 * j + 2 * t;
    *reinterpret_cast<float2*>(p) = make_float2(acc[j][0], acc[j][1]);
    *reinterpret_cast<float2*>(p + 8 * kS) = make_float2(acc[j][2], acc[j][3]);
  }
  cluster.sync();
  const float* parts[kQuarters];
#pragma unroll
  for (int r = 0; r < kQuarters; ++r) parts[r] = cluster.map_shared_rank(part, r);
  // The sum of a tile-local row and token over the quarters, in rank order.
  auto sum = [&](int row, int tok) {
    const int i = row * kS + tok;
    float s = parts[0][i] + parts[1][i];
    s = s + parts[2][i];
    return s + parts[3][i];
  };
  if constexpr (kSilu) {
    // CTA q: act columns tile*64 + 16q + [0, 16).
    for (int e = static_cast<int>(threadIdx.x); e < 16 * kBt; e += kThreads) {
      const int i = e % 16, tok = e / 16;
      const int64_t m = t0 + tok;
      if (m < a.m) {
        const float gate = detail::RoundBf16(sum(16 * q + i, tok));
        const float up = detail::RoundBf16(sum(64 + 16 * q + i, tok));
        static_cast<uint16_t*>(a.y[0])[m * a.f + mat.tile * 64 + 16 * q + i] =
            F32ToBf16(detail::SiluTimes(gate, up));
      }
    }
  } else {
    // CTA q: rows 32q + [0, 32) of the tile.
    for (int e = static_cast<int>(threadIdx.x); e < 32 * kBt; e += kThreads) {
      const int i = e % 32, tok = e / 32;
      const int64_t m = t0 + tok, row = mat.tile * kTileRows + 32 * q + i;
      if (m < a.m && row < mat.n) StoreOut<uint16_t>(mat.y, m * mat.n + row, sum(32 * q + i, tok), a.y_f32, a.accumulate);
    }
  }
  cluster.sync();  // no CTA leaves while another still reads its shared memory
#endif
}

template <int NT8, int U, bool kSilu>
cudaError_t LaunchTile(const RowsArgs& a, unsigned row_tiles, cudaStream_t stream) {
  auto* kernel = GemmRowsKernel<NT8, U, kSilu>;
  constexpr size_t smem = PartBytes<NT8>();
  static const cudaError_t attr = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                       static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  const int64_t bt = 8 * NT8;
  const unsigned token_tiles = static_cast<unsigned>((a.m + bt - 1) / bt);
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(kQuarters * token_tiles, row_tiles);
  cfg.blockDim = dim3(kThreads);
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attrs[2];
  attrs[0].id = cudaLaunchAttributeClusterDimension;
  attrs[0].val.clusterDim.x = kQuarters;
  attrs[0].val.clusterDim.y = 1;
  attrs[0].val.clusterDim.z = 1;
  attrs[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attrs[1].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attrs;
  cfg.numAttrs = detail::PdlEnabled() ? 2 : 1;
  return cudaLaunchKernelEx(&cfg, kernel, a);
}

// Tokens per warp by m: the smallest tile of 8, 16, 32 or 64 that holds every row,
// else 128 per token tile. Only the schedule changes with m (see the top).
// AX_CUDA_GEMM_ROWS_DEEP=1 keeps 8 chunks in flight per warp instead of 4 for m <= 16
// (one CTA per SM instead of two; A/B timing: the prefetch depth changes no bits).
template <bool kSilu>
cudaError_t LaunchRows(const RowsArgs& a, unsigned row_tiles, cudaStream_t stream) {
  static const bool deep = EnvSwitch("AX_CUDA_GEMM_ROWS_DEEP", false);
  if (a.m <= 8) {
    return deep ? LaunchTile<1, 8, kSilu>(a, row_tiles, stream) : LaunchTile<1, 4, kSilu>(a, row_tiles, stream);
  }
  if (a.m <= 16) {
    return deep ? LaunchTile<2, 8, kSilu>(a, row_tiles, stream) : LaunchTile<2, 4, kSilu>(a, row_tiles, stream);
  }
  if (a.m <= 32) return LaunchTile<4, 4, kSilu>(a, row_tiles, stream);
  if (a.m <= 64) return LaunchTile<8, 2, kSilu>(a, row_tiles, stream);
  return LaunchTile<16, 2, kSilu>(a, row_tiles, stream);
}

bool DeviceHasClusters() {
  static const bool ok = [] {
    int dev = 0, major = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return false;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
    return major >= 9;
  }();
  return ok;
}

}  // namespace

bool GemmRowsSupports(int64_t k, const void* x, const void* w) {
  // Opt-in (AX_CUDA_GEMM_ROWS=1) until a GPU run has checked it against the reference
  // and measured it beside the GEMV (docs/performance.md, experiment 42).
  static const bool on = EnvSwitch("AX_CUDA_GEMM_ROWS", false);
  return on && k > 0 && k % kChunk == 0 && detail::Aligned16(x) && detail::Aligned16(w) && DeviceHasClusters();
}

bool GemmRowsSiluSupports(int64_t f, int64_t k, const void* x, const void* w) {
  return f > 0 && f % 64 == 0 && GemmRowsSupports(k, x, w);
}

Status LaunchGemmRows(const MatmulParams& p, cudaStream_t stream) {
  if (!GemmRowsSupports(p.k, p.x, p.w)) return InvalidArgument("LaunchGemmRows: k % 64, alignment or device");
  if (p.m <= 0 || p.n <= 0) return Status::Ok();
  RowsArgs a;
  a.x = p.x;
  a.m = p.m;
  a.k = p.k;
  a.w[0] = p.w;
  a.y[0] = p.y;
  a.n[0] = p.n;
  a.tiles[0] = static_cast<int>(detail::Blocks(p.n, kTileRows));
  a.y_f32 = p.y_f32;
  a.accumulate = p.accumulate;
  AX_CUDA_RETURN_IF_ERROR(LaunchRows<false>(a, static_cast<unsigned>(a.tiles[0]), stream));
  return AX_CUDA_LAUNCH_STATUS("GemmRowsKernel");
}

Status LaunchGemmRowsGroup(const GemvGroupParams& p, cudaStream_t stream) {
  if (p.count < 1 || p.count > kGemvMaxMats) return InvalidArgument("LaunchGemmRowsGroup: matrix count");
  RowsArgs a;
  a.x = p.x;
  a.m = p.m;
  a.k = p.k;
  a.count = p.count;
  unsigned tiles = 0;
  for (int i = 0; i < p.count; ++i) {
    if (!GemmRowsSupports(p.k, p.x, p.w[i])) return InvalidArgument("LaunchGemmRowsGroup: k % 64, alignment or device");
    a.w[i] = p.w[i];
    a.y[i] = p.y[i];
    a.n[i] = p.n[i];
    a.tiles[i] = static_cast<int>(detail::Blocks(p.n[i], kTileRows));
    tiles += static_cast<unsigned>(a.tiles[i]);
  }
  if (p.m <= 0 || tiles == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(LaunchRows<false>(a, tiles, stream));
  return AX_CUDA_LAUNCH_STATUS("GemmRowsKernel (group)");
}

Status LaunchGemmRowsSilu(const GemvSiluParams& p, cudaStream_t stream) {
  if (!GemmRowsSiluSupports(p.f, p.k, p.x, p.w)) return InvalidArgument("LaunchGemmRowsSilu: f % 64, k % 64, alignment");
  if (p.m <= 0) return Status::Ok();
  RowsArgs a;
  a.x = p.x;
  a.m = p.m;
  a.k = p.k;
  a.w[0] = p.w;
  a.y[0] = p.act;
  a.n[0] = 2 * p.f;
  a.f = p.f;
  AX_CUDA_RETURN_IF_ERROR(LaunchRows<true>(a, static_cast<unsigned>(p.f / 64), stream));
  return AX_CUDA_LAUNCH_STATUS("GemmRowsKernel (SiLU)");
}

}  // namespace ax::kernels::cuda
