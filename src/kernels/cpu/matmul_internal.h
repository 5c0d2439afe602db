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
// Gemm takes GemmWide where UseGemmWide() (AVX-512 present, AX_CPU_GEMM_WIDE not 0), else
// GemmAvx2: the same bits either way.
void Gemm(const MatmulParams& p, ThreadPool& pool);
void GemmAvx2(const MatmulParams& p, ThreadPool& pool);
void GemmWide(const MatmulParams& p, ThreadPool& pool);  // REQUIRES: CpuHasAvx512Vl()
bool UseGemmWide();
// gemm.cpp's packing: A panels of kGemmMr rows ([kc][6] f32), B panels of kGemmNr
// weight rows ([kc][16] f32, 64-byte aligned).
inline constexpr int kGemmMr = 6;
inline constexpr int kGemmNr = 16;
// The microkernel sweep of one packed B panel down mb packed rows of A into
// y[0:mb, 0:cols] (+= when load_c), prefetching pf[0:npf] on the way, in AVX-512
// (gemm_wide.cpp). REQUIRES: CpuHasAvx512Vl().
void GemmPanelWide(int64_t kc, const float* ap, const float* bp, float* y, int64_t ldy, int64_t mb, int cols,
                   bool load_c, const char* const* pf, int npf);
// The same two regimes for w_dtype kAffine (matmul_affine.cpp).
void AffineGemv(const MatmulParams& p, ThreadPool& pool);
void AffineGemm(const MatmulParams& p, ThreadPool& pool);

}  // namespace ax::kernels::cpu::detail
