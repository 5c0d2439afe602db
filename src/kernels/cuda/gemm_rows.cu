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
//   the other rows of x, or on how rows are tiled: m only chooses the token tile (16,
//   64 or 128 tokens), how many token tiles the grid has and how deep the pipeline
//   is.
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
//
// sm_90 only (clusters); GemmRowsSupports says false elsewhere and the backend keeps
// the GEMV, which is batch-invariant too.
#include <cooperative_groups.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kTileRows = 128;  // weight rows per cluster
constexpr int kQuarters = 4;    // CTAs per cluster (k quarters)
constexpr int kChunk = 64;      // k elements per chunk
[[maybe_unused]] constexpr int kChunkVecs = kChunk / 8;  // 16-byte vectors per row and chunk

// One k16 step: d (16 weight rows x 8 tokens, f32) += a (16 x 16) · b (16 x 8).
__device__ __forceinline__ void Mma(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                    uint32_t b1) {
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
__device__ __forceinline__ uint32_t Reg(const uint4& lo, const uint4& hi, int i) {
  const uint4& v = i < 4 ? lo : hi;
  switch (i % 4) {
    case 0: return v.x;
    case 1: return v.y;
    case 2: return v.z;
    default: return v.w;
  }
}

// The four k16 steps of one chunk for one 16-row A fragment (rows g: a_lo/a_hi, rows
// g + 8: b_lo/b_hi) and one 8-token B fragment (x_lo/x_hi): step s uses registers 2s
// and 2s + 1, which hold logical k (2t, 2t + 1) and (2t + 8, 2t + 9) of the permuted k.
[[maybe_unused]] __device__ __forceinline__ void ChunkMma(float (&d)[4], const uint4& a_lo, const uint4& a_hi, const uint4& b_lo,
                                         const uint4& b_hi, const uint4& x_lo, const uint4& x_hi) {
#pragma unroll
  for (int s = 0; s < 4; ++s) {
    Mma(d, Reg(a_lo, a_hi, 2 * s), Reg(b_lo, b_hi, 2 * s), Reg(a_lo, a_hi, 2 * s + 1), Reg(b_lo, b_hi, 2 * s + 1),
        Reg(x_lo, x_hi, 2 * s), Reg(x_lo, x_hi, 2 * s + 1));
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

template <bool kSilu>
__device__ __forceinline__ Mat TileMat(const RowsArgs& a) {
  return kSilu ? Mat{a.w[0], a.y[0], 2 * a.f, blockIdx.y} : PickMat(a, blockIdx.y);
}

// The weight row of tile-local row r (0..127), clamped into the matrix (rows past n
// compute duplicates that are never stored). SiLU tiles: 64 gate rows, then the
// matching 64 up rows.
template <bool kSilu>
__device__ __forceinline__ int64_t TileRow(const RowsArgs& a, const Mat& mat, int r) {
  if constexpr (kSilu) return (r < 64 ? 0 : a.f) + mat.tile * 64 + (r % 64);
  const int64_t row = mat.tile * kTileRows + r;
  return row < mat.n ? row : mat.n - 1;
}

// Chunks [begin, end) of k quarter q: the same for every m.
[[maybe_unused]] __device__ __forceinline__ int64_t QuarterBegin(int64_t k, int q) { return q * (k / kChunk) / kQuarters; }

// Shared-memory partial sums: [kTileRows][bt + 4] f32 (padded rows), bt tokens.
__host__ __device__ constexpr int PartStride(int bt) { return bt + 4; }
constexpr size_t PartBytes(int bt) { return sizeof(float) * kTileRows * PartStride(bt); }

template <typename T>
__device__ __forceinline__ void StoreOut(void* y, int64_t idx, float v, bool y_f32, bool accumulate) {
  if (y_f32) {
    float* p = static_cast<float*>(y) + idx;
    *p = accumulate ? *p + v : v;
  } else {
    T* p = static_cast<T*>(y) + idx;
    *p = detail::F32ToBf16(accumulate ? detail::Bf16ToF32(*p) + v : v);
  }
}

// Every CTA of the cluster has written its quarter's partials of the tile (tokens
// [t0, t0 + kBt)) to `part`; CTA q adds the four quarters in rank order,
// ((p0 + p1) + p2) + p3, through distributed shared memory and stores rows 32q + [0, 32)
// of the tile (SiLU: act columns tile·64 + 16q + [0, 16)).
template <int kBt, bool kSilu>
__device__ __forceinline__ void ReduceQuartersAndStore(const RowsArgs& a, const Mat& mat, float* part, int64_t t0) {
  namespace cg = cooperative_groups;
  constexpr int kS = PartStride(kBt);
  cg::cluster_group cluster = cg::this_cluster();
  const int q = static_cast<int>(cluster.block_rank());
  cluster.sync();
  const float* parts[kQuarters];
#pragma unroll
  for (int r = 0; r < kQuarters; ++r) parts[r] = cluster.map_shared_rank(part, r);
  auto sum = [&](int row, int tok) {
    const int i = row * kS + tok;
    float s = parts[0][i] + parts[1][i];
    s = s + parts[2][i];
    return s + parts[3][i];
  };
  if constexpr (kSilu) {
    for (int e = static_cast<int>(threadIdx.x); e < 16 * kBt; e += kThreads) {
      const int i = e % 16, tok = e / 16;
      const int64_t m = t0 + tok;
      if (m < a.m) {
        const float gate = detail::RoundBf16(sum(16 * q + i, tok));
        const float up = detail::RoundBf16(sum(64 + 16 * q + i, tok));
        static_cast<uint16_t*>(a.y[0])[m * a.f + mat.tile * 64 + 16 * q + i] =
            detail::F32ToBf16(detail::SiluTimes(gate, up));
      }
    }
  } else {
    for (int e = static_cast<int>(threadIdx.x); e < 32 * kBt; e += kThreads) {
      const int i = e % 32, tok = e / 32;
      const int64_t m = t0 + tok, row = mat.tile * kTileRows + 32 * q + i;
      if (m < a.m && row < mat.n) StoreOut<uint16_t>(mat.y, m * mat.n + row, sum(32 * q + i, tok), a.y_f32, a.accumulate);
    }
  }
  cluster.sync();  // no CTA leaves while another still reads its shared memory
}

// Launches `kernel` on clusters of kQuarters CTAs: grid x = kQuarters x token tiles of
// bt tokens, y = row tiles; with programmatic stream serialization when PDL is on.
template <typename Kernel>
cudaError_t LaunchClusters(Kernel kernel, const RowsArgs& a, int bt, unsigned row_tiles, size_t smem,
                           cudaStream_t stream) {
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

constexpr int kRowBytes = kChunk * 2;  // one row's chunk: 128 bytes, 8 vectors

[[maybe_unused]] __device__ __forceinline__ uint32_t SharedAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

[[maybe_unused]] __device__ __forceinline__ void CopyAsync16(uint32_t dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src) : "memory");
}
[[maybe_unused]] __device__ __forceinline__ void CommitGroup() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void WaitGroup() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

// Byte offset of vector v of row r within a [rows][8] block.
[[maybe_unused]] __device__ __forceinline__ int Swizzled(int r, int v) { return r * kRowBytes + ((v ^ (4 * (r & 1))) * 16); }

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
  constexpr int kNT8 = kBt / 16;                             // token fragments per warp
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
  static const cudaError_t attr = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                       static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  return LaunchClusters(kernel, a, kBt, row_tiles, smem, stream);
}

// Token tiles by m: 16 tokens (6 stages of 18 KB, two CTAs per SM), 64 (4 stages of
// 24 KB, two CTAs per SM), 128 (4 stages of 32 KB, one); only the schedule changes
// with m (see the top). Deeper pipelines (one CTA per SM, 7 to 12 stages) were no
// faster at any m (docs/performance.md, experiment 53).
template <bool kSilu>
cudaError_t LaunchRows(const RowsArgs& a, unsigned row_tiles, cudaStream_t stream) {
  if (a.m <= 16) return LaunchTile<16, 6, 2, kSilu>(a, row_tiles, stream);
  if (a.m <= 64) return LaunchTile<64, 4, 2, kSilu>(a, row_tiles, stream);
  return LaunchTile<128, 4, 1, kSilu>(a, row_tiles, stream);
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
  return k > 0 && k % kChunk == 0 && detail::Aligned16(x) && detail::Aligned16(w) && DeviceHasClusters();
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
