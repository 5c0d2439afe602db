#include "kernels/cuda/gemm.h"

#include <algorithm>
#include <string>

namespace ax::kernels::cuda {

Status CublasStatus(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return Internal(std::string(what) + " failed: " + cublasGetStatusName(s) + " (" + cublasGetStatusString(s) + ")");
}

Status CublasMatmul(cublasHandle_t handle, const MatmulParams& p) {
  if (p.m == 0 || p.n == 0) return Status::Ok();
  const float alpha = 1.0f, beta = p.accumulate ? 1.0f : 0.0f;
  const int n = static_cast<int>(p.n), m = static_cast<int>(p.m), k = static_cast<int>(p.k);
  return CublasStatus(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, p.w, CUDA_R_16BF, k, p.x,
                                   CUDA_R_16BF, k, &beta, p.y, p.y_f32 ? CUDA_R_32F : CUDA_R_16BF, n,
                                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                      "cublasGemmEx");
}

Status CublasMatmulSplit(cublasHandle_t handle, const MatmulParamsF32& p, bf16_bits* hi, bf16_bits* lo,
                         int64_t scratch_elems, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return Status::Ok();
  if (!p.y_f32 || p.k <= 0 || p.k > scratch_elems)
    return InvalidArgument("CublasMatmulSplit: needs an f32 output and k within the split scratch");
  const int64_t chunk = std::min(p.m, scratch_elems / p.k);
  for (int64_t r0 = 0; r0 < p.m; r0 += chunk) {
    const int64_t rows = std::min(chunk, p.m - r0);
    AX_RETURN_IF_ERROR(LaunchSplitBf16(p.x + r0 * p.k, rows * p.k, hi, lo, stream));
    MatmulParams part;
    part.w = p.w;
    part.y = static_cast<float*>(p.y) + r0 * p.n;
    part.y_f32 = true;
    part.m = rows;
    part.n = p.n;
    part.k = p.k;
    part.x = hi;
    part.accumulate = p.accumulate;
    AX_RETURN_IF_ERROR(CublasMatmul(handle, part));
    part.x = lo;
    part.accumulate = true;
    AX_RETURN_IF_ERROR(CublasMatmul(handle, part));
  }
  return Status::Ok();
}

}  // namespace ax::kernels::cuda
