// Checked CUDA / cuBLAS calls. Every runtime call in src/kernels/cuda and
// src/backend/cuda goes through one of these:
//   AX_CUDA_RETURN_IF_ERROR(expr)   returns an ax::Status (Internal) naming the call,
//                                   the file:line and the CUDA error, from a function
//                                   that returns Status or Result<T>;
//   AX_CUDA_CHECK(expr)             aborts: programmer errors and destructors only;
//   AX_CUDA_WARN(expr)              prints and goes on: teardown in destructors, where
//                                   the runtime may already be unloading at exit;
//   AX_CUDA_LAUNCH_STATUS("name")   the Status of the last kernel launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ax/status.h"

namespace ax::kernels::cuda {

inline Status CudaStatus(cudaError_t e, const char* what, const char* file, int line) {
  if (e == cudaSuccess) return Status::Ok();
  return Internal(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

}  // namespace ax::kernels::cuda

#define AX_CUDA_RETURN_IF_ERROR(expr)                                                 \
  do {                                                                                \
    const cudaError_t ax_cuda_e_ = (expr);                                            \
    if (ax_cuda_e_ != cudaSuccess)                                                    \
      return ::ax::kernels::cuda::CudaStatus(ax_cuda_e_, #expr, __FILE__, __LINE__);  \
  } while (0)

#define AX_CUDA_CHECK(expr)                                                           \
  do {                                                                                \
    const cudaError_t ax_cuda_e_ = (expr);                                            \
    if (ax_cuda_e_ != cudaSuccess) {                                                  \
      std::fprintf(stderr, "AX_CUDA_CHECK failed at %s:%d: %s: %s\n", __FILE__,       \
                   __LINE__, #expr, cudaGetErrorString(ax_cuda_e_));                  \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

#define AX_CUDA_WARN(expr)                                                            \
  do {                                                                                \
    const cudaError_t ax_cuda_e_ = (expr);                                            \
    if (ax_cuda_e_ != cudaSuccess && ax_cuda_e_ != cudaErrorCudartUnloading)          \
      std::fprintf(stderr, "warning: %s at %s:%d: %s\n", #expr, __FILE__, __LINE__,   \
                   cudaGetErrorString(ax_cuda_e_));                                   \
  } while (0)

#define AX_CUDA_LAUNCH_STATUS(name) \
  ::ax::kernels::cuda::CudaStatus(cudaGetLastError(), "launch of " name, __FILE__, __LINE__)
