// Row gathers (embedding, logit rows), RMSNorm, RoPE, SiLU-gate and the paged KV
// append. Memory-bound and small next to the matmuls: one simple kernel each, 16-byte
// accesses where the row width allows.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

using detail::Bf16ToF32;
using detail::F32ToBf16;
using detail::FromF32;
using detail::ToF32;

// out[i, :] = src[idx[i], :], one block per output row; converted when S != D (the
// bf16 embedding table into f32 activations), 16-byte copies when vec.
template <typename S, typename D>
__global__ void __launch_bounds__(128) GatherRowsKernel(const S* __restrict__ src, const int32_t* __restrict__ idx,
                                                        D* __restrict__ out, int64_t d, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = blockIdx.x;
  const int64_t r = idx[i];
  if constexpr (std::is_same_v<S, D>) {
    if (vec) {
      constexpr int64_t kPer = 16 / sizeof(S);
      const uint4* s = reinterpret_cast<const uint4*>(src + r * d);
      uint4* o = reinterpret_cast<uint4*>(out + i * d);
      for (int64_t j = threadIdx.x; j < d / kPer; j += blockDim.x) o[j] = s[j];
      return;
    }
  }
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) out[i * d + j] = detail::FromF32<D>(ToF32(src[r * d + j]));
}

template <typename S, typename D>
Status GatherRows(const S* src, const int32_t* idx, D* out, int64_t n, int64_t d, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  const bool vec = std::is_same_v<S, D> && d % static_cast<int64_t>(16 / sizeof(S)) == 0 && detail::Aligned16(src) &&
                   detail::Aligned16(out);
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(GatherRowsKernel<S, D>, dim3(static_cast<unsigned>(n)), dim3(128), 0, stream,
                                         src, idx, out, d, vec));
  return AX_CUDA_LAUNCH_STATUS("GatherRowsKernel");
}

// One block per row (wide rows the vector kernel does not serve).
template <int kThreads, typename T>
__global__ void __launch_bounds__(kThreads) RmsNormBlockKernel(RmsNormParamsT<T> p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t row = blockIdx.x;
  const T* x = p.x + row * p.d;
  T* y = p.y + row * p.d;
  float ss = 0.0f;
  for (int64_t j = threadIdx.x; j < p.d; j += kThreads) {
    const float v = ToF32(x[j]);
    ss = fmaf(v, v, ss);
  }
  ss = detail::BlockSum<kThreads>(ss);
  const float inv = rsqrtf(ss / static_cast<float>(p.d) + p.eps);
  // y may alias x: each thread rewrites only the elements it read above.
  for (int64_t j = threadIdx.x; j < p.d; j += kThreads) y[j] = FromF32<T>(ToF32(x[j]) * inv * p.w[j]);
}

// One block per row, V 8-element vectors per thread (rows of d % 8 == 0, d <= 2048·V:
// the hidden size). The row stays in registers between the sum and the scaling, and the
// weight (never written by a kernel) is loaded before the wait, so a batch-1 norm costs
// about one read of x after its producer ends.
template <int V>
__global__ void __launch_bounds__(256) RmsNormVecKernel(RmsNormParams p) {
  const int64_t row = blockIdx.x, nv = p.d / 8;
  const float4* w4 = reinterpret_cast<const float4*>(p.w);
  float4 wv[V][2];
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const int64_t j = threadIdx.x + 256 * v;
    if (j < nv) {
      wv[v][0] = w4[2 * j];
      wv[v][1] = w4[2 * j + 1];
    }
  }
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const uint4* x4 = reinterpret_cast<const uint4*>(p.x + row * p.d);
  uint4 xv[V];
  float ss = 0.0f;
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const int64_t j = threadIdx.x + 256 * v;
    if (j < nv) {
      xv[v] = x4[j];
      const uint32_t words[4] = {xv[v].x, xv[v].y, xv[v].z, xv[v].w};
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float lo = detail::LoHalf(words[q]), hi = detail::HiHalf(words[q]);
        ss = fmaf(lo, lo, ss);
        ss = fmaf(hi, hi, ss);
      }
    }
  }
  ss = detail::BlockSum<256>(ss);
  const float inv = rsqrtf(ss / static_cast<float>(p.d) + p.eps);
  // y may alias x: the row was read into registers above.
  uint4* y4 = reinterpret_cast<uint4*>(p.y + row * p.d);
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const int64_t j = threadIdx.x + 256 * v;
    if (j >= nv) continue;
    const uint32_t words[4] = {xv[v].x, xv[v].y, xv[v].z, xv[v].w};
    const float w8[8] = {wv[v][0].x, wv[v][0].y, wv[v][0].z, wv[v][0].w,
                         wv[v][1].x, wv[v][1].y, wv[v][1].z, wv[v][1].w};
    uint32_t out[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const uint32_t lo = F32ToBf16(detail::LoHalf(words[q]) * inv * w8[2 * q]);
      const uint32_t hi = F32ToBf16(detail::HiHalf(words[q]) * inv * w8[2 * q + 1]);
      out[q] = lo | (hi << 16);
    }
    y4[j] = make_uint4(out[0], out[1], out[2], out[3]);
  }
}

