// Pointwise kernels of the sandwich-norm and softcapped families (Gemma): a residual
// add, a scale (Gemma's embedding scale), and the final-logit softcap. One thread per
// element; f32 math, one rounding to T per output (as transformers in that dtype).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

using detail::FromF32;
using detail::ToF32;

template <typename T>
__global__ void __launch_bounds__(256) AddKernel(const T* x, T* y, int64_t n) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = FromF32<T>(ToF32(y[i]) + ToF32(x[i]));
}

template <typename T>
__global__ void __launch_bounds__(256) ScaleKernel(T* x, int64_t n, float s) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] = FromF32<T>(ToF32(x[i]) * s);
}

__global__ void __launch_bounds__(256) SoftcapKernel(float* x, int64_t n, float cap) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] = cap * tanhf(x[i] / cap);
}

}  // namespace

template <typename T>
Status LaunchAdd(const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(AddKernel<T>, dim3(detail::Blocks(n, 256)), dim3(256), 0, stream, x, y, n));
  return AX_CUDA_LAUNCH_STATUS("AddKernel");
}

template <typename T>
Status LaunchScale(T* x, int64_t n, float s, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(ScaleKernel<T>, dim3(detail::Blocks(n, 256)), dim3(256), 0, stream, x, n, s));
  return AX_CUDA_LAUNCH_STATUS("ScaleKernel");
}

Status LaunchSoftcap(float* x, int64_t n, float cap, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(SoftcapKernel, dim3(detail::Blocks(n, 256)), dim3(256), 0, stream, x, n, cap));
  return AX_CUDA_LAUNCH_STATUS("SoftcapKernel");
}

template Status LaunchAdd<bf16_bits>(const bf16_bits*, bf16_bits*, int64_t, cudaStream_t);
template Status LaunchAdd<float>(const float*, float*, int64_t, cudaStream_t);
template Status LaunchScale<bf16_bits>(bf16_bits*, int64_t, float, cudaStream_t);
template Status LaunchScale<float>(float*, int64_t, float, cudaStream_t);

}  // namespace ax::kernels::cuda
