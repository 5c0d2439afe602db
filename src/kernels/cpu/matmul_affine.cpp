// cpu::Matmul for MLX affine-quantized weights (w_dtype kAffine, tensor/quant.h).
//
// Row-invariant GEMV (generated rows): each weight row is streamed once; every 8-code
// chunk is unpacked (one to three integer ops), dequantized with one FMA,
// w = fma(code, scale, bias) (the same f32 values as DequantizeAffineRow), and FMA'd
// into the chunk's x rows. A tile is R weight rows x MB rows of x; a row's sum runs
// over the same 8-lane chunks in the same order whatever the tile, so its bits depend
// only on its x row, its weight row and k.
//
// Throughput GEMM (prompt rows): blocks of kBlockRows weight rows are dequantized into
// a thread-local f32 buffer once per call and multiplied by the f32 GEMM (gemm.cpp),
// which reuses each dequantized element across all rows of x from cache. The f32
// GEMM's per-element order depends only on k, so this is row-invariant too.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/matmul_internal.h"
#include "kernels/cpu/simd.h"
#include "tensor/quant.h"

namespace ax::kernels::cpu::detail {
namespace {

// Codes 8c .. 8c+7 of a packed row as f32: 8 codes of kBits bits fill exactly kBits
// bytes at byte offset c * kBits (never read past them: the last row's end).
template <int kBits>
inline __m256 Codes8(const uint8_t* row, int64_t c) {
  const uint8_t* p = row + c * kBits;
  const __m256i mask = _mm256_set1_epi32((1 << kBits) - 1);
  if constexpr (kBits == 8) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(v)));
  } else if constexpr (kBits == 2 || kBits == 4) {  // one word: shift each lane by 0, b, .., 7b
    uint32_t v = 0;
    std::memcpy(&v, p, kBits);
    const __m256i sh = _mm256_setr_epi32(0, kBits, 2 * kBits, 3 * kBits, 4 * kBits, 5 * kBits, 6 * kBits, 7 * kBits);
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(v)), sh), mask));
  } else {  // 3, 5, 6 bits: a 64-bit word; even codes from 64-bit lanes, odd ones shifted up
    uint64_t v = 0;
    std::memcpy(&v, p, kBits);
    const __m256i vv = _mm256_set1_epi64x(static_cast<int64_t>(v));
    const __m256i even = _mm256_srlv_epi64(vv, _mm256_setr_epi64x(0, 2 * kBits, 4 * kBits, 6 * kBits));
    const __m256i odd = _mm256_srlv_epi64(vv, _mm256_setr_epi64x(kBits, 3 * kBits, 5 * kBits, 7 * kBits));
    const __m256i codes = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    return _mm256_cvtepi32_ps(_mm256_and_si256(codes, mask));
  }
}

// scales[i] / biases[i] as f32, inline (AffineSideValue is a call per group and row).
inline float Side(const void* side, DType dt, int64_t i) {
  if (dt == DType::kBF16) return Bf16ToF32(static_cast<const uint16_t*>(side)[i]);
  if (dt == DType::kF16) return _cvtsh_ss(static_cast<const uint16_t*>(side)[i]);
  return static_cast<const float*>(side)[i];
}

