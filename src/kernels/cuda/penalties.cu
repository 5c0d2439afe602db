// Sampling penalties applied to logits rows on the device (Backend::ApplyPenalties):
// the operations of PenalisedLogit (base/logit_penalty.h) with explicit
// round-to-nearest intrinsics, so nvcc cannot contract them into FMAs and the bits
// equal Sampler::ApplyPenalties on the host. One block per logit row; a row's entries
// have distinct ids, so no two threads write one logit.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kThreads = 128;

__global__ void __launch_bounds__(kThreads)
    PenaltiesKernel(float* __restrict__ logits, int64_t vocab, int64_t first_row, LogitPenalties p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t r = blockIdx.x, lr = first_row + r;
  float* row = logits + r * vocab;
  const float rep = p.repetition[lr];
  const double presence = p.presence[lr];
  for (int32_t e = p.begin[lr] + static_cast<int32_t>(threadIdx.x); e < p.begin[lr + 1]; e += kThreads) {
    const LogitPenalty pen = p.entries[e];
    if (pen.id < 0 || pen.id >= vocab) continue;  // ids < vocab by contract; never write outside the row
    float l = row[pen.id];
    if (rep != 1.0f) l = l > 0.0f ? __fdiv_rn(l, rep) : __fmul_rn(l, rep);
    if (pen.generated != 0) {
      l = __double2float_rn(__dsub_rn(__dsub_rn(static_cast<double>(l), pen.frequency_term), presence));
    }
    row[pen.id] = l;
  }
}

}  // namespace

Status LaunchPenalties(float* logits, int64_t rows, int64_t vocab, int64_t first_row, const LogitPenalties& p,
                       cudaStream_t stream) {
  if (rows == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(PenaltiesKernel, dim3(static_cast<unsigned>(rows)), dim3(kThreads), 0, stream,
                                         logits, vocab, first_row, p));
  return AX_CUDA_LAUNCH_STATUS("PenaltiesKernel");
}

}  // namespace ax::kernels::cuda
