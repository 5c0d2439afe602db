// The row GEMM on mma.sync.m16n8k16 (the contract is in gemm_rows.cu): per warp and
// 64-k chunk, fragments loaded from shared memory into registers, then the mma chain.
//
// The schedule: a cluster of 4 CTAs owns a tile of 128 weight rows and one tile of BT
// tokens; CTA q of the cluster computes quarter q. It stages chunk after chunk of the
// tile's weight rows and tokens in shared memory with cp.async, kStages chunks deep
// (the first stages' weights issued before the grid-dependency wait: no kernel writes
// weights). Warp w computes weight rows 32·(w % 4) + [0, 32) (two A fragments: weights
// are the mma's A operand, 16 rows per mma, so one token wastes 7 of 8 B columns
// rather than 15 of 16 A rows) against tokens (BT / 2)·(w / 4) + [0, BT / 2), so each
// token fragment read from shared memory feeds two weight fragments. The partial sums
// go to shared memory (over the drained stages) and CTA q adds the four quarters of
// rows [32q, 32q + 32) of the tile through distributed shared memory (so the K split
// costs no global scratch and no second kernel), then stores.
//
// Fragment layout with a permuted k (the same for A and B, so the dot product is
// unchanged): lane l = 4g + t reads, of each row it serves, the two 16-byte vectors
// holding chunk elements [8t, 8t + 8) and [32 + 8t, 32 + 8t + 8), 8 registers
// r[0..7] of two bf16 each; k16 step s uses r[2s] where the mma expects logical k
// (2t, 2t + 1) and r[2s + 1] for (2t + 8, 2t + 9). A stage is [128 weight rows][8
// vectors of 16 bytes], then [BT tokens][8]; vector v of row r sits at position
// v ^ 4·(r & 1), so the 8 lanes of a quarter-warp phase (rows g and g + 1) read
// disjoint banks.
#include "kernels/cuda/gemm_rows_tile.cuh"

