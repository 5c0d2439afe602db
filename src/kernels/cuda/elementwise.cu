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

// out[i, :] = src[idx[i], :], one block per output row.
__global__ void __launch_bounds__(128) GatherRowsKernel(const uint16_t* __restrict__ src,
                                                        const int32_t* __restrict__ idx,
                                                        uint16_t* __restrict__ out, int64_t d, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = blockIdx.x;
  const int64_t r = idx[i];
  if (vec) {
    const uint4* s = reinterpret_cast<const uint4*>(src + r * d);
    uint4* o = reinterpret_cast<uint4*>(out + i * d);
    for (int64_t j = threadIdx.x; j < d / 8; j += blockDim.x) o[j] = s[j];
  } else {
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) out[i * d + j] = src[r * d + j];
  }
}

Status GatherRows(const uint16_t* src, const int32_t* idx, uint16_t* out, int64_t n, int64_t d,
                  cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  const bool vec = d % 8 == 0 && detail::Aligned16(src) && detail::Aligned16(out);
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(GatherRowsKernel, dim3(static_cast<unsigned>(n)), dim3(128), 0, stream, src,
                                         idx, out, d, vec));
  return AX_CUDA_LAUNCH_STATUS("GatherRowsKernel");
}

// One block per row (wide rows the vector kernel does not serve).
template <int kThreads>
__global__ void __launch_bounds__(kThreads) RmsNormBlockKernel(RmsNormParams p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t row = blockIdx.x;
  const uint16_t* x = p.x + row * p.d;
  uint16_t* y = p.y + row * p.d;
  float ss = 0.0f;
  for (int64_t j = threadIdx.x; j < p.d; j += kThreads) {
    const float v = Bf16ToF32(x[j]);
    ss = fmaf(v, v, ss);
  }
  ss = detail::BlockSum<kThreads>(ss);
  const float inv = rsqrtf(ss / static_cast<float>(p.d) + p.eps);
  // y may alias x: each thread rewrites only the elements it read above.
  for (int64_t j = threadIdx.x; j < p.d; j += kThreads) y[j] = F32ToBf16(Bf16ToF32(x[j]) * inv * p.w[j]);
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
__global__ void __launch_bounds__(256) RmsNormWarpKernel(RmsNormParams p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t row = static_cast<int64_t>(blockIdx.x) * 8 + threadIdx.x / 32;
  if (row >= p.m) return;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const uint16_t* x = p.x + row * p.d;
  uint16_t* y = p.y + row * p.d;
  float ss = 0.0f;
  for (int64_t j = lane; j < p.d; j += 32) {
    const float v = Bf16ToF32(x[j]);
    ss = fmaf(v, v, ss);
  }
  ss = detail::WarpSum(ss);
  const float inv = rsqrtf(ss / static_cast<float>(p.d) + p.eps);
  for (int64_t j = lane; j < p.d; j += 32) y[j] = F32ToBf16(Bf16ToF32(x[j]) * inv * p.w[j]);
}

// One thread per rotated pair (token, head, i < rot_dim / 2).
__global__ void __launch_bounds__(256) RopeKernel(RopeParams p) {
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
  uint16_t* x = p.x + th * p.head_dim;
  const float a = Bf16ToF32(x[i]), b = Bf16ToF32(x[i + half]);
  detail::RotatePair(a, b, c, s, &x[i], &x[i + half]);
}

// One thread per 8 outputs (f % 8 == 0) or per output.
__global__ void __launch_bounds__(256) SiluMulKernel(SiluMulParams p, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
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
      const uint32_t lo = F32ToBf16(detail::SiluTimes(detail::LoHalf(gw[q]), detail::LoHalf(uw[q])));
      const uint32_t hi = F32ToBf16(detail::SiluTimes(detail::HiHalf(gw[q]), detail::HiHalf(uw[q])));
      ow[q] = lo | (hi << 16);
    }
    reinterpret_cast<uint4*>(p.out + row * p.f)[j] = make_uint4(ow[0], ow[1], ow[2], ow[3]);
  } else {
    if (idx >= p.m * p.f) return;
    const int64_t row = idx / p.f, j = idx % p.f;
    const uint16_t* g = p.gate_up + row * 2 * p.f;
    p.out[idx] = F32ToBf16(detail::SiluTimes(Bf16ToF32(g[j]), Bf16ToF32(g[p.f + j])));
  }
}

