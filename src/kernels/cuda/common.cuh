// Device helpers shared by the .cu files of src/kernels/cuda (bf16 bit patterns,
// 16-byte vectors, warp reductions). Internal: included by .cu files only.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>
#include <utility>

#include "base/env.h"

namespace ax::kernels::cuda::detail {

__device__ __forceinline__ float Bf16ToF32(uint16_t h) { return __uint_as_float(static_cast<uint32_t>(h) << 16); }
__device__ __forceinline__ uint16_t F32ToBf16(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }
__device__ __forceinline__ float RoundBf16(float f) { return Bf16ToF32(F32ToBf16(f)); }

// Activation elements: T is uint16_t (bf16 bits) or float (the f32 precision mode).
__device__ __forceinline__ float ToF32(uint16_t h) { return Bf16ToF32(h); }
__device__ __forceinline__ float ToF32(float f) { return f; }
template <typename T>
__device__ __forceinline__ T FromF32(float f) {
  if constexpr (std::is_same_v<T, float>) {
    return f;
  } else {
    return F32ToBf16(f);
  }
}
// f rounded to T's precision (the identity for f32).
template <typename T>
__device__ __forceinline__ float RoundAs(float f) {
  return ToF32(FromF32<T>(f));
}

// rotate_half RoPE of the pair (a, b) by an angle of cosine c and sine s, rounded to
// T. Explicit roundings (no FMA contraction) so every kernel that rotates gives the
// same bits.
template <typename T>
__device__ __forceinline__ void RotatePair(float a, float b, float c, float s, T* x, T* y) {
  *x = FromF32<T>(__fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s)));
  *y = FromF32<T>(__fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s)));
}

// silu(g) * u in f32: SiluMulKernel and the fused gate/up GEMV share it (same bits).
__device__ __forceinline__ float SiluTimes(float g, float u) { return g / (1.0f + expf(-g)) * u; }
// gelu_pytorch_tanh(g) * u, as g * sigmoid(2y) (= 0.5 g (1 + tanh y)), y = c (g + 0.044715 g^3):
// no cancellation where tanh y nears -1.
__device__ __forceinline__ float GeluTanhTimes(float g, float u) {
  return g / (1.0f + expf(-1.5957691216057308f * (g + 0.044715f * g * g * g))) * u;
}

// The two bf16 halves of a 32-bit word as f32.
__device__ __forceinline__ float LoHalf(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float HiHalf(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }

// 16-byte load that bypasses L1 allocation: weights are streamed once per step.
__device__ __forceinline__ uint4 LoadStreaming(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

// Dot product of 8 bf16 pairs packed in two 16-byte vectors, accumulated in f32.
__device__ __forceinline__ float Dot8(uint4 a, uint4 b, float acc) {
  acc = fmaf(LoHalf(a.x), LoHalf(b.x), acc);
  acc = fmaf(HiHalf(a.x), HiHalf(b.x), acc);
  acc = fmaf(LoHalf(a.y), LoHalf(b.y), acc);
  acc = fmaf(HiHalf(a.y), HiHalf(b.y), acc);
  acc = fmaf(LoHalf(a.z), LoHalf(b.z), acc);
  acc = fmaf(HiHalf(a.z), HiHalf(b.z), acc);
  acc = fmaf(LoHalf(a.w), LoHalf(b.w), acc);
  acc = fmaf(HiHalf(a.w), HiHalf(b.w), acc);
  return acc;
}

__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over a block of kThreads (a multiple of 32, at most 1024); every thread gets it.
template <int kThreads>
__device__ __forceinline__ float BlockSum(float v) {
  __shared__ float partial[kThreads / 32];
  __shared__ float total;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  v = WarpSum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float s = lane < kThreads / 32 ? partial[lane] : 0.0f;
    s = WarpSum(s);
    if (lane == 0) total = s;
  }
  __syncthreads();
  return total;
}

// Programmatic dependent launch (sm_90): kernels are launched with programmatic
// stream serialization, so kernel N+1's blocks may be scheduled while kernel N drains.
// Every kernel calls GridDependencyWait() before it reads anything an earlier kernel
// wrote and before it writes anything (only reads of weights, which no kernel writes,
// may come first: the GEMV prefetches its first weight vectors), then
// LaunchDependents() so that the next kernel can be scheduled. Without PDL (env
// AX_CUDA_PDL=0, or before sm_90) both are no-ops and launches serialize as usual.
__device__ __forceinline__ void GridDependencyWait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void LaunchDependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

inline bool PdlEnabled() {
  static const bool on = EnvSwitch("AX_CUDA_PDL", true);
  return on;
}

// AX_CUDA_GEMV_SPLIT=0 turns the split-k GEMV for narrow matrices off (A/B timing).
inline bool GemvSplitEnabled() {
  static const bool on = EnvSwitch("AX_CUDA_GEMV_SPLIT", true);
  return on;
}

// AX_CUDA_GEMV_WHOLE_ROW=0 keeps the 8-vector prefetch for short rows too (A/B timing).
inline bool GemvWholeRowEnabled() {
  static const bool on = EnvSwitch("AX_CUDA_GEMV_WHOLE_ROW", true);
  return on;
}

// kernel<<<grid, block, smem, stream>>>(args...) with the PDL attribute.
template <typename... KArgs, typename... Args>
cudaError_t Launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                   Args&&... args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = PdlEnabled() ? 1 : 0;
  return cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
}

inline unsigned Blocks(int64_t work, int64_t per_block) {
  return static_cast<unsigned>((work + per_block - 1) / per_block);
}

inline bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace ax::kernels::cuda::detail
