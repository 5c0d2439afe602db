// Large-m matmul (prefill): y[m, n] (+)= x[m, k] · w[n, k]^T, compute-bound.
//
// BLIS-style blocking, per thread (threads own disjoint ranges of 16-column panels of y,
// or of 6-row panels when n is too narrow to split):
//
//   for m0 in [0, m) step kMc                 x block [mb, kc] packed once per (m0, k0)
//     for k0 in [0, k) step kc (<= kKc)         into Ap: [mb/6][kc][6] f32   (~L2)
//       PackA(x[m0:, k0:k0+kc]) -> Ap
//       for each 16-column panel n0 of this thread:
//         PackB(w[n0:n0+16, k0:k0+kc]) -> Bp: [kc][16] f32, converted from bf16/f16
//                                              once, transposed (16 KiB, stays in L1)
//         for each 6-row panel i0 of the block:
//           6x16 microkernel: 12 ymm accumulators, per k step 2 B loads, 6 broadcasts
//           of A, 12 FMAs; y tile loaded (k0 > 0 or accumulate) and stored once per kc.
//
// Each weight element is read from memory and converted once per kMc rows of x
// (once in total for m <= kMc), then reused from L1 by ceil(mb/6) microkernel calls.
// Odd shapes: A panels are zero-padded to 6 rows, B panels to 16 columns; partial y
// tiles go through a small buffer so nothing outside [m, n] is written.
#include <immintrin.h>

#include <algorithm>
#include <cstdlib>

#include "base/check.h"
#include "base/env.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/matmul_internal.h"
#include "kernels/cpu/simd.h"