// y[b, rows[r]] (+)= dot(x[b, :], W[rows[r], :]) for r < R, b < MB.
// xsum: PrepareX4's group sums of these x rows (4-bit only).
template <int kBits, int R, int MB>
void AffineTile(const MatmulParams& p, const int64_t (&rows)[R], const float* x, const float* xsum, float* y) {
  const int64_t row_bytes = AffineRowBytes(p.k, kBits);
  const int64_t groups = p.k / p.wq.group_size;
  const int64_t chunks_per_group = p.wq.group_size / 8;
  const uint8_t* w[R];
  for (int r = 0; r < R; ++r) w[r] = static_cast<const uint8_t*>(p.w) + rows[r] * row_bytes;
  __m256 acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < MB; ++b) acc[r][b] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    __m256 s[R], bias[R];
    for (int r = 0; r < R; ++r) {
      s[r] = _mm256_set1_ps(Side(p.wq.scales, p.wq.scale_dtype, rows[r] * groups + g));
      bias[r] = _mm256_set1_ps(Side(p.wq.biases, p.wq.scale_dtype, rows[r] * groups + g));
      _mm_prefetch(reinterpret_cast<const char*>(w[r] + (g + 2) * chunks_per_group * kBits), _MM_HINT_T0);
    }
    if constexpr (kBits == 4) {
      // 16 codes (8 bytes) at a time: low nibbles are the even codes, high nibbles the
      // odd ones; x comes permuted to match (PrepareX4), so no shuffles are needed.
      // The group's sum as scale · Σ x·code + bias · Σ x (MLX's form): no dequantizing
      // FMA per code; Σ x (8 lanes per group and x row) comes precomputed once per call.
      const __m256i nibble = _mm256_set1_epi32(15);
      __m256 ga[R][MB], xs[MB];
      for (int b = 0; b < MB; ++b) {
        xs[b] = _mm256_loadu_ps(xsum + (b * groups + g) * 8);
        for (int r = 0; r < R; ++r) ga[r][b] = _mm256_setzero_ps();
      }
      for (int64_t c = g * chunks_per_group; c < (g + 1) * chunks_per_group; c += 2) {
        __m256 xe[MB], xo[MB];
        for (int b = 0; b < MB; ++b) {
          xe[b] = _mm256_loadu_ps(x + b * p.ldx + c * 8);
          xo[b] = _mm256_loadu_ps(x + b * p.ldx + c * 8 + 8);
        }
        for (int r = 0; r < R; ++r) {
          int64_t bytes;
          std::memcpy(&bytes, w[r] + c * 4, 8);
          const __m256i v = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(bytes));
          const __m256 ce = _mm256_cvtepi32_ps(_mm256_and_si256(v, nibble));
          const __m256 co = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
          for (int b = 0; b < MB; ++b) ga[r][b] = _mm256_fmadd_ps(co, xo[b], _mm256_fmadd_ps(ce, xe[b], ga[r][b]));
        }
      }
      for (int r = 0; r < R; ++r)
        for (int b = 0; b < MB; ++b)
          acc[r][b] = _mm256_fmadd_ps(bias[r], xs[b], _mm256_fmadd_ps(s[r], ga[r][b], acc[r][b]));
      continue;
    }
    for (int64_t c = g * chunks_per_group; c < (g + 1) * chunks_per_group; ++c) {
      __m256 xv[MB];
      for (int b = 0; b < MB; ++b) xv[b] = _mm256_loadu_ps(x + b * p.ldx + c * 8);
      for (int r = 0; r < R; ++r) {
        const __m256 wv = _mm256_fmadd_ps(Codes8<kBits>(w[r], c), s[r], bias[r]);
        for (int b = 0; b < MB; ++b) acc[r][b] = _mm256_fmadd_ps(wv, xv[b], acc[r][b]);
      }
    }
  }
  for (int b = 0; b < MB; ++b) {
    for (int r = 0; r < R; ++r) {
      const float v = simd::Hsum(acc[r][b]);
      float* out = y + b * p.ldy + rows[r];
      *out = p.accumulate ? *out + v : v;
    }
  }
}

// All m rows of x over R weight rows, in sweeps of up to 3 (R = 4) x rows.
template <int kBits, int R>
void AffineRows(const MatmulParams& p, const int64_t (&rows)[R], const float* xsum) {
  for (int64_t i = 0; i < p.m;) {
    const int64_t mb = std::min<int64_t>(p.m - i, R == 1 ? 1 : 3);
    const float* x = p.x + i * p.ldx;
    float* y = p.y + i * p.ldy;
    const float* xs = xsum == nullptr ? nullptr : xsum + i * (p.k / p.wq.group_size) * 8;
    if (mb == 3) AffineTile<kBits, R, 3>(p, rows, x, xs, y);
    else if (mb == 2) AffineTile<kBits, R, 2>(p, rows, x, xs, y);
    else AffineTile<kBits, R, 1>(p, rows, x, xs, y);
    i += mb;
  }
}

// x rows [m, k] with every 16 elements reordered evens first, then odds: the order of
// the 4-bit GEMV's codes (low nibbles, then high nibbles of 8 bytes).
// And xsum [m, groups, 8]: each group's lane-wise sum of (evens + odds) over its
// 16-element blocks, in block order (the bias term of the 4-bit tiles).
// Thread-local buffers, reused from call to call (this runs per matmul of every step).
struct PreparedX {
  std::vector<float> x, xsum;
};
PreparedX& PrepareX4(const MatmulParams& p) {
  thread_local PreparedX prep;
  const int64_t groups = p.k / p.wq.group_size;
  prep.x.resize(static_cast<size_t>(p.m * p.k));
  prep.xsum.resize(static_cast<size_t>(p.m * groups * 8));
  for (int64_t i = 0; i < p.m; ++i) {
    const float* x = p.x + i * p.ldx;
    float* o = prep.x.data() + i * p.k;
    for (int64_t j0 = 0; j0 < p.k; j0 += 16)
      for (int t = 0; t < 8; ++t) {
        o[j0 + t] = x[j0 + 2 * t];
        o[j0 + 8 + t] = x[j0 + 2 * t + 1];
      }
    for (int64_t g = 0; g < groups; ++g) {
      __m256 s = _mm256_setzero_ps();
      for (int64_t j0 = g * p.wq.group_size; j0 < (g + 1) * p.wq.group_size; j0 += 16)
        s = _mm256_add_ps(s, _mm256_add_ps(_mm256_loadu_ps(o + j0), _mm256_loadu_ps(o + j0 + 8)));
      _mm256_storeu_ps(prep.xsum.data() + (i * groups + g) * 8, s);
    }
  }
  return prep;
}

