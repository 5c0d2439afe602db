#include "kernels/cuda/gemm.h"

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

}  // namespace ax::kernels::cuda
