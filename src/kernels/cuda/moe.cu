// Mixture-of-experts routing and experts (contracts: RouteParams and MoeParams in
// kernels/params.h; launchers in kernels.h).
//
// Routing: one thread per row, the reference's algorithm in double (softmax or sigmoid,
// the k best by probability with the lowest expert id on ties, renormalised and scaled),
// so the ids and weights are the CPU backend's.
//
// Experts, per (row r, rank j) with e = ids[r, j]: every row reads its own experts'
// weight rows through the GEMV's warp dot (gemv_row.cuh), so a row's bits depend on its
// own x, ids and weights only, never on which rows share an expert (batch invariance for
// prompt and generated rows alike):
//   gate/up:  act[r·k + j, i] = act(gate_e[i] · x[r]) · (up_e[i] · x[r])    [n·k, inter]
//   down:     out[r, h] = Σ_j w[r, j] · (down_e[h] · act[r·k + j])   (j in rank order)
// A batch-1 decode step reads only the k routed experts. Rows that share an expert read
// its weights once each (through L2 when it holds them).
//
// Prompt rows, grouped per expert by the backend (it reads the router's ids back: prompt
// steps are never recorded): MoeGather copies each expert's rows together, the
// backend's prompt GEMM (one algorithm per shape, so a row's bits do not depend on how
// many rows share its expert) runs gate/up, the activation and down per expert into
// y [slots, hidden] f32, and MoeCombine adds a row's k results in rank order.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemv_row.cuh"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {
namespace {

constexpr int kMaxRouteExperts = 512;  // per-thread probabilities live in local memory
constexpr int kMaxRouteTopK = 32;

__global__ void __launch_bounds__(64) RouteKernel(RouteParams p) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= p.n) return;
  const int E = p.num_experts;
  const float* l = p.logits + r * E;
  double prob[kMaxRouteExperts];
  double mx = -INFINITY, sum = 0.0;
  for (int e = 0; e < E; ++e) mx = fmax(mx, static_cast<double>(l[e]));
  for (int e = 0; e < E; ++e) {
    prob[e] = p.softmax ? exp(l[e] - mx) : 1.0 / (1.0 + exp(-static_cast<double>(l[e])));
    sum += prob[e];
  }
  if (p.softmax)
    for (int e = 0; e < E; ++e) prob[e] /= sum;
  // Selection: the j-th pick is the best not yet taken, lowest id on ties (a stable
  // descending sort's order). Taken entries are marked -1 (probabilities are >= 0).
  double picked[kMaxRouteTopK];
  double top = 0.0;
  for (int j = 0; j < p.k; ++j) {
    int best = 0;
    for (int e = 1; e < E; ++e) best = prob[e] > prob[best] ? e : best;
    p.ids[r * p.k + j] = best;
    picked[j] = prob[best];
    top += prob[best];
    prob[best] = -1.0;
  }
  for (int j = 0; j < p.k; ++j) {
    double w = p.normalize ? picked[j] / top : picked[j];
    if (p.per_expert_scale != nullptr) w *= p.per_expert_scale[p.ids[r * p.k + j]];
    p.weights[r * p.k + j] = static_cast<float>(w * p.scale);
  }
}

template <typename T>
__device__ __forceinline__ float ActTimes(GateAct act, float g, float u) {
  g = detail::RoundAs<T>(g);
  u = detail::RoundAs<T>(u);
  return act == GateAct::kSilu ? detail::SiluTimes(g, u) : detail::GeluTanhTimes(g, u);
}

