// The two matmul regimes behind cpu::Matmul (matmul.cpp dispatches on m):
//   Gemv (matmul.cpp):  m small (decode). Memory-bound: every weight row is streamed
//                       from memory once and dotted with all m rows of x.
//   Gemm (gemm.cpp):    m large (prefill). Compute-bound: weight panels are converted
//                       to f32 once into a packed thread-local buffer and reused by a
//                       6x16 register-blocked FMA microkernel across all rows of x.
// Both take a MatmulParams with ldx/ldy already resolved (non-zero) and k > 0.
#pragma once

#include "base/thread_pool.h"
#include "kernels/params.h"

namespace ax::kernels::cpu::detail {

// Largest m that Matmul sends to Gemv; larger m goes to Gemm (see docs/cpu-kernels.md
// for the crossover measurement).
inline constexpr int64_t kGemvMaxM = 16;

// The GEMV for the processor: GemvWide (matmul_gemv_wide.cpp, AVX-512VL's 32 ymm
// registers for larger tiles) where it runs, else GemvAvx2; the same bits either way.
void Gemv(const MatmulParams& p, ThreadPool& pool);
// Whether Gemv takes GemvWide for m >= 3 (once per process).
bool UseGemvWide();
void GemvAvx2(const MatmulParams& p, ThreadPool& pool);
void GemvWide(const MatmulParams& p, ThreadPool& pool);  // REQUIRES: CpuHasAvx512Vl()
void Gemm(const MatmulParams& p, ThreadPool& pool);
// The same two regimes for w_dtype kAffine (matmul_affine.cpp).
void AffineGemv(const MatmulParams& p, ThreadPool& pool);
void AffineGemm(const MatmulParams& p, ThreadPool& pool);

}  // namespace ax::kernels::cpu::detail
