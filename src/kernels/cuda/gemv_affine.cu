// Matmul and embedding rows for MLX affine-quantized weights (tensor/quant.h):
// y[m, n] (+)= x[m, k] · W[n, k]^T with W[r, j] = scale[r, j / G] * code + bias.
//
// Memory-bound like the bf16 GEMV, but a weight byte holds 8 / bits weights, so the
// activations (x) are read more often per weight byte; a warp therefore takes kRows
// output rows at once and each lane reuses its x values across them.
//
// Layout of the work: a block of 8 warps owns kRows = 4 output rows; the rows' codes
// are cut into tiles of 256 codes (8 per lane), and warp w takes tiles w, w + 8, ...
// For a tile, the warp loads the tile's 8 * bits 32-bit words of each row with
// coalesced loads (lane l: words l and l + 32), then every lane fetches the two words
// holding its 8 codes with shuffles (8 codes of <= 8 bits never span more than two
// words), unpacks them, dequantizes them with one FMA each, fma(code, scale, bias),
// and accumulates x · w for up to kMaxM rows of x. The partial sums are reduced over
// the lanes (shuffles) and then over the 8 warps (shared memory) in a fixed order.
// Every order depends only on k: a row's result is the same whatever m (batch
// invariance), and the kernel serves prompt rows and generated rows alike.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kRows = 4;     // output rows per block
constexpr int kMaxM = 4;     // rows of x per launch (more: several launches); M = 1, 2 or 4
constexpr int kTile = 256;   // codes per warp tile (8 per lane)

// scale or bias number i, stored as f32 (0), f16 (1) or bf16 (2).
__device__ __forceinline__ float SideValue(const void* p, int kind, int64_t i) {
  if (kind == 0) return __ldg(static_cast<const float*>(p) + i);
  const uint16_t h = __ldg(static_cast<const uint16_t*>(p) + i);
  return kind == 1 ? __half2float(__ushort_as_half(h)) : detail::Bf16ToF32(h);
}

// x[m, j .. j + 7] as f32 (bf16 x: one 16-byte load; f32 x: two).
__device__ __forceinline__ void LoadX8(const uint16_t* x, int64_t at, float (&v)[8]) {
  const uint4 q = __ldg(reinterpret_cast<const uint4*>(x + at));
  const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = detail::LoHalf(w[i]);
    v[2 * i + 1] = detail::HiHalf(w[i]);
  }
}
__device__ __forceinline__ void LoadX8(const float* x, int64_t at, float (&v)[8]) {
  const float4 a = __ldg(reinterpret_cast<const float4*>(x + at)), b = __ldg(reinterpret_cast<const float4*>(x + at) + 1);
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}

// The 8 codes of lane `lane` in a tile whose words the warp holds in (lo, hi): lane l
// holds words l and l + 32 of the tile.
template <int kBits>
__device__ __forceinline__ void LaneCodes(uint32_t lo, uint32_t hi, int lane, float (&c)[8]) {
  const int bit = lane * 8 * kBits;  // first bit of this lane's codes in the tile
  const int w0 = bit / 32, shift = bit % 32;
  // Word w of the tile lives in lane w % 32, in `lo` for w < 32 and `hi` above.
  const uint32_t a_lo = __shfl_sync(0xffffffffu, lo, w0 % 32), a_hi = __shfl_sync(0xffffffffu, hi, w0 % 32);
  const uint32_t b_lo = __shfl_sync(0xffffffffu, lo, (w0 + 1) % 32), b_hi = __shfl_sync(0xffffffffu, hi, (w0 + 1) % 32);
  const uint32_t a = w0 < 32 ? a_lo : a_hi, b = w0 + 1 < 32 ? b_lo : b_hi;
  const uint64_t v = ((static_cast<uint64_t>(b) << 32) | a) >> shift;
#pragma unroll
  for (int i = 0; i < 8; ++i) c[i] = static_cast<float>(static_cast<uint32_t>(v >> (i * kBits)) & ((1u << kBits) - 1u));
}

