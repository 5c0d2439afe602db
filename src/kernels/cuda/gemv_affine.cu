// Matmul and embedding rows for MLX affine-quantized weights (tensor/quant.h):
// y[m, n] (+)= x[m, k] · W[n, k]^T with W[r, j] = scale[r, j / G] * code + bias.
//
// The GEMV (decode and draft rows, m <= 4 per launch) streams the codes once. At 2 to 4
// bits its speed is set by the instructions per code, so the design keeps those few and
// the bytes in flight many:
//  - A unit is what one lane takes of one row per step: 32 codes (16 at 8 bits: one
//    16-byte vector), inside one group (G >= 32), so one scale and one bias. A span is
//    32 consecutive units of a row. A warp owns R rows (kWarpRows) and a slice of their
//    spans; per step it takes one span of each row, lane l unit l, so each copy
//    instruction of the warp reads one contiguous run of the row (512 bytes at 4 and 8
//    bits) in whole sectors, and its 32 scale (bias) reads fall in one or two sectors.
//  - The codes go through shared memory with cp.async, kStages spans deep per warp (the
//    first before the grid-dependency wait: no kernel writes weights), so the bytes in
//    flight cost no registers: 2 KB per warp at 4 bits, ~48 KB per SM at three blocks
//    of 256 threads (80 registers). Each lane reads back only what it copied. Scales
//    and biases are loaded one step ahead into registers.
//  - Per unit MLX's form, scale * sum(x * code) + bias * sum(x): a code costs one LOP3
//    (the code masked into the mantissa of 2^23), one exact FFMA that makes it an f32
//    (see Code) and one FFMA per row of x; the R rows share each x load, its unpacking
//    and sum(x).
//  - Narrow matrices split k: S warps per row set (slice q takes spans q, q + S, ...),
//    merged in a fixed order through shared memory, S from (n, k, bits) alone.
// Batch invariance: a row's sum is, per lane, the units of its slice in span order (in
// each, the dot over the unit's codes in order, then fma(scale, dot, acc) and
// fma(bias, sum(x), acc)), then a shuffle tree over the lanes, then the slices in order.
// None of it depends on m, on the other rows of x or on the rows a warp shares (R and
// the compiled M differ between launches; the order does not), so the kernel serves
// prompt rows and generated rows alike and a row's bits never change with the batch.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

// scale or bias number i, stored as f32 (0), f16 (1) or bf16 (2).
__device__ __forceinline__ float SideValue(const void* p, int kind, int64_t i) {
  if (kind == 0) return __ldg(static_cast<const float*>(p) + i);
  const uint16_t h = __ldg(static_cast<const uint16_t*>(p) + i);
  return kind == 1 ? __half2float(__ushort_as_half(h)) : detail::Bf16ToF32(h);
}

// Scale or bias i as stored (f32 bits, or f16 / bf16 bits zero-extended), and its value
// (half: f16; shift: 16 for bf16, 0 for f32).
__device__ __forceinline__ uint32_t SideBits(const void* p, bool wide, int64_t i) {
  const char* b = static_cast<const char*>(p) + (wide ? 4 * i : 2 * i);
  return wide ? __ldg(reinterpret_cast<const uint32_t*>(b)) : __ldg(reinterpret_cast<const uint16_t*>(b));
}
__device__ __forceinline__ float SideF32(uint32_t bits, bool half, int shift) {
  return half ? __half2float(__ushort_as_half(static_cast<uint16_t>(bits))) : __uint_as_float(bits << shift);
}

// Codes per unit (one lane, one row, one step) and the 32-bit words that hold them: 32
// codes, or 16 at 8 bits (one 16-byte vector). A unit never crosses a group (G >= 32).
template <int kBits>
inline constexpr int kUnitCodes = kBits == 8 ? 16 : 32;
template <int kBits>
inline constexpr int kUnitWords = kUnitCodes<kBits> * kBits / 32;