namespace ax::kernels::cpu::detail {
namespace {

using simd::W;

constexpr int kMr = kGemmMr;     // rows of x per microkernel
constexpr int kNr = kGemmNr;     // columns of y (weight rows) per microkernel: 2 ymm
constexpr int64_t kKc = 256;     // k block: B panel = kKc*16*4 = 16 KiB (L1)
constexpr int64_t kMc = 86 * 6;  // m block: A block = kMc*kKc*4 = 516 KiB (L2)

// Zero source used for padding rows (all three dtypes encode 0.0 as zero bytes).
alignas(64) const float kZeros[kKc] = {};

// Per-thread packing buffers, grown on demand, 64-byte aligned.
struct Scratch {
  float* a = nullptr;
  float* b = nullptr;
  Scratch() {
    // + kNr floats of slack: PackA's 8-wide stores run 2 floats past a 6-row panel.
    a = static_cast<float*>(std::aligned_alloc(64, ((kMc * kKc + kNr) * 4 + 63) / 64 * 64));
    b = static_cast<float*>(std::aligned_alloc(64, kKc * kNr * 4));
    AX_CHECK(a != nullptr && b != nullptr);
  }
  ~Scratch() {
    std::free(a);
    std::free(b);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

Scratch& ThreadScratch() {
  static thread_local Scratch s;
  return s;
}

// Ap[p][kk][r] = x[p*6 + r][kk] for rows < mb, 0 for the padding rows of the last panel.
void PackA(const float* x, int64_t ldx, int64_t mb, int64_t kc, float* ap) {
  const int64_t k8 = kc & ~int64_t{7};
  for (int64_t i0 = 0; i0 < mb; i0 += kMr, ap += kMr * kc) {
    const float* rows[8];
    for (int r = 0; r < 8; ++r) rows[r] = (r < kMr && i0 + r < mb) ? x + (i0 + r) * ldx : kZeros;
    for (int64_t kk = 0; kk < k8; kk += 8) {
      __m256 v[8];
      for (int r = 0; r < 8; ++r) v[r] = _mm256_loadu_ps(rows[r] + (rows[r] == kZeros ? 0 : kk));
      simd::Transpose8x8(v);
      // v[c] = rows 0..7 at k = kk + c; lanes 6, 7 are overwritten by the next store.
      for (int c = 0; c < 8; ++c) _mm256_storeu_ps(ap + (kk + c) * kMr, v[c]);
    }
    for (int64_t kk = k8; kk < kc; ++kk) {
      for (int r = 0; r < kMr; ++r) ap[kk * kMr + r] = rows[r] == kZeros ? 0.0f : rows[r][kk];
    }
  }
}

template <W kW>
float ScalarW(const void* row, int64_t i) {
  if constexpr (kW == W::kF32) return static_cast<const float*>(row)[i];
  else if constexpr (kW == W::kF16) return F16ToF32(static_cast<const uint16_t*>(row)[i]);
  else return Bf16ToF32(static_cast<const uint16_t*>(row)[i]);
}

template <W kW>
constexpr int64_t WSize() {
  return kW == W::kF32 ? 4 : 2;
}

// Bp[kk][j] = f32(w[n0 + j][k0 + kk]) for j < cols, 0 for padding columns.
template <W kW>
void PackB(const void* w, int64_t k, int64_t n0, int cols, int64_t k0, int64_t kc, float* bp) {
  const char* rows[kNr];
  for (int j = 0; j < kNr; ++j) {
    rows[j] = j < cols ? static_cast<const char*>(w) + ((n0 + j) * k + k0) * WSize<kW>()
                       : reinterpret_cast<const char*>(kZeros);
  }
  const int64_t k8 = kc & ~int64_t{7};
  for (int64_t kk = 0; kk < k8; kk += 8) {
    for (int g = 0; g < 2; ++g) {
      __m256 v[8];
      for (int r = 0; r < 8; ++r) {
        const char* row = rows[g * 8 + r];
        v[r] = simd::LoadW8<kW>(row, row == reinterpret_cast<const char*>(kZeros) ? 0 : kk);
      }
      simd::Transpose8x8(v);
      for (int c = 0; c < 8; ++c) _mm256_store_ps(bp + (kk + c) * kNr + g * 8, v[c]);
    }
  }
  for (int64_t kk = k8; kk < kc; ++kk) {
    for (int j = 0; j < kNr; ++j) bp[kk * kNr + j] = j < cols ? ScalarW<kW>(rows[j], kk) : 0.0f;
  }
}

// Cache lines of the next step's weights (16 rows x kc elements), issued a few at a
// time from inside the microkernel loops: a burst of ~128 prefetches would stall on the
// line fill buffers and serialise memory latency with compute (measured: half the time
// of a small-m step sat on that burst).
struct PrefetchList {
  static constexpr int kMax = kNr * (kKc * 4 / 64);
  const char* line[kMax];
  int n = 0;
};

template <W kW>
void ListNextB(const void* w, int64_t k, int64_t n0, int cols, int64_t k0, int64_t kc,
               PrefetchList* pl) {
  const int64_t bytes = kc * WSize<kW>();
  pl->n = 0;
  for (int j = 0; j < cols; ++j) {
    const char* row = static_cast<const char*>(w) + ((n0 + j) * k + k0) * WSize<kW>();
    for (int64_t off = 0; off < bytes; off += 64) pl->line[pl->n++] = row + off;
  }
}

// y[0:rows, 0:cols] (+)= A[6, kc] · B[kc, 16] with A packed [kc][6], B packed [kc][16].
// load_c: add into y (later k blocks, or accumulate) instead of overwriting it.
// pf[0:npf]: cache lines to prefetch, spread evenly over the k loop.
void Micro6x16(int64_t kc, const float* a, const float* b, float* y, int64_t ldy, int rows,
               int cols, bool load_c, const char* const* pf, int npf) {
  // The y tile is needed only after the k loop: start fetching it now.
  for (int r = 0; r < rows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(y + r * ldy), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(y + r * ldy + kNr - 1), _MM_HINT_T0);
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // The k loop runs in chunks of 8 steps, each chunk preceded by per_chunk prefetches.
  const int64_t chunks = (kc + 7) / 8;
  const int per_chunk = static_cast<int>((npf + chunks - 1) / chunks);
  for (int64_t k0 = 0; k0 < kc; k0 += 8) {
    for (int i = 0; i < per_chunk && npf > 0; ++i, --npf) _mm_prefetch(*pf++, _MM_HINT_T0);
    const int64_t k1 = std::min(kc, k0 + 8);
#pragma GCC unroll 8
  for (int64_t kk = k0; kk < k1; ++kk) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    a += kMr;
    b += kNr;
  }
  }
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                              {c30, c31}, {c40, c41}, {c50, c51}};
  if (rows == kMr && cols == kNr) {
    for (int r = 0; r < kMr; ++r) {
      float* yr = y + r * ldy;
      __m256 v0 = acc[r][0], v1 = acc[r][1];
      if (load_c) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(yr));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(yr + 8));
      }
      _mm256_storeu_ps(yr, v0);
      _mm256_storeu_ps(yr + 8, v1);
    }
    return;
  }
  alignas(32) float buf[kMr][kNr];
  for (int r = 0; r < kMr; ++r) {
    _mm256_store_ps(buf[r], acc[r][0]);
    _mm256_store_ps(buf[r] + 8, acc[r][1]);
  }
  for (int r = 0; r < rows; ++r) {
    float* yr = y + r * ldy;
    for (int j = 0; j < cols; ++j) yr[j] = load_c ? yr[j] + buf[r][j] : buf[r][j];
  }
}

