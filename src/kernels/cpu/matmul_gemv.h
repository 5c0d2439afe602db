// The small-m (decode) GEMV of cpu::Matmul, as templates that matmul.cpp compiles for
// AVX2 and matmul_gemv_wide.cpp for AVX-512VL (the same 256-bit instructions with 32
// ymm registers, so larger tiles). Internal linkage (an anonymous namespace), so the
// two builds never share a definition. Both give the same bits for every row: a row's
// sum runs over the same 8-lane chunks in the same order whatever the tile shape.
//
// GEMV design (memory-bound: bytes of w per token are the whole cost):
//   - threads split the n weight rows into contiguous ranges (ParallelFor over n);
//   - a tile is R weight rows x MB rows of x, R*MB ymm accumulators; each 8-wide
//     weight chunk is loaded and converted once (bf16: zero-extend + shift, f16:
//     vcvtph2ps) and FMA'd into all MB rows of x;
//   - the R rows come from R far-apart regions of the thread's range (R DRAM streams
//     per core) and each prefetches the next row of its region;
//   - for m > MB the tile is swept once per group of x rows, so the tile's rows
//     (R*k*2 bytes, L1 resident) are fetched from DRAM exactly once for all m rows;
//   - x rows (k floats) stay in L1/L2 across the whole call.
// Include only from files compiled with at least -mavx2 -mfma -mf16c.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/cpu/simd.h"
#include "kernels/params.h"

namespace ax::kernels::cpu::detail {
namespace {

using simd::W;

// Copies the last k - k8 (< 8) elements of a weight row into an 8-wide zero-padded
// chunk, so the tail goes through the same vector code.
template <W kW>
__m256 LoadWTail(const void* row, int64_t k8, int rem) {
  if constexpr (kW == W::kF32) {
    return _mm256_maskload_ps(static_cast<const float*>(row) + k8, simd::TailMask(rem));
  } else {
    alignas(16) uint16_t buf[8] = {};
    std::memcpy(buf, static_cast<const uint16_t*>(row) + k8, rem * sizeof(uint16_t));
    return simd::LoadW8<kW>(buf, 0);
  }
}

// A tile: R weight rows (not necessarily adjacent) and the y column each one feeds.
template <int R>
struct RowSet {
  const char* w[R];  // weight row starts
  int64_t col[R];    // output column (= weight row index)
};

// y[b, col[r]] (+)= dot(x[b, :], w[r, :]) for r < R, b < MB; x: [MB, k] stride ldx.
// ahead (bytes, 0 = none): each row also prefetches the line `ahead` bytes past the one
// it reads, i.e. the same offset in the row of the next tile of its stream, so the next
// tile is in flight a whole tile early (the hardware prefetcher alone restarts on each
// tile's short row streams).
template <W kW, int R, int MB>
void GemvTile(const RowSet<R>& rs, int64_t k, const float* x, int64_t ldx, float* y,
              int64_t ldy, bool accumulate, int64_t ahead) {
  constexpr int64_t kSize = kW == W::kF32 ? 4 : 2;
  constexpr int64_t kLine = 64 / kSize;  // elements per cache line
  __m256 acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < MB; ++b) acc[r][b] = _mm256_setzero_ps();
  const int64_t k8 = k & ~int64_t{7};
  for (int64_t kk = 0; kk < k8; kk += 8) {
    if (ahead != 0 && (kk & (kLine - 1)) == 0) {
      for (int r = 0; r < R; ++r) _mm_prefetch(rs.w[r] + ahead + kk * kSize, _MM_HINT_T0);
    }
    __m256 xv[MB];
    for (int b = 0; b < MB; ++b) xv[b] = _mm256_loadu_ps(x + b * ldx + kk);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = simd::LoadW8<kW>(rs.w[r], kk);
      for (int b = 0; b < MB; ++b) acc[r][b] = _mm256_fmadd_ps(wv, xv[b], acc[r][b]);
    }
  }
  if (k8 < k) {
    const int rem = static_cast<int>(k - k8);
    const __m256i mask = simd::TailMask(rem);
    __m256 xv[MB];
    for (int b = 0; b < MB; ++b) xv[b] = _mm256_maskload_ps(x + b * ldx + k8, mask);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = LoadWTail<kW>(rs.w[r], k8, rem);
      for (int b = 0; b < MB; ++b) acc[r][b] = _mm256_fmadd_ps(wv, xv[b], acc[r][b]);
    }
  }
  for (int b = 0; b < MB; ++b) {
    for (int r = 0; r < R; ++r) {
      const float s = simd::Hsum(acc[r][b]);
      float* out = y + b * ldy + rs.col[r];
      *out = accumulate ? *out + s : s;
    }
  }
}