// M: rows of x the kernel is built for (p.m <= M); only the registers differ, every
// row's sum runs in the same order whatever M.
template <int kBits, int M, typename X>
__global__ void __launch_bounds__(256) AffineGemvKernel(AffineMatmulParamsT<X> p) {
  __shared__ float red[8][kRows][M];
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRows;
  const int64_t row_words = p.k * kBits / 32, groups = p.k / p.group;
  const int tile_words = 8 * kBits;  // 256 codes
  const int64_t tiles = (p.k + kTile - 1) / kTile;
  const uint32_t* w = reinterpret_cast<const uint32_t*>(p.w);
  detail::GridDependencyWait();
  detail::LaunchDependents();
  float acc[kRows][M];
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) acc[r][m] = 0.0f;
  for (int64_t t = warp; t < tiles; t += 8) {
    const int64_t j = t * kTile + lane * 8;  // this lane's first code (column)
    const bool active = j < p.k;
    float xv[M][8];
#pragma unroll
    for (int m = 0; m < M; ++m) {
      if (active && m < p.m) {
        LoadX8(p.x, m * p.k + j, xv[m]);
      } else {
#pragma unroll
        for (int i = 0; i < 8; ++i) xv[m][i] = 0.0f;
      }
    }
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int64_t row = row0 + r;
      if (row >= p.n) break;  // uniform across the warp
      const uint32_t* tw = w + row * row_words + t * tile_words;
      const int64_t left = row_words - t * tile_words;  // words of this row from the tile on
      const uint32_t lo = lane < left && lane < tile_words ? __ldg(tw + lane) : 0u;
      const uint32_t hi = lane + 32 < left && lane + 32 < tile_words ? __ldg(tw + lane + 32) : 0u;
      float c[8];
      LaneCodes<kBits>(lo, hi, lane, c);
      if (!active) continue;
      const int64_t g = row * groups + j / p.group;
      const float s = SideValue(p.scales, p.scale_kind, g), b = SideValue(p.biases, p.scale_kind, g);
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const float wv = fmaf(c[i], s, b);
#pragma unroll
        for (int m = 0; m < M; ++m) acc[r][m] = fmaf(wv, xv[m][i], acc[r][m]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const float v = detail::WarpSum(acc[r][m]);
      if (lane == 0) red[warp][r][m] = v;
    }
  __syncthreads();
  if (threadIdx.x < kRows * M) {
    const int r = static_cast<int>(threadIdx.x) / M, m = static_cast<int>(threadIdx.x) % M;
    const int64_t row = row0 + r;
    if (row < p.n && m < p.m) {
      float s = 0.0f;
#pragma unroll
      for (int q = 0; q < 8; ++q) s += red[q][r][m];
      const int64_t idx = m * p.n + row;
      if (p.y_f32) {
        float* y = static_cast<float*>(p.y) + idx;
        *y = p.accumulate ? *y + s : s;
      } else {
        uint16_t* y = static_cast<uint16_t*>(p.y) + idx;
        *y = detail::F32ToBf16(p.accumulate ? detail::Bf16ToF32(*y) + s : s);
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

template <int M, typename X>
cudaError_t LaunchBits(const AffineMatmulParamsT<X>& p, cudaStream_t stream) {
  const dim3 grid(detail::Blocks(p.n, kRows)), block(256);
  switch (p.bits) {
    case 2: return detail::Launch(AffineGemvKernel<2, M, X>, grid, block, 0, stream, p);
    case 3: return detail::Launch(AffineGemvKernel<3, M, X>, grid, block, 0, stream, p);
    case 4: return detail::Launch(AffineGemvKernel<4, M, X>, grid, block, 0, stream, p);
    case 5: return detail::Launch(AffineGemvKernel<5, M, X>, grid, block, 0, stream, p);
    case 6: return detail::Launch(AffineGemvKernel<6, M, X>, grid, block, 0, stream, p);
    default: return detail::Launch(AffineGemvKernel<8, M, X>, grid, block, 0, stream, p);
  }
}

bool ValidFormat(int bits, int group, int64_t k) {
  return (bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8) &&
         (group == 32 || group == 64 || group == 128) && k % group == 0;
}

}  // namespace

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
    AX_CUDA_RETURN_IF_ERROR(p.m == 1 ? LaunchBits<1>(p, stream) : p.m == 2 ? LaunchBits<2>(p, stream)
                                                                            : LaunchBits<4>(p, stream));
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
