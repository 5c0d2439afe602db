// cpu::MatmulWithKernel: Matmul with the kernel chosen by the caller (params.kernel),
// for callers that need batch invariance (see MatmulKernel in kernels/params.h).
#include <algorithm>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/matmul_internal.h"

namespace ax::kernels::cpu {

void MatmulWithKernel(const MatmulParams& params, ThreadPool& pool) {
  if (params.kernel == MatmulKernel::kAuto || params.m <= 0 || params.n <= 0 || params.k <= 0) {
    Matmul(params, pool);
    return;
  }
  MatmulParams p = params;
  if (p.ldx == 0) p.ldx = p.k;
  if (p.ldy == 0) p.ldy = p.n;
  switch (p.kernel) {
    case MatmulKernel::kRowInvariant:
      detail::Gemv(p, pool);
      return;
    case MatmulKernel::kThroughput:
      detail::Gemm(p, pool);
      return;
    case MatmulKernel::kAuto:
      break;
  }
  Matmul(p, pool);
}

}  // namespace ax::kernels::cpu