// One (16-column panel n0, k block k0) step: pack the weights, start fetching the next
// step's weights (next_n0 < 0: none), run the microkernel down the mb packed rows of A
// (wide: gemm_wide.cpp's AVX-512 sweep, the same bits).
template <W kW>
void PanelStep(const MatmulParams& p, bool wide, const float* ap, int64_t m0, int64_t mb, int64_t n0, int64_t k0,
               int64_t kc, float* bp, int64_t next_n0, int64_t next_k0, int64_t next_kc) {
  const int cols = static_cast<int>(std::min<int64_t>(kNr, p.n - n0));
  PackB<kW>(p.w, p.k, n0, cols, k0, kc, bp);
  PrefetchList pl;
  if (next_n0 >= 0) {
    ListNextB<kW>(p.w, p.k, next_n0, static_cast<int>(std::min<int64_t>(kNr, p.n - next_n0)),
                  next_k0, next_kc, &pl);
  }
  const bool load_c = p.accumulate || k0 > 0;
  float* y = p.y + m0 * p.ldy + n0;
  if (wide) return GemmPanelWide(kc, ap, bp, y, p.ldy, mb, cols, load_c, pl.line, pl.n);
  const int64_t calls = (mb + kMr - 1) / kMr;
  const int per_call = static_cast<int>((pl.n + calls - 1) / calls);
  for (int64_t i0 = 0, done = 0; i0 < mb; i0 += kMr) {
    const int npf = static_cast<int>(std::min<int64_t>(per_call, pl.n - done));
    Micro6x16(kc, ap + i0 * kc, bp, y + i0 * p.ldy, p.ldy,
              static_cast<int>(std::min<int64_t>(kMr, mb - i0)), cols, load_c, pl.line + done, npf);
    done += npf;
  }
}

