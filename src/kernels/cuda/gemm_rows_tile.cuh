// What the two row-GEMM kernels (gemm_rows_mma.cu: mma.sync, gemm_rows_wgmma.cu:
// wgmma) share: the cluster's tile (which matrix, which weight rows), the k quarters,
// the cross-quarter reduction through distributed shared memory, the launch, and the
// cp.async helpers. The reduction contract is in gemm_rows.cu. Internal: included by
// those .cu files only.
#pragma once

#include <cooperative_groups.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda::rows {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kTileRows = 128;          // weight rows per cluster
constexpr int kQuarters = 4;            // CTAs per cluster (k quarters)
constexpr int kChunk = 64;              // k elements per chunk
constexpr int kChunkVecs = kChunk / 8;  // 16-byte vectors per row and chunk
constexpr int kRowBytes = kChunk * 2;   // one row's chunk: 128 bytes

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

// The launchers of the two kernels: grid x = kQuarters x token tiles, y = row_tiles.
cudaError_t LaunchRowsMma(const RowsArgs& a, unsigned row_tiles, bool silu, cudaStream_t stream);
cudaError_t LaunchRowsWgmma(const RowsArgs& a, unsigned row_tiles, bool silu, cudaStream_t stream);

// The matrix of row tile `tile` (constant parameter indices only: a dynamic index
// would copy the parameter arrays to local memory) and the tile's index within it.
struct Mat {
  const uint16_t* w;
  void* y;
  int64_t n;
  int64_t tile;
};
__device__ __forceinline__ Mat PickMat(const RowsArgs& a, int64_t tile) {
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
__device__ __forceinline__ int64_t QuarterBegin(int64_t k, int q) { return q * (k / kChunk) / kQuarters; }

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

// ((p0 + p1) + p2) + p3 per lane of four float4s: the quarters' fixed order.
__device__ __forceinline__ float4 SumQuarters(const float4& p0, const float4& p1, const float4& p2, const float4& p3) {
  auto sum = [](float x0, float x1, float x2, float x3) {
    float s = x0 + x1;
    s = s + x2;
    return s + x3;
  };
  return make_float4(sum(p0.x, p1.x, p2.x, p3.x), sum(p0.y, p1.y, p2.y, p3.y), sum(p0.z, p1.z, p2.z, p3.z),
                     sum(p0.w, p1.w, p2.w, p3.w));
}
__device__ __forceinline__ float Lane(const float4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// Every CTA of the cluster has written its quarter's partials of the tile (tokens
// [t0, t0 + kBt)) to `part`; CTA q adds the four quarters in rank order,
// ((p0 + p1) + p2) + p3, through distributed shared memory and stores rows 32q + [0, 32)
// of the tile (SiLU: act columns tile·64 + 16q + [0, 16)). A thread takes one row and
// four tokens (16-byte remote loads; lanes over rows, so stores of a token coalesce),
// and issues the remote loads of up to four such groups before it adds any: the
// epilogue is latency-bound otherwise (distributed shared memory round trips).
template <int kBt, bool kSilu>
__device__ __forceinline__ void ReduceQuartersAndStore(const RowsArgs& a, const Mat& mat, float* part, int64_t t0) {
  namespace cg = cooperative_groups;
  constexpr int kS = PartStride(kBt);
  static_assert(kS % 4 == 0, "16-byte rows of partials");
  constexpr int kRows = kSilu ? 16 : 32;  // rows this CTA stores (SiLU: gate/up pairs)
  constexpr int kMats = kSilu ? 2 : 1;
  constexpr int kGroups = kRows * (kBt / 4);
  constexpr int kIters = (kGroups + kThreads - 1) / kThreads;
  constexpr int kBatch = kIters < 4 ? kIters : 4;
  cg::cluster_group cluster = cg::this_cluster();
  const int q = static_cast<int>(cluster.block_rank());
  const int tid = static_cast<int>(threadIdx.x);
  cluster.sync();
  const float* parts[kQuarters];
#pragma unroll
  for (int r = 0; r < kQuarters; ++r) parts[r] = cluster.map_shared_rank(part, r);
  for (int b = 0; b < kIters; b += kBatch) {
    float4 v[kBatch][kMats][kQuarters];
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      const int e = tid + kThreads * (b + u);
      if (e >= kGroups) continue;
      const int i = e % kRows, j = e / kRows;
#pragma unroll
      for (int h = 0; h < kMats; ++h) {
        const int row = kSilu ? 64 * h + 16 * q + i : 32 * q + i;
#pragma unroll
        for (int r = 0; r < kQuarters; ++r) v[u][h][r] = *reinterpret_cast<const float4*>(parts[r] + row * kS + 4 * j);
      }
    }
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      const int e = tid + kThreads * (b + u);
      if (e >= kGroups) continue;
      const int i = e % kRows, j = e / kRows;
      const float4 s0 = SumQuarters(v[u][0][0], v[u][0][1], v[u][0][2], v[u][0][3]);
      if constexpr (kSilu) {
        const float4 s1 = SumQuarters(v[u][kMats - 1][0], v[u][kMats - 1][1], v[u][kMats - 1][2], v[u][kMats - 1][3]);
#pragma unroll
        for (int l = 0; l < 4; ++l) {
          const int64_t m = t0 + 4 * j + l;
          if (m < a.m) {
            const float gate = detail::RoundBf16(Lane(s0, l)), up = detail::RoundBf16(Lane(s1, l));
            static_cast<uint16_t*>(a.y[0])[m * a.f + mat.tile * 64 + 16 * q + i] =
                detail::F32ToBf16(detail::SiluTimes(gate, up));
          }
        }
      } else {
        const int64_t row = mat.tile * kTileRows + 32 * q + i;
#pragma unroll
        for (int l = 0; l < 4; ++l) {
          const int64_t m = t0 + 4 * j + l;
          if (m < a.m && row < mat.n) StoreOut<uint16_t>(mat.y, m * mat.n + row, Lane(s0, l), a.y_f32, a.accumulate);
        }
      }
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

__device__ __forceinline__ uint32_t SharedAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void CopyAsync16(uint32_t dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void CommitGroup() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void WaitGroup() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

}  // namespace ax::kernels::cuda::rows
