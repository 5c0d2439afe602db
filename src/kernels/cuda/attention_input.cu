// The attention input of one layer, fused: q/k per-head RMSNorm, RoPE and the KV
// append, one warp per head. Replaces five launches per layer (q-norm, k-norm, RoPE of
// q and of k, KV write) with one; the arithmetic and its order are those of the
// separate kernels in elementwise.cu, so both paths give the same bits.
//
// Lane l holds elements j = l + 32·i (i < head_dim / 32) of its head: the RMSNorm sum
// runs in the same order as RmsNormWarpKernel, and with head_dim a multiple of 64 the
// rotate_half partner j + head_dim/2 sits in the same lane, so RoPE needs no shuffle.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kHeadsPerBlock = 4;

// One warp per (token, head) of the nq + nkv heads; grid (n_tokens, heads / 4).
template <int N, typename T>  // N = head_dim / 32 elements per lane
__global__ void __launch_bounds__(32 * kHeadsPerBlock) QkNormRopeKvKernel(QkNormRopeKvParamsT<T> p) {
  const int64_t t = blockIdx.x;
  const int head = static_cast<int>(blockIdx.y) * kHeadsPerBlock + static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  if (head >= p.n_heads + p.n_kv_heads) return;
  const bool is_q = head < p.n_heads;
  const int kvh = head - p.n_heads;
  const int hd = 32 * N;
  // Before the wait: what no kernel of this forward writes (the norm weight, staged
  // positions and slots) and the RoPE angles, whose sincosf is most of this kernel's
  // instructions; it then overlaps the tail of the projection that produces q and k.
  const float* w = is_q ? p.q_norm : p.k_norm;
  float wn[N];
#pragma unroll
  for (int i = 0; i < N; ++i) wn[i] = w != nullptr ? w[lane + 32 * i] : 0.0f;
  const float pos = static_cast<float>(p.positions[t]);
  float sn[N / 2], cs[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) sincosf(pos * p.inv_freq[lane + 32 * i], &sn[i], &cs[i]);
  const int64_t slot = is_q ? -1 : p.slot_mapping[t];
  detail::GridDependencyWait();
  detail::LaunchDependents();

  T* x = is_q ? p.q + (t * p.n_heads + head) * hd : p.k + (t * p.n_kv_heads + kvh) * hd;
  float v[N];
#pragma unroll
  for (int i = 0; i < N; ++i) v[i] = detail::ToF32(x[lane + 32 * i]);
  if (w != nullptr) {
    float ss = 0.0f;
#pragma unroll
    for (int i = 0; i < N; ++i) ss = fmaf(v[i], v[i], ss);
    ss = detail::WarpSum(ss);
    const float inv = rsqrtf(ss / static_cast<float>(hd) + p.eps);
#pragma unroll
    for (int i = 0; i < N; ++i) v[i] = detail::RoundAs<T>(v[i] * inv * wn[i]);
  }
  T out[N];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) detail::RotatePair(v[i], v[i + N / 2], cs[i], sn[i], &out[i], &out[i + N / 2]);
#pragma unroll
  for (int i = 0; i < N; ++i) x[lane + 32 * i] = out[i];
  if (slot < 0) return;  // a q head, or a padding token
  const int64_t cache_off = (slot * p.n_kv_heads + kvh) * hd;
  const T* vr = p.v + (t * p.n_kv_heads + kvh) * hd;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    p.k_cache[cache_off + lane + 32 * i] = out[i];
    p.v_cache[cache_off + lane + 32 * i] = vr[lane + 32 * i];
  }
}

}  // namespace

template <typename T>
Status LaunchQkNormRopeKv(const QkNormRopeKvParamsT<T>& p, cudaStream_t stream) {
  if (p.n_tokens == 0) return Status::Ok();
  if (!QkNormRopeKvSupports(p.head_dim, p.head_dim)) return InvalidArgument("LaunchQkNormRopeKv: unsupported head_dim");
  const dim3 grid(static_cast<unsigned>(p.n_tokens),
                  static_cast<unsigned>((p.n_heads + p.n_kv_heads + kHeadsPerBlock - 1) / kHeadsPerBlock));
  const dim3 block(32 * kHeadsPerBlock);
  switch (p.head_dim / 32) {
    case 2: AX_CUDA_RETURN_IF_ERROR(detail::Launch(QkNormRopeKvKernel<2, T>, grid, block, 0, stream, p)); break;
    case 4: AX_CUDA_RETURN_IF_ERROR(detail::Launch(QkNormRopeKvKernel<4, T>, grid, block, 0, stream, p)); break;
    case 6: AX_CUDA_RETURN_IF_ERROR(detail::Launch(QkNormRopeKvKernel<6, T>, grid, block, 0, stream, p)); break;
    default: AX_CUDA_RETURN_IF_ERROR(detail::Launch(QkNormRopeKvKernel<8, T>, grid, block, 0, stream, p));
  }
  return AX_CUDA_LAUNCH_STATUS("QkNormRopeKvKernel");
}
template Status LaunchQkNormRopeKv<bf16_bits>(const QkNormRopeKvParamsT<bf16_bits>&, cudaStream_t);
template Status LaunchQkNormRopeKv<float>(const QkNormRopeKvParamsT<float>&, cudaStream_t);

}  // namespace ax::kernels::cuda