// Block (b, r·k + j) of 8 warps: warps 0-3 take gate rows 4b..4b+3 of expert e, warps
// 4-7 the matching up rows; the block writes four activations. REQUIRES inter % 4 == 0,
// hidden % 8 == 0.
template <typename T>
__global__ void __launch_bounds__(256) MoeGateUpKernel(MoeExpertsParamsT<T> p) {
  __shared__ float s[8];
  detail::GridDependencyWait();  // ids come from the router, x from the norm before it
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t slot = blockIdx.y;  // r * k + j
  const int64_t r = slot / p.k, e = p.ids[slot];
  const int64_t I = p.inter, H = p.hidden;
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * 4;
  const int64_t row = e * 2 * I + (warp < 4 ? 0 : I) + i0 + warp % 4;
  float acc[1];
  detail::WarpRowDot<1, 4>(p.x + r * H, reinterpret_cast<const uint4*>(p.gate_up + row * H), H / 8, lane, true, acc);
  if (lane == 0) s[warp] = acc[0];
  __syncthreads();
  if (threadIdx.x < 4) {
    const int i = static_cast<int>(threadIdx.x);
    p.act[slot * I + i0 + i] = detail::FromF32<T>(ActTimes<T>(p.act_kind, s[i], s[4 + i]));
  }
}

// Block (b, r) of 8 warps: warp w takes output h = 8b + w of row r, over the row's k
// experts in rank order. REQUIRES inter % 8 == 0.
template <typename T>
__global__ void __launch_bounds__(256) MoeDownKernel(MoeExpertsParamsT<T> p) {
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int64_t r = blockIdx.y, h = static_cast<int64_t>(blockIdx.x) * 8 + warp;
  const int64_t I = p.inter, H = p.hidden;
  detail::GridDependencyWait();
  if (h >= H) return;
  float out = 0.0f;
  for (int j = 0; j < p.k; ++j) {
    const int64_t slot = r * p.k + j, e = p.ids[slot];
    float acc[1];
    detail::WarpRowDot<1, 4>(p.act + slot * I, reinterpret_cast<const uint4*>(p.down + (e * H + h) * I), I / 8, lane,
                             true, acc);
    out = fmaf(p.weights[slot], acc[0], out);
  }
  if (lane == 0) p.out[r * H + h] = detail::FromF32<T>(out);
}

// xg[i, :] = x[order[i] / k, :]: the prompt rows of each expert, gathered.
template <typename T>
__global__ void __launch_bounds__(256) MoeGatherKernel(const T* __restrict__ x, const int32_t* __restrict__ order,
                                                      int k, int64_t hidden, T* __restrict__ xg) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t i = blockIdx.y, src = order[i] / k;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < hidden;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x)
    xg[i * hidden + c] = x[src * hidden + c];
}

// out[r, h] = Σ_j w[r, j] · y[inv[r·k + j], h], j in rank order (as MoeDownKernel sums).
template <typename T>
__global__ void __launch_bounds__(256) MoeCombineKernel(const float* __restrict__ y, const int32_t* __restrict__ inv,
                                                       const float* __restrict__ weights, int k, int64_t hidden,
                                                       T* __restrict__ out) {
  detail::GridDependencyWait();
  detail::LaunchDependents();
  const int64_t r = blockIdx.y;
  for (int64_t h = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; h < hidden;
       h += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j < k; ++j) acc = fmaf(weights[r * k + j], y[inv[r * k + j] * hidden + h], acc);
    out[r * hidden + h] = detail::FromF32<T>(acc);
  }
}

}  // namespace

namespace {

// A grid's y extent: one (row, rank) slot per block row.
constexpr int64_t kMaxGridY = 65535;
Status CheckSlots(int64_t slots, const char* what) {
  if (slots <= kMaxGridY) return Status::Ok();
  return InvalidArgument(std::string(what) + ": " + std::to_string(slots) +
                         " routed (row, expert) pairs in one step, at most " + std::to_string(kMaxGridY) +
                         " (lower max_batch_tokens)");
}

}  // namespace

template <typename T>
Status LaunchMoeGather(const T* x, const int32_t* order, int64_t slots, int k, int64_t hidden, T* xg,
                       cudaStream_t stream) {
  if (slots == 0) return Status::Ok();
  AX_RETURN_IF_ERROR(CheckSlots(slots, "LaunchMoeGather"));
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(detail::Blocks(hidden, 256), 8)),
                  static_cast<unsigned>(slots));
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(MoeGatherKernel<T>, grid, dim3(256), 0, stream, x, order, k, hidden, xg));
  return AX_CUDA_LAUNCH_STATUS("MoeGatherKernel");
}