// Sweeps all m rows of x over one tile, in groups of x rows. Only the first group
// prefetches: later groups re-read the tile from L1 (converting it again: measured
// faster than converting the tile once into an f32 buffer, which splits the loop into
// a memory-bound phase and a compute-bound phase that no longer overlap).
//   AVX2 (16 ymm registers): groups of at most 3 x rows (R=4 x MB=3 = 12 accumulators)
//   or 4 (R=3).
//   kWide (AVX-512VL: 32 ymm registers, the same 256-bit instructions): groups of up to
//   7 x rows in one sweep, R*MB <= 24 accumulators (GemvTyped picks R from m). Each
//   chunk's conversion is then shared by more FMAs: 16*MB/(MB+1) MACs per cycle.
template <W kW, int R, bool kWide>
void GemvRows(const MatmulParams& p, const RowSet<R>& rs, int64_t ahead) {
  int64_t i = 0;
  while (i < p.m) {
    const int64_t left = p.m - i;
    const float* x = p.x + i * p.ldx;
    float* y = p.y + i * p.ldy;
    const int64_t pf = i == 0 ? ahead : 0;
    int64_t mb;
    if constexpr (kWide) {
      mb = std::min<int64_t>(left, R <= 3 ? 7 : (R <= 4 ? 6 : (R <= 6 ? 4 : 3)));
    } else {
      mb = R <= 3 && left >= 4 ? 4 : (left >= 3 && left != 4 ? 3 : std::min<int64_t>(left, 2));
    }
    switch (mb) {
      case 7: if constexpr (kWide) GemvTile<kW, R, 7>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
      case 6: if constexpr (kWide) GemvTile<kW, R, 6>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
      case 5: if constexpr (kWide) GemvTile<kW, R, 5>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
      case 4: GemvTile<kW, R, 4>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
      case 3: GemvTile<kW, R, 3>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
      case 2: GemvTile<kW, R, 2>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
      default: GemvTile<kW, R, 1>(rs, p.k, x, p.ldx, y, p.ldy, p.accumulate, pf); break;
    }
    i += mb;
  }
}

// Weight rows [begin, end) of one thread. The range is cut into R far-apart regions
// read side by side, one row of each per tile: R independent DRAM streams per core.
// One core reading one stream measured ~10 GB/s, four streams ~16 GB/s; the one-core
// m = 1 GEMV (qkv shape) went 10.3 -> 12.6 GB/s with 4 regions x 2 adjacent rows and
// -> 14.9 GB/s with 8 regions x 1 row.
template <W kW, int R, bool kWide>
void GemvRange(const MatmulParams& p, int64_t begin, int64_t end) {
  constexpr int64_t kSize = kW == W::kF32 ? 4 : 2;
  const char* w = static_cast<const char*>(p.w);
  const int64_t part = (end - begin) / R;  // rows per region
  const int64_t row_bytes = p.k * kSize;   // prefetch distance: next row, same region
  for (int64_t j = 0; j < part; ++j) {
    RowSet<R> rs;
    for (int s = 0; s < R; ++s) {
      const int64_t row = begin + s * part + j;
      rs.w[s] = w + row * row_bytes;
      rs.col[s] = row;
    }
    GemvRows<kW, R, kWide>(p, rs, row_bytes);
  }
  for (int64_t row = begin + R * part; row < end; ++row) {  // leftover rows
    RowSet<1> rs{{w + row * row_bytes}, {row}};
    GemvRows<kW, 1, kWide>(p, rs, row_bytes);
  }
}

// m == 1: 8 rows in flight (8 independent FMA chains). AVX2: m % 4 == 0: 3 rows x 4
// rows of x; otherwise 4 rows x groups of 3 (12 accumulators fit the 16 ymm registers).
// kWide: R and sweeps of up to 7 x rows with <= 24 accumulators, as measured fastest.
template <W kW, bool kWide>
void GemvTyped(const MatmulParams& p, ThreadPool& pool) {
  pool.ParallelFor(p.n, 16, [&](int64_t begin, int64_t end) {
    if (p.m == 1) {
      GemvRange<kW, 8, kWide>(p, begin, end);
    } else if (kWide) {  // measured on the demo model's shapes (docs/cpu-kernels.md)
      if (p.m <= 2 || p.m == 5 || p.m == 6) {
        GemvRange<kW, 4, kWide>(p, begin, end);
      } else if (p.m == 7) {
        GemvRange<kW, 3, kWide>(p, begin, end);
      } else {  // 3, 4 in one sweep; 8 and up in sweeps of 4
        GemvRange<kW, 6, kWide>(p, begin, end);
      }
    } else if (p.m % 4 == 0) {
      GemvRange<kW, 3, kWide>(p, begin, end);
    } else {
      GemvRange<kW, 4, kWide>(p, begin, end);
    }
  });
}

// The GEMV for one instruction set (kWide: AVX-512VL's register file).
template <bool kWide>
void GemvFor(const MatmulParams& p, ThreadPool& pool) {
  switch (p.w_dtype) {
    case DType::kF32: return GemvTyped<W::kF32, kWide>(p, pool);
    case DType::kF16: return GemvTyped<W::kF16, kWide>(p, pool);
    case DType::kBF16: return GemvTyped<W::kBF16, kWide>(p, pool);
    case DType::kI32:
    case DType::kU32:
    case DType::kAffine: break;  // kAffine: AffineGemv (matmul_affine.cpp)
  }
  AX_CHECK_MSG(false, "Matmul: weights must be f32, f16 or bf16");
}

}  // namespace
}  // namespace ax::kernels::cpu::detail
