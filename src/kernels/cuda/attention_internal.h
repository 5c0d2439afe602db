// Shared between attention.cu (the per-token kernel, the split-K merge, the public
// launcher) and attention_tiled.cu (the query-tiled kernel). Internal to this folder.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "ax/status.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {

size_t AttentionTiledSharedBytes(int head_dim);
Status AttentionTiledInit();
// The first pass only: with p.n_splits > 1 the caller merges the partials. T: bf16_bits
// or float (instantiated in attention_tiled.cu).
template <typename T>
Status LaunchAttentionTiled(const AttentionParamsT<T>& p, cudaStream_t stream);

}  // namespace ax::kernels::cuda