__device__ __forceinline__ uint32_t SharedAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies one unit (kUnitWords words at src) to shared dst, asynchronously. 4 and 8 bits:
// one 16-byte copy that skips L1 (each lane's 16 bytes are contiguous with its
// neighbours', so a warp's copy instruction reads whole sectors). 2, 3, 5 and 6 bits
// (8, 12, 20 and 24 bytes, 8- or 4-byte aligned): 8- or 4-byte copies through L1, whose
// sectors the warp's first copy brings in for the rest.
template <int kBits>
__device__ __forceinline__ void CopyUnit(uint32_t dst, const uint32_t* src) {
  if constexpr (kBits == 4 || kBits == 8) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src) : "memory");
  } else if constexpr (kBits == 2 || kBits == 6) {
#pragma unroll
    for (int v = 0; v < kBits / 2; ++v)
      asm volatile("cp.async.ca.shared.global [%0], [%1], 8;" ::"r"(dst + 8 * v), "l"(src + 2 * v) : "memory");
  } else {
#pragma unroll
    for (int v = 0; v < kBits; ++v)
      asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(dst + 4 * v), "l"(src + v) : "memory");
  }
}
__device__ __forceinline__ void CommitGroup() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void WaitGroup() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

// The unit at shared p (16-, 8- or 4-byte aligned as copied) into registers.
template <int kBits>
__device__ __forceinline__ void ReadUnit(const uint32_t* p, uint32_t (&w)[kUnitWords<kBits>]) {
  if constexpr (kBits == 4 || kBits == 8) {
    const uint4 q = *reinterpret_cast<const uint4*>(p);
    w[0] = q.x, w[1] = q.y, w[2] = q.z, w[3] = q.w;
  } else if constexpr (kBits == 2 || kBits == 6) {
#pragma unroll
    for (int v = 0; v < kBits / 2; ++v) {
      const uint2 q = reinterpret_cast<const uint2*>(p)[v];
      w[2 * v] = q.x, w[2 * v + 1] = q.y;
    }
  } else {
#pragma unroll
    for (int v = 0; v < kBits; ++v) w[v] = p[v];
  }
}

// (w & mask) | 0x4B000000 (the bits of 2^23) as one LOP3: written as an AND and an OR,
// the two constants do not fit one instruction and the compiler emits two.
__device__ __forceinline__ uint32_t MaskInto2p23(uint32_t w, uint32_t mask) {
  uint32_t v;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(v) : "r"(w), "r"(mask), "r"(0x4B000000u));
  return v;
}

// Code j of a unit as f32 (j a constant after unrolling). The code's bits are masked in
// place (or after a shift by 16, or a funnel shift where the code straddles two words)
// into the low 23 bits of 2^23, which then reads 2^23 + code * 2^o for the code's bit
// offset o; fma(that, 2^-o, -2^(23-o)) is the code exactly. One LOP3 and one FFMA per
// code (a word's codes share its shift).
template <int kBits>
__device__ __forceinline__ float Code(const uint32_t (&w)[kUnitWords<kBits>], int j) {
  constexpr uint32_t kMask = (1u << kBits) - 1u;
  const int bit = j * kBits, i = bit / 32, s = bit % 32;
  uint32_t v;
  int o;
  if (s + kBits > 32) {
    v = MaskInto2p23(__funnelshift_r(w[i], w[i + 1 < kUnitWords<kBits> ? i + 1 : i], s), kMask), o = 0;
  } else if (s + kBits <= 23) {
    v = MaskInto2p23(w[i], kMask << s), o = s;
  } else {
    v = MaskInto2p23(w[i] >> 16, kMask << (s - 16)), o = s - 16;
  }
  const float scale = __uint_as_float(static_cast<uint32_t>(127 - o) << 23);                // 2^-o
  const float offset = __uint_as_float(0x80000000u | (static_cast<uint32_t>(150 - o) << 23));  // -2^(23-o)
  return fmaf(__uint_as_float(v), scale, offset);
}

// 8 consecutive elements of x from x (16-byte aligned) as f32, or zeros for a compiled
// row m past the live rows (M = 4 serves m = 3; the math stays free of branches).
__device__ __forceinline__ void LoadX8(const uint16_t* x, int live, int m, float (&v)[8]) {
  const uint4 u = m < live ? __ldg(reinterpret_cast<const uint4*>(x)) : make_uint4(0, 0, 0, 0);
  const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = detail::LoHalf(w[i]);
    v[2 * i + 1] = detail::HiHalf(w[i]);
  }
}
__device__ __forceinline__ void LoadX8(const float* x, int live, int m, float (&v)[8]) {
  const float4 z = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  const float4 a = m < live ? __ldg(reinterpret_cast<const float4*>(x)) : z;
  const float4 b = m < live ? __ldg(reinterpret_cast<const float4*>(x) + 1) : z;
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}

