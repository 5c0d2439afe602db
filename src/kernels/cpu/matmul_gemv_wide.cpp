// The GEMV of matmul_gemv.h built with -mavx512f -mavx512vl (CMakeLists.txt): the same
// 256-bit instructions, but 32 ymm registers, so a sweep holds up to 8 rows of x
// (GemvRows' kWide tiles). Called only where CpuHasAvx512Vl(). Everything it compiles
// must stay local to this file: an inline function with external linkage built here
// (a weak symbol) could be the copy the linker keeps for every file, AVX-512
// instructions and all. `nm -C` on this object lists no weak (W) code symbols.
#include "kernels/cpu/matmul_gemv.h"
#include "kernels/cpu/matmul_internal.h"

namespace ax::kernels::cpu::detail {

void GemvWide(const MatmulParams& p, ThreadPool& pool) { GemvFor<true>(p, pool); }

}  // namespace ax::kernels::cpu::detail
