// The GEMM microkernel sweep (gemm.cpp's PanelStep) in AVX-512F, built with -mavx512f
// (CMakeLists.txt) and called only where CpuHasAvx512Vl(). A tile is 12 rows of x (two
// packed 6-row A panels) x the 16 columns of a packed B panel: one zmm accumulator per
// row, so each k step is one aligned B load, 12 broadcast FMAs on 16 lanes (twice the
// lanes of the AVX2 6x16 tile's 12 ymm FMAs), 12 independent chains.
//
// Same bits as the AVX2 microkernel: every lane starts at zero, takes one FMA per k in
// the same order over the same packed operands, and is added to y once per k block, as
// there. Everything here stays local to this file (no inline function with external
// linkage: the linker could keep this file's AVX-512 copy for every caller).
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/matmul_internal.h"

namespace ax::kernels::cpu::detail {
namespace {

constexpr int kMr = kGemmMr;  // rows of one packed A panel
constexpr int kNr = kGemmNr;  // columns of a packed B panel = one zmm

// y[0:rows, 0:cols] (+)= A · B for kPanels packed A panels ([kc][6] each, kc*6 floats
// apart) and one packed B panel [kc][16] (64-byte aligned rows). pf[0:npf]: cache lines
// to prefetch, spread over the k loop in chunks of 8 steps.
template <int kPanels>
void MicroWide(int64_t kc, const float* a, const float* b, float* y, int64_t ldy, int rows, int cols, bool load_c,
               const char* const* pf, int npf) {
  constexpr int kRows = kMr * kPanels;
  for (int r = 0; r < rows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(y + r * ldy), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(y + r * ldy + kNr - 1), _MM_HINT_T0);
  }
  __m512 c[kRows];
#pragma GCC unroll 12
  for (int r = 0; r < kRows; ++r) c[r] = _mm512_setzero_ps();
  const float* a1 = a + kMr * kc;  // the second panel (kPanels == 2)
  const int64_t chunks = (kc + 7) / 8;
  const int per_chunk = static_cast<int>((npf + chunks - 1) / chunks);
  for (int64_t k0 = 0; k0 < kc; k0 += 8) {
    for (int i = 0; i < per_chunk && npf > 0; ++i, --npf) _mm_prefetch(*pf++, _MM_HINT_T0);
    const int64_t k1 = std::min(kc, k0 + 8);
    for (int64_t kk = k0; kk < k1; ++kk) {
      const __m512 bv = _mm512_load_ps(b + kk * kNr);
#pragma GCC unroll 6
      for (int r = 0; r < kMr; ++r) c[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[kk * kMr + r]), bv, c[r]);
      if constexpr (kPanels == 2) {
#pragma GCC unroll 6
        for (int r = 0; r < kMr; ++r) {
          c[kMr + r] = _mm512_fmadd_ps(_mm512_set1_ps(a1[kk * kMr + r]), bv, c[kMr + r]);
        }
      }
    }
  }
  if (rows == kRows && cols == kNr) {
#pragma GCC unroll 12
    for (int r = 0; r < kRows; ++r) {
      float* yr = y + r * ldy;
      const __m512 v = load_c ? _mm512_add_ps(c[r], _mm512_loadu_ps(yr)) : c[r];
      _mm512_storeu_ps(yr, v);
    }
    return;
  }
  alignas(64) float buf[kRows][kNr];
#pragma GCC unroll 12
  for (int r = 0; r < kRows; ++r) _mm512_store_ps(buf[r], c[r]);
  for (int r = 0; r < rows; ++r) {
    float* yr = y + r * ldy;
    for (int j = 0; j < cols; ++j) yr[j] = load_c ? yr[j] + buf[r][j] : buf[r][j];
  }
}

}  // namespace

void GemmPanelWide(int64_t kc, const float* ap, const float* bp, float* y, int64_t ldy, int64_t mb, int cols,
                   bool load_c, const char* const* pf, int npf) {
  const int64_t calls = (mb + 2 * kMr - 1) / (2 * kMr);
  const int per_call = static_cast<int>((npf + calls - 1) / calls);
  for (int64_t i0 = 0, done = 0; i0 < mb; i0 += 2 * kMr) {
    const int n = static_cast<int>(std::min<int64_t>(per_call, npf - done));
    const int rows = static_cast<int>(std::min<int64_t>(2 * kMr, mb - i0));
    // Panel i0 / 6 of the packed A block starts at ap + i0 * kc.
    if (rows > kMr) {
      MicroWide<2>(kc, ap + i0 * kc, bp, y + i0 * ldy, ldy, rows, cols, load_c, pf + done, n);
    } else {
      MicroWide<1>(kc, ap + i0 * kc, bp, y + i0 * ldy, ldy, rows, cols, load_c, pf + done, n);
    }
    done += n;
  }
}

}  // namespace ax::kernels::cpu::detail