constexpr int kMaxM = 4;  // rows of x per launch (more: several launches)

// Rows per warp: a warp's rows share each x load, its unpacking and sum(x); fewer where
// the codes (5 and 6 bits) or more rows of x take the registers (measured: no spills at
// these). The per-row arithmetic does not depend on it.
template <int kBits, int M, typename X>
inline constexpr int kWarpRows = M == 1 ? (kUnitWords<kBits> > 4 ? 2 : 4) : std::is_same_v<X, uint16_t> ? 2 : 1;
// Spans staged per warp (the one being read and kStages - 1 in flight): 2 KB of codes
// per warp in flight at 4 bits whatever the rows per warp.
template <int kRows>
inline constexpr int kStages = 1 + 4 / kRows;
// Blocks of 256 threads per SM the register budget allows: 3 (80 registers a thread),
// 2 for bf16 x at M = 4 (128: four rows of x for two rows of W would spill at 80).
template <int M, typename X>
inline constexpr int kBlocksPerSm = M == 4 && std::is_same_v<X, uint16_t> ? 2 : 3;

template <int kBits, int kRows>
constexpr size_t StageBytes() {
  return static_cast<size_t>(8) * kStages<kRows> * kRows * 32 * kUnitWords<kBits> * 4;
}

// A block of 8 warps: 8 / S row sets of R rows, each set's S warps splitting its spans
// (slice = warp % S takes spans slice, slice + S, ...). M: the compiled rows of x, of
// which p.m (<= M) are live. Shared memory: StageBytes, each warp's kStages stages of R
// rows x 32 lanes x one unit; a lane reads back only the units it copied.
template <int kBits, int M, typename X, int R = kWarpRows<kBits, M, X>, int kBlocks = kBlocksPerSm<M, X>>
__global__ void __launch_bounds__(256, kBlocks) AffineGemvKernel(AffineMatmulParamsT<X> p, int S) {
  constexpr int kC = kUnitCodes<kBits>, kW = kUnitWords<kBits>, kSt = kStages<R>;
  extern __shared__ uint4 smem4[];
  __shared__ float red[8][R][M];
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  // Live rows of x: M, but M = 4 also serves m = 3 (the launcher picks M = m otherwise).
  const int slice = warp % S, live = M <= 2 ? M : static_cast<int>(p.m);
  const bool wide = p.scale_kind == 0, side_half = p.scale_kind == 1;
  const int side_shift = p.scale_kind == 2 ? 16 : 0;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * (8 / S) + warp / S) * R;
  const int units = static_cast<int>(p.k / kC), spans = (units + 31) / 32;
  const int row_words = static_cast<int>(p.k * kBits / 32), groups = static_cast<int>(p.k / p.group);
  const int group_shift = p.group == 32 ? 5 : p.group == 64 ? 6 : 7;
  // Rows past n read row n - 1 (their sums are dropped): no per-row predicates.
  const int last = p.n - 1 - row0 < R - 1 ? static_cast<int>(p.n - 1 - row0) : R - 1;
  const uint32_t* w = static_cast<const uint32_t*>(p.w) + row0 * row_words + lane * kW;
  const int64_t side0 = row0 * groups;
  // This lane's unit of row r in stage s.
  uint32_t* stage = reinterpret_cast<uint32_t*>(smem4) + (warp * kSt * R * 32 + lane) * kW;
  auto staged = [&](int s, int r) { return stage + (s * R + r) * 32 * kW; };
  // The scale and bias bits of span t's units, loaded a step before their use (left to
  // itself the compiler sinks these loads to their use at the end of the step).
  auto sides = [&](int t, uint32_t (&sc)[R], uint32_t (&bi)[R]) {
    const int u = (slice + t * S) * 32 + lane;
    if (u < units) {
      const int g = (u * kC) >> group_shift;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const int64_t i = side0 + (r < last ? r : last) * groups + g;
        sc[r] = SideBits(p.scales, wide, i);
        bi[r] = SideBits(p.biases, wide, i);
      }
    }
  };
  // Copies span t of the slice into stage t % kSt: one commit group per call, empty past
  // the row's end, so that the group count stays uniform.
  auto issue = [&](int t) {
    const int span = slice + t * S;
    if (span * 32 + lane < units) {
#pragma unroll
      for (int r = 0; r < R; ++r)
        CopyUnit<kBits>(SharedAddr(staged(t % kSt, r)), w + (r < last ? r : last) * row_words + span * 32 * kW);
    }
    CommitGroup();
  };
  // acc += scale * dot + bias * sum(x) for the unit u (one of this lane's), its codes cw.
  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) acc[r][m] = 0.0f;
  auto unit = [&](int u, const uint32_t (&cw)[R][kW], const uint32_t (&sc)[R], const uint32_t (&bi)[R]) {
    float sx[M], dot[R][M];
#pragma unroll
    for (int m = 0; m < M; ++m) {
      sx[m] = 0.0f;
#pragma unroll
      for (int r = 0; r < R; ++r) dot[r][m] = 0.0f;
    }
    const X* xu = p.x + static_cast<int64_t>(u) * kC;
#pragma unroll
    for (int c = 0; c < kC / 8; ++c) {
      if constexpr (M <= R) {
        // x first (8 M values), each code converted once and used for every x row.
        float xv[M][8];
#pragma unroll
        for (int m = 0; m < M; ++m) {
          LoadX8(xu + m * p.k + 8 * c, live, m, xv[m]);
#pragma unroll
          for (int j = 0; j < 8; ++j) sx[m] += xv[m][j];
        }
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
          for (int j = 0; j < 8; ++j) {
            const float code = Code<kBits>(cw[r], 8 * c + j);
#pragma unroll
            for (int m = 0; m < M; ++m) dot[r][m] = fmaf(xv[m][j], code, dot[r][m]);
          }
      } else {
        // Codes first (8 R values), then one x row at a time.
        float cf[R][8];
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
          for (int j = 0; j < 8; ++j) cf[r][j] = Code<kBits>(cw[r], 8 * c + j);
#pragma unroll
        for (int m = 0; m < M; ++m) {
          float xv[8];
          LoadX8(xu + m * p.k + 8 * c, live, m, xv);
#pragma unroll
          for (int j = 0; j < 8; ++j) sx[m] += xv[j];
#pragma unroll
          for (int r = 0; r < R; ++r)
#pragma unroll
            for (int j = 0; j < 8; ++j) dot[r][m] = fmaf(xv[j], cf[r][j], dot[r][m]);
        }
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const float s = SideF32(sc[r], side_half, side_shift), b = SideF32(bi[r], side_half, side_shift);
#pragma unroll
      for (int m = 0; m < M; ++m) {
        acc[r][m] = fmaf(s, dot[r][m], acc[r][m]);
        acc[r][m] = fmaf(b, sx[m], acc[r][m]);
      }
    }
  };
#pragma unroll
  for (int t = 0; t < kSt - 1; ++t) issue(t);
  uint32_t sc[R] = {}, bi[R] = {};
  sides(0, sc, bi);
  detail::GridDependencyWait();
  detail::LaunchDependents();
  for (int t = 0; slice + t * S < spans; ++t) {
    const int u = (slice + t * S) * 32 + lane;
    WaitGroup<kSt - 2>();
    uint32_t cw[R][kW];
    if (u < units) {
#pragma unroll
      for (int r = 0; r < R; ++r) ReadUnit<kBits>(staged(t % kSt, r), cw[r]);
    }
    issue(t + kSt - 1);  // into the stage read one step ago
    uint32_t next_sc[R] = {}, next_bi[R] = {};
    sides(t + 1, next_sc, next_bi);
    if (u < units) unit(u, cw, sc, bi);  // lanes past the row's end (its last span) skip
#pragma unroll
    for (int r = 0; r < R; ++r) sc[r] = next_sc[r], bi[r] = next_bi[r];
  }
  WaitGroup<0>();  // no copy outlives the block
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) {
      if (m >= live) break;
      const float v = detail::WarpSum(acc[r][m]);
      if (lane == 0) red[warp][r][m] = v;
    }
  __syncthreads();
  if (threadIdx.x < (8 / S) * R * M) {
    const int set = static_cast<int>(threadIdx.x) / (R * M), rm = static_cast<int>(threadIdx.x) % (R * M);
    const int r = rm / M, m = rm % M;
    const int64_t row = (static_cast<int64_t>(blockIdx.x) * (8 / S) + set) * R + r;
    if (row < p.n && m < live) {
      float sum = 0.0f;
      for (int q = 0; q < S; ++q) sum += red[set * S + q][r][m];
      const int64_t idx = m * p.n + row;
      if (p.y_f32) {
        float* y = static_cast<float*>(p.y) + idx;
        *y = p.accumulate ? *y + sum : sum;
      } else {
        uint16_t* y = static_cast<uint16_t*>(p.y) + idx;
        *y = detail::F32ToBf16(p.accumulate ? detail::Bf16ToF32(*y) + sum : sum);
      }
    }
  }
}