template <int kBits>
void AffineGemvBits(const MatmulParams& params, ThreadPool& pool) {
  MatmulParams p = params;
  const float* xsum = nullptr;
  if constexpr (kBits == 4) {
    const PreparedX& prep = PrepareX4(params);
    p.x = prep.x.data();
    p.ldx = p.k;
    xsum = prep.xsum.data();
  }
  pool.ParallelFor(p.n, 16, [&](int64_t begin, int64_t end) {
    int64_t row = begin;
    if (p.m == 1 && kBits != 4) {  // 8 rows in flight (4-bit: 4, its group sums take registers)
      for (; row + 8 <= end; row += 8) {
        const int64_t rows[8] = {row, row + 1, row + 2, row + 3, row + 4, row + 5, row + 6, row + 7};
        AffineRows<kBits, 8>(p, rows, xsum);
      }
    }
    for (; row + 4 <= end; row += 4) {
      const int64_t rows[4] = {row, row + 1, row + 2, row + 3};
      AffineRows<kBits, 4>(p, rows, xsum);
    }
    for (; row < end; ++row) {
      const int64_t rows[1] = {row};
      AffineRows<kBits, 1>(p, rows, xsum);
    }
  });
}

constexpr int64_t kBlockRows = 64;

// out[j] = W[row, j] for j < k, 8 codes at a time (the values of DequantizeAffineRow).
template <int kBits>
void DequantizeRow(const MatmulParams& p, int64_t row, float* out) {
  const uint8_t* w = static_cast<const uint8_t*>(p.w) + row * AffineRowBytes(p.k, kBits);
  const int64_t groups = p.k / p.wq.group_size, per_group = p.wq.group_size / 8;
  for (int64_t g = 0; g < groups; ++g) {
    const __m256 s = _mm256_set1_ps(Side(p.wq.scales, p.wq.scale_dtype, row * groups + g));
    const __m256 b = _mm256_set1_ps(Side(p.wq.biases, p.wq.scale_dtype, row * groups + g));
    for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c)
      _mm256_storeu_ps(out + c * 8, _mm256_fmadd_ps(Codes8<kBits>(w, c), s, b));
  }
}

void DequantizeRows(const MatmulParams& p, int64_t row0, int64_t rows, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * p.k;
    switch (p.wq.bits) {
      case 2: DequantizeRow<2>(p, row0 + r, o); break;
      case 3: DequantizeRow<3>(p, row0 + r, o); break;
      case 4: DequantizeRow<4>(p, row0 + r, o); break;
      case 5: DequantizeRow<5>(p, row0 + r, o); break;
      case 6: DequantizeRow<6>(p, row0 + r, o); break;
      default: DequantizeRow<8>(p, row0 + r, o); break;
    }
  }
}

}  // namespace

void AffineGemv(const MatmulParams& p, ThreadPool& pool) {
  AX_CHECK_MSG(IsAffineBits(p.wq.bits) && IsAffineGroupSize(p.wq.group_size) && p.k % p.wq.group_size == 0,
               "Matmul: affine weights need bits 2-8 (not 7), group 32/64/128 and k a multiple of it");
  switch (p.wq.bits) {
    case 2: return AffineGemvBits<2>(p, pool);
    case 3: return AffineGemvBits<3>(p, pool);
    case 4: return AffineGemvBits<4>(p, pool);
    case 5: return AffineGemvBits<5>(p, pool);
    case 6: return AffineGemvBits<6>(p, pool);
    default: return AffineGemvBits<8>(p, pool);
  }
}

void AffineGemm(const MatmulParams& p, ThreadPool& pool) {
  AX_CHECK_MSG(IsAffineBits(p.wq.bits) && IsAffineGroupSize(p.wq.group_size) && p.k % p.wq.group_size == 0,
               "Matmul: affine weights need bits 2-8 (not 7), group 32/64/128 and k a multiple of it");
  const int64_t blocks = (p.n + kBlockRows - 1) / kBlockRows;
  pool.ParallelFor(blocks, 1, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> buf;
    buf.resize(static_cast<size_t>(kBlockRows * p.k));
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t n0 = blk * kBlockRows, nb = std::min(kBlockRows, p.n - n0);
      DequantizeRows(p, n0, nb, buf.data());
      MatmulParams f = p;
      f.w = buf.data();
      f.w_dtype = DType::kF32;
      f.wq = {};
      f.n = nb;
      f.y = p.y + n0;
      Gemm(f, pool);  // nested in a ParallelFor job: runs on this thread
    }
  });
}

}  // namespace ax::kernels::cpu::detail
