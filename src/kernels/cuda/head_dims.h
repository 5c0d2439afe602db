// The one head-dim dispatch point of the attention kernels compiled per head dim (the
// query-tiled kernel and the tensor-core prefill kernel): which head dims they are
// built for, and the switch from a run-time head_dim to a compile-time one. The decode
// and per-token kernels take any head dim they can hold (ElemsPerLane,
// AttentionSharedBytes). Adding a templated head dim is a line in each of the two below.
#pragma once

#include <type_traits>

namespace ax::kernels::cuda {

inline bool HasTemplatedHeadDim(int head_dim) { return head_dim == 64 || head_dim == 128; }

// f(std::integral_constant<int, HD>{}) for HD == head_dim.
// REQUIRES: HasTemplatedHeadDim(head_dim).
template <typename F>
decltype(auto) WithHeadDim(int head_dim, F&& f) {
  if (head_dim == 64) return f(std::integral_constant<int, 64>{});
  return f(std::integral_constant<int, 128>{});
}

}  // namespace ax::kernels::cuda