// One warp per row, 8 rows per block (narrow rows: per-head q/k norms).
template <typename T>
__global__ void __launch_bounds__(256) RmsNormWarpKernel(RmsNormParamsT<T> p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t row = static_cast<int64_t>(blockIdx.x) * 8 + threadIdx.x / 32;
  if (row >= p.m) return;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const T* x = p.x + row * p.d;
  T* y = p.y + row * p.d;
  float ss = 0.0f;
  for (int64_t j = lane; j < p.d; j += 32) {
    const float v = ToF32(x[j]);
    ss = fmaf(v, v, ss);
  }
  ss = detail::WarpSum(ss);
  const float inv = rsqrtf(ss / static_cast<float>(p.d) + p.eps);
  for (int64_t j = lane; j < p.d; j += 32) y[j] = FromF32<T>(ToF32(x[j]) * inv * p.w[j]);
}

// One thread per rotated pair (token, head, i < rot_dim / 2).
template <typename T>
__global__ void __launch_bounds__(256) RopeKernel(RopeParamsT<T> p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int half = p.rot_dim / 2;
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= p.n_tokens * p.n_heads * half) return;
  const int i = static_cast<int>(idx % half);
  const int64_t th = idx / half;  // token * n_heads + head
  const int64_t t = th / p.n_heads;
  const float angle = static_cast<float>(p.positions[t]) * p.inv_freq[i];
  float s, c;
  sincosf(angle, &s, &c);
  T* x = p.x + th * p.head_dim;
  const float a = ToF32(x[i]), b = ToF32(x[i + half]);
  detail::RotatePair(a, b, c, s, &x[i], &x[i + half]);
}

// One thread per 8 outputs (bf16, f % 8 == 0) or per output.
template <typename T>
__global__ void __launch_bounds__(256) SiluMulKernel(SiluMulParamsT<T> p, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if constexpr (std::is_same_v<T, uint16_t>) {
    if (vec) {
      const int64_t fv = p.f / 8;
      if (idx >= p.m * fv) return;
      const int64_t row = idx / fv, j = idx % fv;
      const uint4 g = reinterpret_cast<const uint4*>(p.gate_up + row * 2 * p.f)[j];
      const uint4 u = reinterpret_cast<const uint4*>(p.gate_up + row * 2 * p.f + p.f)[j];
      const uint32_t gw[4] = {g.x, g.y, g.z, g.w}, uw[4] = {u.x, u.y, u.z, u.w};
      uint32_t ow[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float gl = detail::LoHalf(gw[q]), ul = detail::LoHalf(uw[q]);
        const float gh = detail::HiHalf(gw[q]), uh = detail::HiHalf(uw[q]);
        const uint32_t lo = F32ToBf16(p.gelu ? detail::GeluTanhTimes(gl, ul) : detail::SiluTimes(gl, ul));
        const uint32_t hi = F32ToBf16(p.gelu ? detail::GeluTanhTimes(gh, uh) : detail::SiluTimes(gh, uh));
        ow[q] = lo | (hi << 16);
      }
      reinterpret_cast<uint4*>(p.out + row * p.f)[j] = make_uint4(ow[0], ow[1], ow[2], ow[3]);
      return;
    }
  }
  if (idx >= p.m * p.f) return;
  const int64_t row = idx / p.f, j = idx % p.f;
  const T* g = p.gate_up + row * (p.up ? p.gate_stride : 2 * p.f);
  const T* u = p.up ? p.up + row * p.up_stride : g + p.f;
  const float gv = ToF32(g[j]), uv = ToF32(u[j]);
  p.out[idx] = FromF32<T>(p.gelu ? detail::GeluTanhTimes(gv, uv) : detail::SiluTimes(gv, uv));
}

// One thread per 16 bytes (row a multiple of them) or per element of k and v.
template <typename T>
__global__ void __launch_bounds__(256) KvWriteKernel(KvWriteParamsT<T> p, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  constexpr int64_t kPer = 16 / sizeof(T);
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t per_row = vec ? p.row / kPer : p.row;
  if (idx >= p.n_tokens * per_row) return;
  const int64_t t = idx / per_row, j = idx % per_row;
  const int64_t slot = p.slot_mapping[t];
  if (slot < 0) return;  // padding token
  if (vec) {
    reinterpret_cast<uint4*>(p.k_cache + slot * p.row)[j] = reinterpret_cast<const uint4*>(p.k + t * p.row)[j];
    reinterpret_cast<uint4*>(p.v_cache + slot * p.row)[j] = reinterpret_cast<const uint4*>(p.v + t * p.row)[j];
  } else {
    p.k_cache[slot * p.row + j] = p.k[t * p.row + j];
    p.v_cache[slot * p.row + j] = p.v[t * p.row + j];
  }
}

}  // namespace

template <typename T>
Status LaunchEmbedding(const EmbeddingParamsT<T>& p, cudaStream_t stream) {
  return GatherRows(p.table, p.ids, p.out, p.n, p.d, stream);
}

template <typename T>
Status LaunchGatherRows(const GatherRowsParamsT<T>& p, cudaStream_t stream) {
  return GatherRows(p.x, p.rows, p.out, p.n_rows, p.d, stream);
}