namespace ax::kernels::cuda::rows {
namespace {

// One k16 step: d (16 weight rows x 8 tokens, f32) += a (16 x 16) · b (16 x 8).
[[maybe_unused]] __device__ __forceinline__ void Mma(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                                     uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#endif
}

// Register i (0..7) of a lane's chunk fragment: lo holds chunk elements [8t, 8t + 8),
// hi [32 + 8t, 32 + 8t + 8). Compile-time i only (unrolled loops), so the vectors stay
// in registers.
[[maybe_unused]] __device__ __forceinline__ uint32_t Reg(const uint4& lo, const uint4& hi, int i) {
  const uint4& v = i < 4 ? lo : hi;
  switch (i % 4) {
    case 0:
      return v.x;
    case 1:
      return v.y;
    case 2:
      return v.z;
    default:
      return v.w;
  }
}

// The four k16 steps of one chunk for one 16-row A fragment (rows g: a_lo/a_hi, rows
// g + 8: b_lo/b_hi) and one 8-token B fragment (x_lo/x_hi): step s uses registers 2s
// and 2s + 1, which hold logical k (2t, 2t + 1) and (2t + 8, 2t + 9) of the permuted k.
[[maybe_unused]] __device__ __forceinline__ void ChunkMma(float (&d)[4], const uint4& a_lo, const uint4& a_hi,
                                                          const uint4& b_lo, const uint4& b_hi, const uint4& x_lo,
                                                          const uint4& x_hi) {
#pragma unroll
  for (int s = 0; s < 4; ++s) {
    Mma(d, Reg(a_lo, a_hi, 2 * s), Reg(b_lo, b_hi, 2 * s), Reg(a_lo, a_hi, 2 * s + 1), Reg(b_lo, b_hi, 2 * s + 1),
        Reg(x_lo, x_hi, 2 * s), Reg(x_lo, x_hi, 2 * s + 1));
  }
}

// Byte offset of vector v of row r within a [rows][8] block.
[[maybe_unused]] __device__ __forceinline__ int Swizzled(int r, int v) {
  return r * kRowBytes + ((v ^ (4 * (r & 1))) * 16);
}

template <int kBt, int kStages>
constexpr size_t SmemBytes() {
  const size_t pipeline = static_cast<size_t>(kStages) * (kTileRows + kBt) * kRowBytes;
  return pipeline > PartBytes(kBt) ? pipeline : PartBytes(kBt);
}

template <int kBt, int kStages, int kPerSm, bool kSilu>
__global__ void __launch_bounds__(kThreads, kPerSm) GemmRowsKernel(const RowsArgs a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ float4 smem4[];
  char* smem = reinterpret_cast<char*>(smem4);
  constexpr int kStageBytes = (kTileRows + kBt) * kRowBytes;
  constexpr int kWVecs = kTileRows * kChunkVecs / kThreads;  // weight vectors per thread and chunk: 4
  constexpr int kXTotal = kBt * kChunkVecs;
  constexpr int kXVecs = (kXTotal + kThreads - 1) / kThreads;  // token vectors per thread and chunk: 1 to 4
  constexpr int kNT8 = kBt / 16;                               // token fragments per warp
  const int q = static_cast<int>(cooperative_groups::this_cluster().block_rank());
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, t = lane % 4;
  const int64_t t0 = static_cast<int64_t>(blockIdx.x / kQuarters) * kBt;
  const Mat mat = TileMat<kSilu>(a);
  const int64_t cb = QuarterBegin(a.k, q), chunks = QuarterBegin(a.k, q + 1) - cb;

  // This thread's copies: weight vectors tid + 256i, token vectors likewise (row =
  // index / 8, vector = index % 8), with their global sources at chunk cb.
  const uint16_t* wsrc[kWVecs];
  int wdst[kWVecs];
#pragma unroll
  for (int i = 0; i < kWVecs; ++i) {
    const int idx = tid + kThreads * i, r = idx / kChunkVecs, v = idx % kChunkVecs;
    wsrc[i] = mat.w + TileRow<kSilu>(a, mat, r) * a.k + cb * kChunk + 8 * v;
    wdst[i] = Swizzled(r, v);
  }
  const uint16_t* xsrc[kXVecs];
  int xdst[kXVecs];
#pragma unroll
  for (int i = 0; i < kXVecs; ++i) {
    const int idx = (tid + kThreads * i) % kXTotal, r = idx / kChunkVecs, v = idx % kChunkVecs;
    const int64_t tok = t0 + r < a.m ? t0 + r : a.m - 1;
    xsrc[i] = a.x + tok * a.k + cb * kChunk + 8 * v;
    xdst[i] = kTileRows * kRowBytes + Swizzled(r, v);
  }
  const uint32_t base = SharedAddr(smem);
  auto load_w = [&](int64_t c) {  // chunk cb + c into its stage
    const uint32_t st = base + static_cast<uint32_t>((c % kStages) * kStageBytes);
#pragma unroll
    for (int i = 0; i < kWVecs; ++i) CopyAsync16(st + wdst[i], wsrc[i] + c * kChunk);
  };
  auto load_x = [&](int64_t c) {
    const uint32_t st = base + static_cast<uint32_t>((c % kStages) * kStageBytes);
#pragma unroll
    for (int i = 0; i < kXVecs; ++i)
      if (kXTotal % kThreads == 0 || tid + kThreads * i < kXTotal) CopyAsync16(st + xdst[i], xsrc[i] + c * kChunk);
  };

  // Prologue: the weights of the first kStages - 1 chunks before the wait (no kernel
  // writes weights), then their tokens, one commit group per chunk (empty past the end,
  // so the group count stays uniform).
#pragma unroll
  for (int c = 0; c < kStages - 1; ++c)
    if (c < chunks) load_w(c);
  detail::GridDependencyWait();
  detail::LaunchDependents();
#pragma unroll
  for (int c = 0; c < kStages - 1; ++c) {
    if (c < chunks) load_x(c);
    CommitGroup();
  }

  float acc[2][kNT8][4];
#pragma unroll
  for (int f = 0; f < 2; ++f)
#pragma unroll
    for (int j = 0; j < kNT8; ++j) acc[f][j][0] = acc[f][j][1] = acc[f][j][2] = acc[f][j][3] = 0.0f;
  const int wrow = 32 * (warp % 4), wtok = (kBt / 2) * (warp / 4);
  for (int64_t c = 0; c < chunks; ++c) {
    WaitGroup<kStages - 2>();  // chunk c has landed (for this thread) ...
    __syncthreads();           // ... for every thread, and chunk c - 1's stage is free
    const int64_t next = c + kStages - 1;
    if (next < chunks) {
      load_w(next);
      load_x(next);
    }
    CommitGroup();
    const char* st = smem + (c % kStages) * kStageBytes;
    uint4 w[2][4];  // fragment f: row g lo/hi, row g + 8 lo/hi
#pragma unroll
    for (int f = 0; f < 2; ++f) {
      const int r = wrow + 16 * f + g;
      w[f][0] = *reinterpret_cast<const uint4*>(st + Swizzled(r, t));
      w[f][1] = *reinterpret_cast<const uint4*>(st + Swizzled(r, 4 + t));
      w[f][2] = *reinterpret_cast<const uint4*>(st + Swizzled(r + 8, t));
      w[f][3] = *reinterpret_cast<const uint4*>(st + Swizzled(r + 8, 4 + t));
    }
    const char* xs = st + kTileRows * kRowBytes;
#pragma unroll
    for (int j = 0; j < kNT8; ++j) {
      const int r = wtok + 8 * j + g;
      const uint4 x_lo = *reinterpret_cast<const uint4*>(xs + Swizzled(r, t));
      const uint4 x_hi = *reinterpret_cast<const uint4*>(xs + Swizzled(r, 4 + t));
#pragma unroll
      for (int f = 0; f < 2; ++f) ChunkMma(acc[f][j], w[f][0], w[f][1], w[f][2], w[f][3], x_lo, x_hi);
    }
  }
  WaitGroup<0>();
  __syncthreads();  // every warp is done with the stages: the partials reuse them

  float* part = reinterpret_cast<float*>(smem);
  constexpr int kS = PartStride(kBt);
#pragma unroll
  for (int f = 0; f < 2; ++f) {
#pragma unroll
    for (int j = 0; j < kNT8; ++j) {
      float* p = part + (wrow + 16 * f + g) * kS + wtok + 8 * j + 2 * t;
      *reinterpret_cast<float2*>(p) = make_float2(acc[f][j][0], acc[f][j][1]);
      *reinterpret_cast<float2*>(p + 8 * kS) = make_float2(acc[f][j][2], acc[f][j][3]);
    }
  }
  ReduceQuartersAndStore<kBt, kSilu>(a, mat, part, t0);
#endif
}

template <int kBt, int kStages, int kPerSm, bool kSilu>
cudaError_t LaunchTile(const RowsArgs& a, unsigned row_tiles, cudaStream_t stream) {
  auto* kernel = GemmRowsKernel<kBt, kStages, kPerSm, kSilu>;
  constexpr size_t smem = SmemBytes<kBt, kStages>();
  // Hopper: 227 KB of shared memory per block, 228 KB per SM (1 KB reserved per block).
  static_assert(smem * kPerSm + 1024 * kPerSm <= 228 * 1024, "shared memory per SM");
  static const cudaError_t attr =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  return LaunchClusters(kernel, a, kBt, row_tiles, smem, stream);
}

// Token tiles by m: 16 tokens (6 stages of 18 KB, two CTAs per SM), 64 (4 stages of
// 24 KB, two CTAs per SM), 128 (4 stages of 32 KB, one); only the schedule changes
// with m (see the top). Deeper pipelines (one CTA per SM, 7 to 12 stages) were no
// faster at any m (docs/performance.md, experiment 53).
template <bool kSilu>
cudaError_t LaunchRowsAs(const RowsArgs& a, unsigned row_tiles, cudaStream_t stream) {
  if (a.m <= 16) return LaunchTile<16, 6, 2, kSilu>(a, row_tiles, stream);
  if (a.m <= 64) return LaunchTile<64, 4, 2, kSilu>(a, row_tiles, stream);
  return LaunchTile<128, 4, 1, kSilu>(a, row_tiles, stream);
}

}  // namespace

cudaError_t LaunchRowsMma(const RowsArgs& a, unsigned row_tiles, bool silu, cudaStream_t stream) {
  return silu ? LaunchRowsAs<true>(a, row_tiles, stream) : LaunchRowsAs<false>(a, row_tiles, stream);
}

}  // namespace ax::kernels::cuda::rows
