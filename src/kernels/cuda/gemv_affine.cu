// Matmul and embedding rows for MLX affine-quantized weights (tensor/quant.h):
// y[m, n] (+)= x[m, k] · W[n, k]^T with W[r, j] = scale[r, j / G] * code + bias.
//
// Memory-bound like the bf16 GEMV: the codes are streamed once with wide loads and
// many bytes in flight per lane. The work unit is 32 codes of one row: `bits` 32-bit
// words (a 16-byte vector at 4 bits), always inside one group (G >= 32), so one scale
// and bias per unit. A warp owns kRows = 2 output rows and a k slice (S warps split k
// for narrow matrices); lane l takes units l, l + 32·S, ... of its slice, kU units of
// both rows loaded together (the first batch before the grid wait). Each code is
// unpacked with a funnel shift and a mask, converted by the 2^23 magic-number trick,
// dequantized with one FMA, fma(code, scale, bias) (the CPU's f32 value), and FMA'd
// into up to M rows of x (x loaded once per unit, reused by both rows). Lanes reduce
// with shuffles, slices in a fixed order through shared memory. The split S and every
// order depend on the matrix (n, k) alone, so a row's bits do not depend on m (batch
// invariance) and the kernel serves prompt rows and generated rows alike.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kRows = 2;  // output rows per warp
constexpr int kMaxM = 4;  // rows of x per launch (more: several launches); M = 1, 2 or 4

// scale or bias number i, stored as f32 (0), f16 (1) or bf16 (2).
__device__ __forceinline__ float SideValue(const void* p, int kind, int64_t i) {
  if (kind == 0) return __ldg(static_cast<const float*>(p) + i);
  const uint16_t h = __ldg(static_cast<const uint16_t*>(p) + i);
  return kind == 1 ? __half2float(__ushort_as_half(h)) : detail::Bf16ToF32(h);
}

// The kBits words of one unit (32 codes) at p, with the widest aligned loads.
template <int kBits>
__device__ __forceinline__ void LoadUnit(const uint32_t* p, uint32_t (&w)[kBits]) {
  if constexpr (kBits == 4 || kBits == 8) {
#pragma unroll
    for (int v = 0; v < kBits / 4; ++v) {
      const uint4 q = detail::LoadStreaming(reinterpret_cast<const uint4*>(p) + v);
      w[4 * v] = q.x, w[4 * v + 1] = q.y, w[4 * v + 2] = q.z, w[4 * v + 3] = q.w;
    }
  } else if constexpr (kBits == 2 || kBits == 6) {
#pragma unroll
    for (int v = 0; v < kBits / 2; ++v) {
      const uint2 q = __ldg(reinterpret_cast<const uint2*>(p) + v);
      w[2 * v] = q.x, w[2 * v + 1] = q.y;
    }
  } else {
#pragma unroll
    for (int v = 0; v < kBits; ++v) w[v] = __ldg(p + v);
  }
}

// Code j (0..31) of a unit as f32: bits [j·kBits, (j+1)·kBits) of the words, through
// the 2^23 magic number (the code in the low mantissa bits of 8388608.0f).
template <int kBits>
__device__ __forceinline__ float Code(const uint32_t (&w)[kBits], int j) {
  const int bit = j * kBits, i = bit / 32, s = bit % 32;
  const uint32_t hi = i + 1 < kBits ? w[i + 1] : 0u;
  const uint32_t c = __funnelshift_r(w[i], hi, s) & ((1u << kBits) - 1u);
  return __uint_as_float(c | 0x4B000000u) - 8388608.0f;
}

// 32 elements of x row m from element j0: bf16 (four 16-byte loads) or f32, as f32.
__device__ __forceinline__ void LoadX32(const uint16_t* x, int64_t at, float (&v)[32]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    const uint4 u = __ldg(reinterpret_cast<const uint4*>(x + at) + q);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      v[8 * q + 2 * i] = detail::LoHalf(w[i]);
      v[8 * q + 2 * i + 1] = detail::HiHalf(w[i]);
    }
  }
}
__device__ __forceinline__ void LoadX32(const float* x, int64_t at, float (&v)[32]) {
#pragma unroll
  for (int q = 0; q < 8; ++q) {
    const float4 u = __ldg(reinterpret_cast<const float4*>(x + at) + q);
    v[4 * q] = u.x, v[4 * q + 1] = u.y, v[4 * q + 2] = u.z, v[4 * q + 3] = u.w;
  }
}

// Units loaded together per row (registers: kU * kRows * kBits words).
template <int kBits>
inline constexpr int kUnitsInFlight = kBits <= 3 ? 4 : kBits == 4 ? 3 : 2;