// out[t, :] = W[ids[t], :] * scale, one block per token, T out.
template <typename T>
__global__ void __launch_bounds__(256) AffineEmbeddingKernel(AffineEmbeddingParamsT<T> p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t t = blockIdx.x, row = p.ids[t];
  const auto* codes = static_cast<const uint8_t*>(p.w) + row * (p.d * p.bits / 8);
  const int64_t groups = p.d / p.group;
  for (int64_t j = threadIdx.x; j < p.d; j += blockDim.x) {
    const int64_t bit = j * p.bits;
    uint32_t v = codes[bit / 8];
    if (bit % 8 + p.bits > 8) v |= static_cast<uint32_t>(codes[bit / 8 + 1]) << 8;
    const float code = static_cast<float>((v >> (bit % 8)) & ((1u << p.bits) - 1u));
    const int64_t g = row * groups + j / p.group;
    const float w = fmaf(code, SideValue(p.scales, p.scale_kind, g), SideValue(p.biases, p.scale_kind, g));
    p.out[t * p.d + j] = detail::FromF32<T>(w * p.scale);
  }
}

// Thread per 8 codes (bits bytes; a row holds k / 8 of them): 8 bf16 out, one 16-byte store.
__global__ void __launch_bounds__(256) AffineDequantKernel(AffineDequantParams p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= p.n * p.k / 8) return;
  const int64_t row = c / (p.k / 8), j0 = (c % (p.k / 8)) * 8;
  const auto* bytes = static_cast<const uint8_t*>(p.w) + row * (p.k * p.bits / 8) + j0 * p.bits / 8;
  uint64_t v = 0;
  for (int b = 0; b < p.bits; ++b) v |= static_cast<uint64_t>(bytes[b]) << (8 * b);
  const int64_t g = row * (p.k / p.group) + j0 / p.group;
  const float s = SideValue(p.scales, p.scale_kind, g), b = SideValue(p.biases, p.scale_kind, g);
  uint32_t out[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float lo = fmaf(static_cast<float>((v >> (2 * i * p.bits)) & ((1u << p.bits) - 1u)), s, b);
    const float hi = fmaf(static_cast<float>((v >> ((2 * i + 1) * p.bits)) & ((1u << p.bits) - 1u)), s, b);
    out[i] = static_cast<uint32_t>(detail::F32ToBf16(lo)) | (static_cast<uint32_t>(detail::F32ToBf16(hi)) << 16);
  }
  *reinterpret_cast<uint4*>(p.out + row * p.k + j0) = make_uint4(out[0], out[1], out[2], out[3]);
}