template <typename T>
Status LaunchMoeCombine(const float* y, const int32_t* inv, const float* weights, int64_t n, int k, int64_t hidden,
                        T* out, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(detail::Blocks(hidden, 256), 8)), static_cast<unsigned>(n));
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(MoeCombineKernel<T>, grid, dim3(256), 0, stream, y, inv, weights, k, hidden, out));
  return AX_CUDA_LAUNCH_STATUS("MoeCombineKernel");
}

bool RouteSupports(int num_experts, int k) {
  return num_experts >= 1 && num_experts <= kMaxRouteExperts && k >= 1 && k <= num_experts && k <= kMaxRouteTopK;
}

Status LaunchRoute(const RouteParams& p, cudaStream_t stream) {
  if (p.n == 0) return Status::Ok();
  if (!RouteSupports(p.num_experts, p.k))
    return InvalidArgument("LaunchRoute: top " + std::to_string(p.k) + " of " + std::to_string(p.num_experts) +
                           " experts (at most " + std::to_string(kMaxRouteTopK) + " of " +
                           std::to_string(kMaxRouteExperts) + ")");
  AX_CUDA_RETURN_IF_ERROR(
      detail::Launch(RouteKernel, dim3(static_cast<unsigned>((p.n + 63) / 64)), dim3(64), 0, stream, p));
  return AX_CUDA_LAUNCH_STATUS("RouteKernel");
}

bool MoeExpertsSupports(int64_t hidden, int64_t inter) {
  return hidden > 0 && hidden % 8 == 0 && inter > 0 && inter % 8 == 0;
}

template <typename T>
Status LaunchMoeExperts(const MoeExpertsParamsT<T>& p, cudaStream_t stream) {
  if (p.n == 0) return Status::Ok();
  if (!MoeExpertsSupports(p.hidden, p.inter) || p.k < 1 || !detail::Aligned16(p.x) || !detail::Aligned16(p.act) ||
      !detail::Aligned16(p.gate_up) || !detail::Aligned16(p.down))
    return InvalidArgument("LaunchMoeExperts: hidden and inter must be multiples of 8, pointers 16-byte aligned");
  AX_RETURN_IF_ERROR(CheckSlots(p.n * p.k, "LaunchMoeExperts"));
  const unsigned slots = static_cast<unsigned>(p.n * p.k);
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(MoeGateUpKernel<T>, dim3(static_cast<unsigned>(p.inter / 4), slots),
                                         dim3(256), 0, stream, p));
  AX_RETURN_IF_ERROR(AX_CUDA_LAUNCH_STATUS("MoeGateUpKernel"));
  AX_CUDA_RETURN_IF_ERROR(detail::Launch(MoeDownKernel<T>,
                                         dim3(static_cast<unsigned>(detail::Blocks(p.hidden, 8)),
                                              static_cast<unsigned>(p.n)),
                                         dim3(256), 0, stream, p));
  return AX_CUDA_LAUNCH_STATUS("MoeDownKernel");
}
#define AX_MOE_INSTANTIATE(T)                                                                                  \
  template Status LaunchMoeExperts<T>(const MoeExpertsParamsT<T>&, cudaStream_t);                               \
  template Status LaunchMoeGather<T>(const T*, const int32_t*, int64_t, int, int64_t, T*, cudaStream_t);        \
  template Status LaunchMoeCombine<T>(const float*, const int32_t*, const float*, int64_t, int, int64_t, T*, \
                                      cudaStream_t);
AX_MOE_INSTANTIATE(bf16_bits)
AX_MOE_INSTANTIATE(float)
#undef AX_MOE_INSTANTIATE

}  // namespace ax::kernels::cuda
