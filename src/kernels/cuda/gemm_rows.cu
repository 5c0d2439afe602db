// Generated rows (decode tokens, drafts, logits) on tensor cores, batch-invariant:
// y[m, n] (+)= x[m, k] · w[n, k]^T with bf16 x and w, f32 accumulation, for any m.
//
// The reduction (what makes a row's bits independent of m):
//   k is cut into C = k / 64 chunks of 64 and the chunks into four contiguous
//   quarters, quarter q = chunks [q·C/4, (q+1)·C/4) (integer division). Within a
//   quarter an output element is one chain of tensor-core k16 steps (bf16 in, f32
//   accumulate) over the chunks in increasing order, four k16 steps per chunk, from
//   0; the four quarter sums are then added in the order ((p0 + p1) + p2) + p3 in f32,
//   and the sum is rounded (and added to y) once. Each k16 step's output element
//   depends only on its weight row, its token and its accumulator, so none of this
//   depends on m, on the other rows of x, or on how rows are tiled: m only chooses the
//   token tile, how many token tiles the grid has and how deep the pipeline is.
//
// Two kernels keep this contract (gemm_rows_tile.cuh has what they share):
// gemm_rows_wgmma.cu (wgmma, operands in shared memory; Hopper's default) and
// gemm_rows_mma.cu (mma.sync with fragments in registers). Their k16 steps are
// different instructions, so their bits may differ: a process uses one for every m
// (AX_CUDA_GEMM_ROWS_KERNEL=mma|wgmma, read once), which keeps rows batch-invariant.
//
// sm_90 only (clusters; wgmma needs the sm_90a build): GemmRowsSupports says false
// elsewhere and the backend keeps the GEMV, which is batch-invariant too.
#include <cstring>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_rows_tile.cuh"

namespace ax::kernels::cuda {
namespace {

using rows::kChunk;
using rows::kTileRows;
using rows::RowsArgs;

// Hopper exactly: the kernels' bodies are compiled for sm_90a (CMAKE_CUDA_ARCHITECTURES
// 90a); another architecture would run a PTX build without them.
bool DeviceHasClusters() {
  static const bool ok = [] {
    int dev = 0, major = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return false;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) return false;
#if defined(AX_CUDA_HAS_SM90A)
    return major == 9;
#else
    return false;
#endif
  }();
  return ok;
}

// The wgmma kernel unless AX_CUDA_GEMM_ROWS_KERNEL=mma; read once per process.
bool UseWgmma() {
  static const bool wgmma = [] {
    const char* v = std::getenv("AX_CUDA_GEMM_ROWS_KERNEL");
    return v == nullptr || std::strcmp(v, "mma") != 0;
  }();
  return wgmma;
}

cudaError_t LaunchRows(const RowsArgs& a, unsigned row_tiles, bool silu, cudaStream_t stream) {
  return UseWgmma() ? rows::LaunchRowsWgmma(a, row_tiles, silu, stream)
                    : rows::LaunchRowsMma(a, row_tiles, silu, stream);
}

}  // namespace

bool GemmRowsSupports(int64_t k, const void* x, const void* w) {
  return k > 0 && k % kChunk == 0 && detail::Aligned16(x) && detail::Aligned16(w) && DeviceHasClusters();
}

bool GemmRowsSiluSupports(int64_t f, int64_t k, const void* x, const void* w) {
  return f > 0 && f % 64 == 0 && GemmRowsSupports(k, x, w);
}

Status LaunchGemmRows(const MatmulParams& p, cudaStream_t stream) {
  if (!GemmRowsSupports(p.k, p.x, p.w)) return InvalidArgument("LaunchGemmRows: k % 64, alignment or device");
  if (p.m <= 0 || p.n <= 0) return Status::Ok();
  RowsArgs a;
  a.x = p.x;
  a.m = p.m;
  a.k = p.k;
  a.w[0] = p.w;
  a.y[0] = p.y;
  a.n[0] = p.n;
  a.tiles[0] = static_cast<int>(detail::Blocks(p.n, kTileRows));
  a.y_f32 = p.y_f32;
  a.accumulate = p.accumulate;
  AX_CUDA_RETURN_IF_ERROR(LaunchRows(a, static_cast<unsigned>(a.tiles[0]), /*silu=*/false, stream));
  return AX_CUDA_LAUNCH_STATUS("GemmRowsKernel");
}

Status LaunchGemmRowsGroup(const GemvGroupParams& p, cudaStream_t stream) {
  if (p.count < 1 || p.count > kGemvMaxMats) return InvalidArgument("LaunchGemmRowsGroup: matrix count");
  RowsArgs a;
  a.x = p.x;
  a.m = p.m;
  a.k = p.k;
  a.count = p.count;
  unsigned tiles = 0;
  for (int i = 0; i < p.count; ++i) {
    if (!GemmRowsSupports(p.k, p.x, p.w[i])) return InvalidArgument("LaunchGemmRowsGroup: k % 64, alignment or device");
    a.w[i] = p.w[i];
    a.y[i] = p.y[i];
    a.n[i] = p.n[i];
    a.tiles[i] = static_cast<int>(detail::Blocks(p.n[i], kTileRows));
    tiles += static_cast<unsigned>(a.tiles[i]);
  }
  if (p.m <= 0 || tiles == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(LaunchRows(a, tiles, /*silu=*/false, stream));
  return AX_CUDA_LAUNCH_STATUS("GemmRowsKernel (group)");
}

Status LaunchGemmRowsSilu(const GemvSiluParams& p, cudaStream_t stream) {
  if (!GemmRowsSiluSupports(p.f, p.k, p.x, p.w))
    return InvalidArgument("LaunchGemmRowsSilu: f % 64, k % 64, alignment");
  if (p.m <= 0) return Status::Ok();
  RowsArgs a;
  a.x = p.x;
  a.m = p.m;
  a.k = p.k;
  a.w[0] = p.w;
  a.y[0] = p.act;
  a.n[0] = 2 * p.f;
  a.f = p.f;
  AX_CUDA_RETURN_IF_ERROR(LaunchRows(a, static_cast<unsigned>(p.f / 64), /*silu=*/true, stream));
  return AX_CUDA_LAUNCH_STATUS("GemmRowsKernel (SiLU)");
}

}  // namespace ax::kernels::cuda
