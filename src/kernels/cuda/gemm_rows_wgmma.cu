// The row GEMM on Hopper's warpgroup MMA (the contract is in gemm_rows.cu): both
// operands stay in shared memory and the tensor cores read them there, so no warp
// loads fragments (the mma.sync kernel's bound at m >= 64, experiment 53).
//
// The schedule is the mma.sync kernel's: a cluster of 4 CTAs owns 128 weight rows and
// one tile of BT tokens, CTA q computes k quarter q, chunks of 64 k are staged with
// cp.async (the first stages' weights issued before the grid-dependency wait), and the
// quarters are added through distributed shared memory. Per CTA two warpgroups; warpgroup
// h multiplies weight rows 64h + [0, 64) (the A operand, m64) by all BT tokens (the B
// operand, n = BT), four wgmma k16 steps per chunk in k order, accumulators in
// registers for the whole quarter.
//
// Shared memory: a stage is [128 weight rows][128 bytes] then [BT tokens][128 bytes],
// each row one chunk (64 bf16, K-major), in the 128-byte swizzle wgmma reads: vector v
// (16 bytes) of row r at r·128 + 16·(v ^ (r % 8)), stages 1024-byte aligned. A k16
// step s starts 32·s bytes into the rows. Pipeline: chunk c + S - 2 is loaded while
// chunk c is multiplied and chunk c - 1's wgmma may still run (one group in flight),
// so S - 2 chunks are in flight from memory.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <utility>

#include "kernels/cuda/gemm_rows_tile.cuh"
#include "kernels/cuda/wgmma.cuh"