// Rows [m_begin, m_end) of y restricted to 16-column panels [pan_begin, pan_end).
// Two loop orders, same microkernel:
//  - panel-major, when all of x's rows x all of k fit the A buffer (m*k <= kMc*kKc,
//    e.g. m <= 129 at k = 1024): x is packed once, then each panel's 16 weight rows are
//    streamed start to end (k blocks in order), which the prefetchers follow well; at
//    small m (5..32) this is what keeps the weight stream near memory speed.
//  - k-block-major (BLIS), otherwise: A block [mb, kc] packed per k block, reused by
//    every panel.
template <W kW>
void GemmRange(const MatmulParams& p, bool wide, int64_t m_begin, int64_t m_end, int64_t pan_begin, int64_t pan_end) {
  Scratch& s = ThreadScratch();
  // Balanced k blocks (multiples of 8, at most kKc): k = 1030 gives 5 x 208, not 4 x 256 + 6.
  const int64_t nkb = (p.k + kKc - 1) / kKc;
  const int64_t kcb = std::min(kKc, ((p.k + nkb - 1) / nkb + 7) / 8 * 8);
  const auto kc_at = [&](int64_t k0) { return std::min(kcb, p.k - k0); };
  const int64_t rows6 = (m_end - m_begin + kMr - 1) / kMr * kMr;
  if (rows6 * p.k <= kMc * kKc) {
    const int64_t mb = m_end - m_begin;
    // k block k0 of A lives at s.a + k0 * rows6 (each block is rows6 x kc floats).
    for (int64_t k0 = 0; k0 < p.k; k0 += kcb) {
      PackA(p.x + m_begin * p.ldx + k0, p.ldx, mb, kc_at(k0), s.a + k0 * rows6);
    }
    for (int64_t pan = pan_begin; pan < pan_end; ++pan) {
      for (int64_t k0 = 0; k0 < p.k; k0 += kcb) {
        int64_t next_n0 = pan * kNr, next_k0 = k0 + kcb;
        if (next_k0 >= p.k) {
          next_n0 = pan + 1 < pan_end ? (pan + 1) * kNr : -1;
          next_k0 = 0;
        }
        PanelStep<kW>(p, wide, s.a + k0 * rows6, m_begin, mb, pan * kNr, k0, kc_at(k0), s.b, next_n0, next_k0,
                      kc_at(next_k0));
      }
    }
    return;
  }
  for (int64_t m0 = m_begin; m0 < m_end; m0 += kMc) {
    const int64_t mb = std::min(kMc, m_end - m0);
    for (int64_t k0 = 0; k0 < p.k; k0 += kcb) {
      PackA(p.x + m0 * p.ldx + k0, p.ldx, mb, kc_at(k0), s.a);
      for (int64_t pan = pan_begin; pan < pan_end; ++pan) {
        const int64_t next_n0 = pan + 1 < pan_end ? (pan + 1) * kNr : -1;
        PanelStep<kW>(p, wide, s.a, m0, mb, pan * kNr, k0, kc_at(k0), s.b, next_n0, k0, kc_at(k0));
      }
    }
  }
}

template <W kW>
void GemmTyped(const MatmulParams& p, bool wide, ThreadPool& pool) {
  const int64_t panels = (p.n + kNr - 1) / kNr;
  const int64_t row_panels = (p.m + kMr - 1) / kMr;
  const int64_t threads = pool.num_threads();
  if (panels >= 2 * threads || row_panels < 2 * threads) {
    // Usual case: split the weight rows, so each weight element is converted once.
    pool.ParallelFor(panels, 1, [&](int64_t b, int64_t e) { GemmRange<kW>(p, wide, 0, p.m, b, e); });
  } else {
    // Narrow n (a few panels), many rows: split the rows of x instead.
    pool.ParallelFor(row_panels, 1,
                     [&](int64_t b, int64_t e) { GemmRange<kW>(p, wide, b * kMr, std::min(p.m, e * kMr), 0, panels); });
  }
}

void GemmWith(const MatmulParams& p, bool wide, ThreadPool& pool) {
  switch (p.w_dtype) {
    case DType::kAffine: return AffineGemm(p, pool);
    case DType::kF32: return GemmTyped<W::kF32>(p, wide, pool);
    case DType::kF16: return GemmTyped<W::kF16>(p, wide, pool);
    case DType::kBF16: return GemmTyped<W::kBF16>(p, wide, pool);
    case DType::kI32:
    case DType::kU32: break;
  }
  AX_CHECK_MSG(false, "Matmul: weights must be f32, f16, bf16 or affine-quantized");
}

}  // namespace

// The AVX-512 sweep where the processor has it (measured faster: docs/cpu-kernels.md),
// unless AX_CPU_GEMM_WIDE=0 (A/B); the same bits either way.
bool UseGemmWide() {
  static const bool wide = CpuHasAvx512Vl() && EnvSwitch("AX_CPU_GEMM_WIDE", true);
  return wide;
}

void Gemm(const MatmulParams& p, ThreadPool& pool) { GemmWith(p, UseGemmWide(), pool); }
void GemmAvx2(const MatmulParams& p, ThreadPool& pool) { GemmWith(p, false, pool); }
void GemmWide(const MatmulParams& p, ThreadPool& pool) { GemmWith(p, true, pool); }

}  // namespace ax::kernels::cpu::detail