// A block of 8 warps: 8 / S warp groups of kRows rows, each group's S warps splitting
// the units of its rows (slice = warp % S; S = 1, 2 or 4, a launch parameter).
template <int kBits, int M, typename X>
__global__ void __launch_bounds__(256, M == 1 ? 2 : 1) AffineGemvKernel(AffineMatmulParamsT<X> p, int S) {
  constexpr int kU = kUnitsInFlight<kBits>;
  __shared__ float red[8][kRows][M];
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int slice = warp % S;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * (8 / S) + warp / S) * kRows;
  const int64_t units = p.k / 32, groups = p.k / p.group;
  const uint32_t* w = static_cast<const uint32_t*>(p.w);
  bool row_ok[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) row_ok[r] = row0 + r < p.n;
  // kChains partial sums per (row, x row), code j into chain j % kChains: a single
  // accumulator would serialise 32 dependent FMAs per unit (measured: 4-bit decode at a
  // quarter of the copy bandwidth). They are added in a fixed order at the end.
  constexpr int kChains = 4;
  float acc[kRows][M][kChains];
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m)
#pragma unroll
      for (int c = 0; c < kChains; ++c) acc[r][m][c] = 0.0f;
  const int64_t kStride = 32 * S;
  // Two register buffers (named, never indexed at run time, so they stay in registers):
  // the next batch's loads are issued before this batch's math.
  uint32_t wa[kRows][kU][kBits], wb[kRows][kU][kBits];
  auto load = [&](int64_t u0, uint32_t (&dst)[kRows][kU][kBits]) {
#pragma unroll
    for (int r = 0; r < kRows; ++r)
#pragma unroll
      for (int uu = 0; uu < kU; ++uu) {
        const int64_t u = u0 + uu * kStride;
        if (row_ok[r] && u < units) {
          LoadUnit<kBits>(w + ((row0 + r) * units + u) * kBits, dst[r][uu]);
        } else {
#pragma unroll
          for (int i = 0; i < kBits; ++i) dst[r][uu][i] = 0u;
        }
      }
  };
  // One batch: kU units of both rows from u0, in unit order.
  auto compute = [&](int64_t u0, const uint32_t (&src)[kRows][kU][kBits]) {
#pragma unroll
    for (int uu = 0; uu < kU; ++uu) {
      const int64_t u = u0 + uu * kStride;
      if (u >= units) break;
      float xv[M][32];
#pragma unroll
      for (int m = 0; m < M; ++m) {
        if (m < p.m) {
          LoadX32(p.x, m * p.k + u * 32, xv[m]);
        } else {
#pragma unroll
          for (int j = 0; j < 32; ++j) xv[m][j] = 0.0f;
        }
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        if (!row_ok[r]) continue;
        const int64_t g = (row0 + r) * groups + u * 32 / p.group;
        const float s = SideValue(p.scales, p.scale_kind, g), b = SideValue(p.biases, p.scale_kind, g);
#pragma unroll
        for (int j = 0; j < 32; ++j) {
          const float wj = fmaf(Code<kBits>(src[r][uu], j), s, b);
#pragma unroll
          for (int m = 0; m < M; ++m) acc[r][m][j % kChains] = fmaf(wj, xv[m][j], acc[r][m][j % kChains]);
        }
      }
    }
  };
  const int64_t kStep = kStride * kU;
  const int64_t first = slice * 32 + lane;
  load(first, wa);
  detail::GridDependencyWait();
  detail::LaunchDependents();
  for (int64_t u0 = first; u0 < units; u0 += 2 * kStep) {
    if (u0 + kStep < units) load(u0 + kStep, wb);
    compute(u0, wa);
    if (u0 + kStep >= units) break;
    if (u0 + 2 * kStep < units) load(u0 + 2 * kStep, wa);
    compute(u0 + kStep, wb);
  }
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const float v = detail::WarpSum((acc[r][m][0] + acc[r][m][1]) + (acc[r][m][2] + acc[r][m][3]));
      if (lane == 0) red[warp][r][m] = v;
    }
  __syncthreads();
  if (threadIdx.x < (8 / S) * kRows * M) {
    const int grp = static_cast<int>(threadIdx.x) / (kRows * M), rm = static_cast<int>(threadIdx.x) % (kRows * M);
    const int r = rm / M, m = rm % M;
    const int64_t row = (static_cast<int64_t>(blockIdx.x) * (8 / S) + grp) * kRows + r;
    if (row < p.n && m < p.m) {
      float sum = 0.0f;
      for (int q = 0; q < S; ++q) sum += red[grp * S + q][r][m];
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

// S, the warps splitting k per row pair, follows the matrix alone (never m): narrow
// matrices (k/v projections) would leave SMs idle with one warp per row pair.
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

template <int M, typename X>
cudaError_t LaunchSplit(const AffineMatmulParamsT<X>& p, cudaStream_t stream) {
  const int S = p.n <= 2048 ? 4 : p.n <= 8192 ? 2 : 1;
  const dim3 grid(detail::Blocks(p.n, (8 / S) * kRows)), block(256);
  switch (p.bits) {
    case 2: return detail::Launch(AffineGemvKernel<2, M, X>, grid, block, 0, stream, p, S);
    case 3: return detail::Launch(AffineGemvKernel<3, M, X>, grid, block, 0, stream, p, S);
    case 4: return detail::Launch(AffineGemvKernel<4, M, X>, grid, block, 0, stream, p, S);
    case 5: return detail::Launch(AffineGemvKernel<5, M, X>, grid, block, 0, stream, p, S);
    case 6: return detail::Launch(AffineGemvKernel<6, M, X>, grid, block, 0, stream, p, S);
    default: return detail::Launch(AffineGemvKernel<8, M, X>, grid, block, 0, stream, p, S);
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
    AX_CUDA_RETURN_IF_ERROR(p.m == 1 ? LaunchSplit<1>(p, stream) : p.m == 2 ? LaunchSplit<2>(p, stream)
                                                                             : LaunchSplit<4>(p, stream));
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