namespace ax::kernels::cuda::rows {
namespace {

constexpr int kAlign = 1024;  // the largest swizzle atom: 8 rows of 128 bytes

// A stage holds kK elements of k per row (64: rows of 128 bytes in the 128-byte
// swizzle; 32: rows of 64 bytes in the 64-byte swizzle, so that two CTAs with deep
// pipelines fit an SM). Either way the k16 steps run in the same order.
// Byte offset of 16-byte vector v of row r: the swizzle XORs v with the row's bits
// above the row's own (r % 8 for 128-byte rows, (r / 2) % 4 for 64-byte rows).
template <int kK>
[[maybe_unused]] __device__ __forceinline__ int Swizzled(int r, int v) {
  if constexpr (kK == 64) return r * 128 + ((v ^ (r & 7)) * 16);
  return r * 64 + ((v ^ ((r >> 1) & 3)) * 16);
}

// Shared-memory matrix descriptor of a K-major operand whose first row starts at
// `addr`: 8-row core groups 8 rows apart (stride byte offset), the swizzle mode (1:
// 128-byte, 2: 64-byte); the leading byte offset is unused in these modes.
template <int kK>
[[maybe_unused]] __device__ __forceinline__ uint64_t Desc(uint32_t addr) {
  uint64_t d = (addr & 0x3FFFF) >> 4;
  d |= uint64_t{1} << 16;
  d |= uint64_t{(8 * 2 * kK) >> 4} << 32;
  d |= uint64_t{kK == 64 ? 1u : 2u} << 62;
  return d;
}

template <int N>
[[maybe_unused]] __device__ __forceinline__ void FenceAcc(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

template <int kBt, int kStages, int kK>
constexpr size_t SmemBytes() {
  const size_t pipeline = static_cast<size_t>(kStages) * (kTileRows + kBt) * 2 * kK;
  return (pipeline > PartBytes(kBt) ? pipeline : PartBytes(kBt)) + kAlign;
}

template <int kBt, int kStages, int kPerSm, int kK, bool kSilu>
__global__ void __launch_bounds__(kThreads, kPerSm) GemmRowsWgmmaKernel(const RowsArgs a) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  static_assert(kStages >= 3, "one chunk computing, one in the tensor cores, one loading");
  extern __shared__ float4 smem4[];
  const uint32_t raw = SharedAddr(smem4);
  const uint32_t pad = (kAlign - raw % kAlign) % kAlign;
  char* smem = reinterpret_cast<char*>(smem4) + pad;
  const uint32_t base = raw + pad;
  static_assert(kK == 64 || kK == 32, "stage k: one 128- or 64-byte swizzled row");
  constexpr int kRowB = 2 * kK, kVecs = kK / 8;
  constexpr int kStageBytes = (kTileRows + kBt) * kRowB;
  constexpr int kWVecs = kTileRows * kVecs / kThreads;  // weight vectors per thread and stage: 2 or 4
  constexpr int kXTotal = kBt * kVecs;
  constexpr int kXVecs = (kXTotal + kThreads - 1) / kThreads;  // token vectors per thread and stage: 1 to 8
  constexpr int kAhead = kStages - 2;                          // stages loading while one computes
  const int q = static_cast<int>(cooperative_groups::this_cluster().block_rank());
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, t = lane % 4, h = warp / 4;
  const int64_t t0 = static_cast<int64_t>(blockIdx.x / kQuarters) * kBt;
  const Mat mat = TileMat<kSilu>(a);
  // The quarter's chunks of 64, as stages of kK.
  // The quarter's chunks of 64, as stages of kK (32-bit counters: a 64-bit modulo by
  // the stage count costs more than the loop's other instructions).
  const int64_t cb = QuarterBegin(a.k, q);
  const int chunks = static_cast<int>((QuarterBegin(a.k, q + 1) - cb) * (kChunk / kK));

  const uint16_t* wsrc[kWVecs];
  int wdst[kWVecs];
#pragma unroll
  for (int i = 0; i < kWVecs; ++i) {
    const int idx = tid + kThreads * i, r = idx / kVecs, v = idx % kVecs;
    wsrc[i] = mat.w + TileRow<kSilu>(a, mat, r) * a.k + cb * kChunk + 8 * v;
    wdst[i] = Swizzled<kK>(r, v);
  }
  const uint16_t* xsrc[kXVecs];
  int xdst[kXVecs];
#pragma unroll
  for (int i = 0; i < kXVecs; ++i) {
    const int idx = (tid + kThreads * i) % kXTotal, r = idx / kVecs, v = idx % kVecs;
    const int64_t tok = t0 + r < a.m ? t0 + r : a.m - 1;
    xsrc[i] = a.x + tok * a.k + cb * kChunk + 8 * v;
    xdst[i] = kTileRows * kRowB + Swizzled<kK>(r, v);
  }
  auto load_w = [&](int c, int stage) {  // chunk c into stage `stage`
    const uint32_t st = base + static_cast<uint32_t>(stage * kStageBytes);
#pragma unroll
    for (int i = 0; i < kWVecs; ++i) CopyAsync16(st + wdst[i], wsrc[i] + c * kK);
  };
  auto load_x = [&](int c, int stage) {
    const uint32_t st = base + static_cast<uint32_t>(stage * kStageBytes);
#pragma unroll
    for (int i = 0; i < kXVecs; ++i)
      if (kXTotal % kThreads == 0 || tid + kThreads * i < kXTotal) CopyAsync16(st + xdst[i], xsrc[i] + c * kK);
  };

#pragma unroll
  for (int c = 0; c < kAhead; ++c)
    if (c < chunks) load_w(c, c);
  detail::GridDependencyWait();
  detail::LaunchDependents();
#pragma unroll
  for (int c = 0; c < kAhead; ++c) {
    if (c < chunks) load_x(c, c);
    CommitGroup();
  }

  float acc[kBt / 2];
#pragma unroll
  for (int i = 0; i < kBt / 2; ++i) acc[i] = 0.0f;
  int stage = 0, next_stage = kAhead;  // of chunk c and of chunk c + kAhead
  for (int c = 0; c < chunks; ++c) {
    WaitGroup<kAhead - 1>();                                      // chunk c has landed (this thread's copies) ...
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // ... visible to the tensor cores ...
    __syncthreads();  // ... for every thread; chunk c - 2's wgmma is done everywhere (waited below)
    if (c + kAhead < chunks) {
      load_w(c + kAhead, next_stage);
      load_x(c + kAhead, next_stage);
    }
    CommitGroup();
    const uint32_t st = base + static_cast<uint32_t>(stage * kStageBytes);
    stage = stage + 1 == kStages ? 0 : stage + 1;
    next_stage = next_stage + 1 == kStages ? 0 : next_stage + 1;
    const uint64_t da = Desc<kK>(st + h * 64 * kRowB), db = Desc<kK>(st + kTileRows * kRowB);
    FenceAcc(acc);
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
    for (int s = 0; s < kK / 16; ++s) detail::Wgmma<kBt>::Run(acc, da + 2 * s, db + 2 * s);  // +32 bytes per k16
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
    FenceAcc(acc);
  }
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  FenceAcc(acc);
  WaitGroup<0>();
  __syncthreads();  // every warpgroup is done with the stages: the partials reuse them

  float* part = reinterpret_cast<float*>(smem);
  constexpr int kS = PartStride(kBt);
  const int row = 64 * h + 16 * (warp % 4) + g;
#pragma unroll
  for (int j = 0; j < kBt / 8; ++j) {
    float* p = part + row * kS + 8 * j + 2 * t;
    *reinterpret_cast<float2*>(p) = make_float2(acc[4 * j], acc[4 * j + 1]);
    *reinterpret_cast<float2*>(p + 8 * kS) = make_float2(acc[4 * j + 2], acc[4 * j + 3]);
  }
  ReduceQuartersAndStore<kBt, kSilu>(a, mat, part, t0);
#endif
}

template <int kBt, int kStages, int kPerSm, int kK, bool kSilu>
cudaError_t LaunchTile(const RowsArgs& a, unsigned row_tiles, cudaStream_t stream) {
  auto* kernel = GemmRowsWgmmaKernel<kBt, kStages, kPerSm, kK, kSilu>;
  constexpr size_t smem = SmemBytes<kBt, kStages, kK>();
  // Hopper: 227 KB of shared memory per block, 228 KB per SM (1 KB reserved per block).
  static_assert(smem * kPerSm + 1024 * kPerSm <= 228 * 1024, "shared memory per SM");
  static const cudaError_t attr =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  return LaunchClusters(kernel, a, kBt, row_tiles, smem, stream);
}

// A schedule: the token tile, the pipeline depth and CTAs per SM. The menu below is
// every instantiation; which one serves each range of m is a table (only the schedule
// changes with m, never the bits).
struct Schedule {
  int bt, stages, per_sm, k;
};
using Launcher = cudaError_t (*)(const RowsArgs&, unsigned, cudaStream_t);
template <int kBt, int kStages, int kPerSm, int kK>
constexpr std::pair<Schedule, std::pair<Launcher, Launcher>> Entry() {
  return {Schedule{kBt, kStages, kPerSm, kK},
          {LaunchTile<kBt, kStages, kPerSm, kK, false>, LaunchTile<kBt, kStages, kPerSm, kK, true>}};
}
constexpr std::pair<Schedule, std::pair<Launcher, Launcher>> kMenu[] = {
    Entry<16, 6, 2, 64>(),  Entry<16, 8, 1, 64>(),  Entry<32, 5, 2, 64>(),  Entry<32, 8, 2, 32>(),
    Entry<64, 4, 2, 64>(),  Entry<64, 8, 1, 64>(),  Entry<64, 8, 2, 32>(),  Entry<128, 6, 1, 64>(),
    Entry<128, 7, 1, 64>(), Entry<128, 6, 2, 32>(), Entry<256, 4, 1, 64>(), Entry<256, 8, 1, 32>(),
};

// m ranges (0, 16], (16, 32], (32, 64], (64, 128], (128, ...): the schedule of each,
// as "bt/stages/per_sm/k" separated by commas in AX_CUDA_GEMM_ROWS_SCHEDULE (for
// experiments; read once), else the default. A range's token tile may be smaller than
// its m (several token tiles).
constexpr int kRanges = 5;
constexpr const char* kDefaultSchedule = "16/6/2/64,32/5/2/64,64/4/2/64,128/6/1/64,256/4/1/64";

const std::array<int, kRanges>& ScheduleTable() {
  static const std::array<int, kRanges> table = [] {
    auto parse = [](const char* text, std::array<int, kRanges>* out) {
      for (int r = 0; r < kRanges; ++r) {
        Schedule s{};
        int used = 0;
        if (std::sscanf(text, "%d/%d/%d/%d%n", &s.bt, &s.stages, &s.per_sm, &s.k, &used) != 4) return false;
        text += used;
        (*out)[r] = -1;
        for (int i = 0; i < static_cast<int>(std::size(kMenu)); ++i) {
          const Schedule& e = kMenu[i].first;
          if (e.bt == s.bt && e.stages == s.stages && e.per_sm == s.per_sm && e.k == s.k) (*out)[r] = i;
        }
        if ((*out)[r] < 0) return false;
        if (r + 1 < kRanges && *text++ != ',') return false;
      }
      return *text == '\0';
    };
    std::array<int, kRanges> t{};
    const char* env = std::getenv("AX_CUDA_GEMM_ROWS_SCHEDULE");
    if (env != nullptr && !parse(env, &t)) {
      std::fprintf(stderr,
                   "AX_CUDA_GEMM_ROWS_SCHEDULE=%s: expected %d of bt/stages/per_sm/k from the menu; default used\n",
                   env, kRanges);
    }
    if (env == nullptr || !parse(env, &t)) parse(kDefaultSchedule, &t);
    return t;
  }();
  return table;
}

int RangeOf(int64_t m) { return m <= 16 ? 0 : m <= 32 ? 1 : m <= 64 ? 2 : m <= 128 ? 3 : 4; }

}  // namespace

cudaError_t LaunchRowsWgmma(const RowsArgs& a, unsigned row_tiles, bool silu, cudaStream_t stream) {
  const auto& launchers = kMenu[ScheduleTable()[RangeOf(a.m)]].second;
  return (silu ? launchers.second : launchers.first)(a, row_tiles, stream);
}

}  // namespace ax::kernels::cuda::rows