template <typename T>
Status LaunchRmsNorm(const RmsNormParamsT<T>& p, cudaStream_t stream) {
  if (p.m == 0) return Status::Ok();
  constexpr bool kBf16 = std::is_same_v<T, uint16_t>;
  if (p.d <= 256) {
    AX_CUDA_RETURN_IF_ERROR(
        detail::Launch(RmsNormWarpKernel<T>, dim3(detail::Blocks(p.m, 8)), dim3(256), 0, stream, p));
  } else if (kBf16 && p.d % 8 == 0 && p.d <= 256 * 8 * 4 && detail::Aligned16(p.x) && detail::Aligned16(p.y) &&
             detail::Aligned16(p.w)) {
    if constexpr (kBf16) {
      const dim3 grid(static_cast<unsigned>(p.m));
      const int64_t nv = p.d / 8;
      AX_CUDA_RETURN_IF_ERROR(nv <= 256   ? detail::Launch(RmsNormVecKernel<1>, grid, dim3(256), 0, stream, p)
                              : nv <= 512 ? detail::Launch(RmsNormVecKernel<2>, grid, dim3(256), 0, stream, p)
                                          : detail::Launch(RmsNormVecKernel<4>, grid, dim3(256), 0, stream, p));
    }
  } else {
    AX_CUDA_RETURN_IF_ERROR(
        detail::Launch(RmsNormBlockKernel<256, T>, dim3(static_cast<unsigned>(p.m)), dim3(256), 0, stream, p));
  }
  return AX_CUDA_LAUNCH_STATUS("RmsNormKernel");
}

template <typename T>
Status LaunchRope(const RopeParamsT<T>& p, cudaStream_t stream) {
  const int64_t total = p.n_tokens * p.n_heads * (p.rot_dim / 2);
  if (total == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(RopeKernel<T>, dim3(detail::Blocks(total, 256)), dim3(256), 0, stream, p));
  return AX_CUDA_LAUNCH_STATUS("RopeKernel");
}

template <typename T>
Status LaunchSiluMul(const SiluMulParamsT<T>& p, cudaStream_t stream) {
  const bool vec =
      std::is_same_v<T, uint16_t> && p.up == nullptr && p.f % 8 == 0 && detail::Aligned16(p.gate_up) &&
      detail::Aligned16(p.out);
  const int64_t total = p.m * (vec ? p.f / 8 : p.f);
  if (total == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(SiluMulKernel<T>, dim3(detail::Blocks(total, 256)), dim3(256), 0, stream, p, vec));
  return AX_CUDA_LAUNCH_STATUS("SiluMulKernel");
}

template <typename T>
Status LaunchKvWrite(const KvWriteParamsT<T>& p, cudaStream_t stream) {
  constexpr int64_t kPer = 16 / sizeof(T);
  const bool vec = p.row % kPer == 0 && detail::Aligned16(p.k) && detail::Aligned16(p.v) &&
                   detail::Aligned16(p.k_cache) && detail::Aligned16(p.v_cache);
  const int64_t total = p.n_tokens * (vec ? p.row / kPer : p.row);
  if (total == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(KvWriteKernel<T>, dim3(detail::Blocks(total, 256)), dim3(256), 0, stream, p, vec));
  return AX_CUDA_LAUNCH_STATUS("KvWriteKernel");
}

// hi = bf16(x), lo = bf16(x - hi), one thread per element.
__global__ void __launch_bounds__(256) SplitBf16Kernel(const float* __restrict__ x, int64_t n,
                                                       uint16_t* __restrict__ hi, uint16_t* __restrict__ lo) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  const uint16_t h = F32ToBf16(v);
  hi[i] = h;
  lo[i] = F32ToBf16(__fsub_rn(v, Bf16ToF32(h)));
}

Status LaunchSplitBf16(const float* x, int64_t n, bf16_bits* hi, bf16_bits* lo, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(SplitBf16Kernel, dim3(detail::Blocks(n, 256)), dim3(256), 0, stream, x, n, hi, lo));
  return AX_CUDA_LAUNCH_STATUS("SplitBf16Kernel");
}

#define AX_ELEMENTWISE_INSTANTIATE(T)                                                   \
  template Status LaunchEmbedding<T>(const EmbeddingParamsT<T>&, cudaStream_t);         \
  template Status LaunchGatherRows<T>(const GatherRowsParamsT<T>&, cudaStream_t);       \
  template Status LaunchRmsNorm<T>(const RmsNormParamsT<T>&, cudaStream_t);             \
  template Status LaunchRope<T>(const RopeParamsT<T>&, cudaStream_t);                   \
  template Status LaunchSiluMul<T>(const SiluMulParamsT<T>&, cudaStream_t);             \
  template Status LaunchKvWrite<T>(const KvWriteParamsT<T>&, cudaStream_t);
AX_ELEMENTWISE_INSTANTIATE(bf16_bits)
AX_ELEMENTWISE_INSTANTIATE(float)
#undef AX_ELEMENTWISE_INSTANTIATE

}  // namespace ax::kernels::cuda