// One thread per 8 elements (row % 8 == 0) or per element of k and v.
__global__ void __launch_bounds__(256) KvWriteKernel(KvWriteParams p, bool vec) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t per_row = vec ? p.row / 8 : p.row;
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

Status LaunchEmbedding(const EmbeddingParams& p, cudaStream_t stream) {
  return GatherRows(p.table, p.ids, p.out, p.n, p.d, stream);
}

Status LaunchGatherRows(const GatherRowsParams& p, cudaStream_t stream) {
  return GatherRows(p.x, p.rows, p.out, p.n_rows, p.d, stream);
}

Status LaunchRmsNorm(const RmsNormParams& p, cudaStream_t stream) {
  if (p.m == 0) return Status::Ok();
  if (p.d <= 256) {
    AX_CUDA_RETURN_IF_ERROR(detail::Launch(RmsNormWarpKernel, dim3(detail::Blocks(p.m, 8)), dim3(256), 0, stream, p));
  } else if (p.d % 8 == 0 && p.d <= 256 * 8 * 4 && detail::Aligned16(p.x) && detail::Aligned16(p.y) &&
             detail::Aligned16(p.w)) {
    const dim3 grid(static_cast<unsigned>(p.m));
    const int64_t nv = p.d / 8;
    AX_CUDA_RETURN_IF_ERROR(nv <= 256   ? detail::Launch(RmsNormVecKernel<1>, grid, dim3(256), 0, stream, p)
                            : nv <= 512 ? detail::Launch(RmsNormVecKernel<2>, grid, dim3(256), 0, stream, p)
                                        : detail::Launch(RmsNormVecKernel<4>, grid, dim3(256), 0, stream, p));
  } else {
    AX_CUDA_RETURN_IF_ERROR(
        detail::Launch(RmsNormBlockKernel<256>, dim3(static_cast<unsigned>(p.m)), dim3(256), 0, stream, p));
  }
  return AX_CUDA_LAUNCH_STATUS("RmsNormKernel");
}

Status LaunchRope(const RopeParams& p, cudaStream_t stream) {
  const int64_t total = p.n_tokens * p.n_heads * (p.rot_dim / 2);
  if (total == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(RopeKernel, dim3(detail::Blocks(total, 256)), dim3(256), 0, stream, p));
  return AX_CUDA_LAUNCH_STATUS("RopeKernel");
}

Status LaunchSiluMul(const SiluMulParams& p, cudaStream_t stream) {
  const bool vec = p.f % 8 == 0 && detail::Aligned16(p.gate_up) && detail::Aligned16(p.out);
  const int64_t total = p.m * (vec ? p.f / 8 : p.f);
  if (total == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(SiluMulKernel, dim3(detail::Blocks(total, 256)), dim3(256), 0, stream, p, vec));
  return AX_CUDA_LAUNCH_STATUS("SiluMulKernel");
}

Status LaunchKvWrite(const KvWriteParams& p, cudaStream_t stream) {
  const bool vec = p.row % 8 == 0 && detail::Aligned16(p.k) && detail::Aligned16(p.v) &&
                   detail::Aligned16(p.k_cache) && detail::Aligned16(p.v_cache);
  const int64_t total = p.n_tokens * (vec ? p.row / 8 : p.row);
  if (total == 0) return Status::Ok();
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(KvWriteKernel, dim3(detail::Blocks(total, 256)), dim3(256), 0, stream, p, vec));
  return AX_CUDA_LAUNCH_STATUS("KvWriteKernel");
}

}  // namespace ax::kernels::cuda
