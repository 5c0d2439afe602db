// cpu::Matmul: y[m, n] (+)= x[m, k] · w[n, k]^T, w in f32/f16/bf16.
// This file holds the dispatch and the small-m (decode) GEMV; gemm.cpp the large-m GEMM.
//
// The GEMV itself is in matmul_gemv.h (built for AVX2 here, for AVX-512VL in
// matmul_gemv_wide.cpp); Gemv picks one at run time.
#include <immintrin.h>

#include <algorithm>

#include "base/check.h"
#include "base/env.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/matmul_gemv.h"
#include "kernels/cpu/matmul_internal.h"

namespace ax::kernels::cpu {
namespace detail {

void GemvAvx2(const MatmulParams& p, ThreadPool& pool) { GemvFor<false>(p, pool); }

// The wide build for m >= 3 where the processor has AVX-512VL (its larger tiles measured
// 9-15% faster at m = 3..8 on the demo model's shapes; at m = 1, 2 the tiles are the
// same and the AVX2 build was a few percent faster), unless AX_CPU_GEMV_WIDE=0 (A/B).
bool UseGemvWide() {
  static const bool wide = CpuHasAvx512Vl() && EnvSwitch("AX_CPU_GEMV_WIDE", true);
  return wide;
}

void Gemv(const MatmulParams& p, ThreadPool& pool) {
  if (p.w_dtype == DType::kAffine) return AffineGemv(p, pool);
  if (UseGemvWide() && p.m >= 3) return GemvWide(p, pool);
  GemvAvx2(p, pool);
}

}  // namespace detail

std::string KernelPaths() {
  return std::string("avx2+fma+f16c") + (detail::UseGemvWide() ? ", gemv avx512vl at m >= 3" : "") +
         (detail::UseGemmWide() ? ", gemm avx512 12x16" : "") +
         (detail::UseAttentionWide() ? ", decode attention avx512" : "");
}

// REQUIRES: w_dtype is f32/f16/bf16 or kAffine; x, w, y non-null when m*n > 0; y does not alias
// x or w. ldx >= k and ldy >= n when given.
void Matmul(const MatmulParams& params, ThreadPool& pool) {
  if (params.m <= 0 || params.n <= 0) return;
  MatmulParams p = params;
  if (p.ldx == 0) p.ldx = p.k;
  if (p.ldy == 0) p.ldy = p.n;
  if (p.k <= 0) {  // empty sum: y = 0 (or y unchanged when accumulating)
    if (!p.accumulate) {
      for (int64_t i = 0; i < p.m; ++i) std::fill_n(p.y + i * p.ldy, p.n, 0.0f);
    }
    return;
  }
  if (p.m <= detail::kGemvMaxM) {
    detail::Gemv(p, pool);
  } else {
    detail::Gemm(p, pool);
  }
}

}  // namespace ax::kernels::cpu