// S, the warps splitting a row's spans, follows the matrix alone (never m): the
// smallest power of two (up to 8, and up to the spans of a row, so that no slice is
// empty) that gives kTargetWarps warps, row sets of 4 rows counted whatever kWarpRows
// is: about one wave of warps on an H100 (132 SMs x 24). Narrow matrices (k/v
// projections) then still fill every SM. Measured on an H100 at 4 bits and m = 1 or 2:
// 6144 x 4096 fastest at S = 2, 4096 x 4096, 4096 x 12288 and 1024 x 4096 at S = 4,
// 24576 x 4096 at S = 1.
constexpr int64_t kTargetWarps = 3072;
int SplitFor(int64_t n, int64_t k, int bits) {
  const int64_t spans = (k / (bits == 8 ? 16 : 32) + 31) / 32;
  int s = 1;
  while (s < 8 && 2 * s <= spans && (n + 3) / 4 * s < kTargetWarps) s *= 2;
  return s;
}

template <int kBits, int M, typename X>
cudaError_t LaunchBits(const AffineMatmulParamsT<X>& p, int S, cudaStream_t stream) {
  auto* kernel = AffineGemvKernel<kBits, M, X>;
  // At most ~37 KB today (6 bits); the attribute keeps a deeper kStages legal.
  constexpr size_t smem = StageBytes<kBits, kWarpRows<kBits, M, X>>();
  static const cudaError_t attr =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  const dim3 grid(detail::Blocks(p.n, (8 / S) * kWarpRows<kBits, M, X>)), block(256);
  return detail::Launch(kernel, grid, block, smem, stream, p, S);
}

template <int M, typename X>
cudaError_t LaunchRows(const AffineMatmulParamsT<X>& p, cudaStream_t stream) {
  const int S = SplitFor(p.n, p.k, p.bits);
  switch (p.bits) {
    case 2: return LaunchBits<2, M>(p, S, stream);
    case 3: return LaunchBits<3, M>(p, S, stream);
    case 4: return LaunchBits<4, M>(p, S, stream);
    case 5: return LaunchBits<5, M>(p, S, stream);
    case 6: return LaunchBits<6, M>(p, S, stream);
    default: return LaunchBits<8, M>(p, S, stream);
  }
}

bool ValidFormat(int bits, int group, int64_t k) {
  return (bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8) &&
         (group == 32 || group == 64 || group == 128) && k % group == 0;
}

}  // namespace

Status LaunchAffineDequant(const AffineDequantParams& p, cudaStream_t stream) {
  if (!ValidFormat(p.bits, p.group, p.k))
    return InvalidArgument("LaunchAffineDequant: bits 2-8 (not 7), group 32/64/128 and k a multiple of it");
  const int64_t chunks = p.n * p.k / 8;
  if (chunks == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(AffineDequantKernel, dim3(detail::Blocks(chunks, 256)), dim3(256), 0, stream, p));
  return AX_CUDA_LAUNCH_STATUS("AffineDequantKernel");
}

template <typename X>
Status LaunchAffineMatmul(const AffineMatmulParamsT<X>& params, cudaStream_t stream) {
  if (!ValidFormat(params.bits, params.group, params.k))
    return InvalidArgument("LaunchAffineMatmul: bits 2-8 (not 7), group 32/64/128 and k a multiple of it");
  if (params.n == 0 || params.m == 0) return Status::Ok();
  AffineMatmulParamsT<X> p = params;
  const size_t y_row = static_cast<size_t>(p.n) * (p.y_f32 ? 4 : 2);
  for (int64_t r0 = 0; r0 < params.m; r0 += kMaxM) {
    p.x = params.x + r0 * params.k;
    p.y = static_cast<char*>(params.y) + r0 * y_row;
    p.m = std::min<int64_t>(kMaxM, params.m - r0);
    AX_CUDA_RETURN_IF_ERROR(p.m == 1   ? LaunchRows<1>(p, stream)
                            : p.m == 2 ? LaunchRows<2>(p, stream)
                                       : LaunchRows<4>(p, stream));
  }
  return AX_CUDA_LAUNCH_STATUS("AffineGemvKernel");
}

template <typename T>
Status LaunchAffineEmbedding(const AffineEmbeddingParamsT<T>& p, cudaStream_t stream) {
  if (!ValidFormat(p.bits, p.group, p.d))
    return InvalidArgument("LaunchAffineEmbedding: bits 2-8 (not 7), group 32/64/128 and d a multiple of it");
  if (p.n == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(AffineEmbeddingKernel<T>, dim3(static_cast<unsigned>(p.n)), dim3(256), 0,
                                         stream, p));
  return AX_CUDA_LAUNCH_STATUS("AffineEmbeddingKernel");
}

template Status LaunchAffineMatmul<bf16_bits>(const AffineMatmulParamsT<bf16_bits>&, cudaStream_t);
template Status LaunchAffineMatmul<float>(const AffineMatmulParamsT<float>&, cudaStream_t);
template Status LaunchAffineEmbedding<bf16_bits>(const AffineEmbeddingParamsT<bf16_bits>&, cudaStream_t);
template Status LaunchAffineEmbedding<float>(const AffineEmbeddingParamsT<float>&, cudaStream_t);

}  // namespace ax::kernels::cuda
