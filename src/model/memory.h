// The per-layer memory description of a model and the KV cache allocated from it.
//
// Every layer says what it keeps per token (docs/kv-layout.md):
//
//   layer l ─ LayerMemory{kind, n_kv_heads, head_dim, window, k_eq_v, shares}
//     kind kPagedKv:  k, v [num_blocks, block_size, n_kv_heads, head_dim] in the
//                     cache's dtype; one tensor when k_eq_v (v is a view of k)
//     shares >= 0:    the layer owns nothing and reads layer `shares`'s cache
//                     (Gemma 4's num_kv_shared_layers); it must be an earlier layer of
//                     the same shape
//
// All paged layers are addressed by the same block table of a sequence, so prefix
// reuse, preemption and O(1) draft rollback (moving a length) work on every layer
// unchanged. A window > 0 bounds what the layer's attention reads, not yet what it
// stores: its blocks are kept for the whole context (docs/kv-layout.md says how
// windowed layers will give back blocks that left the window). The two kinds the
// next families add — a latent KV (MLA: one compressed latent + the rope part of k
// per token, paged like kPagedKv) and a per-sequence recurrent state slot (conv +
// delta state, indexed by a state slot of the ForwardBatch instead of a block table)
// — are further values of `kind` with their own fields here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace ax {

enum class LayerMemoryKind { kPagedKv };

struct LayerMemory {
  LayerMemoryKind kind = LayerMemoryKind::kPagedKv;
  int n_kv_heads = 0;
  int head_dim = 0;
  int window = 0;       // sliding window of the layer's attention (0: full)
  bool k_eq_v = false;  // one stored tensor serves as K and V
  int shares = -1;      // >= 0: reads that layer's cache and stores nothing

  // Elements stored per token (0 for a sharing layer).
  int64_t ElementsPerToken() const;
};

// The paged KV cache of every layer: layers[l] views the tensors layer l reads.
struct KvCache {
  std::vector<KvLayerView> layers;
  int num_blocks = 0;
  int block_size = 0;
  int64_t num_slots() const { return static_cast<int64_t>(num_blocks) * block_size; }
};

// Checks the description (positive sizes, `shares` names an earlier owning layer of
// the same shape); errors name the layer.
Status ValidateMemory(const std::vector<LayerMemory>& layers);

// Allocates num_blocks blocks of block_size tokens for every owning layer, in the
// backend's KV dtype. REQUIRES: ValidateMemory(layers) is ok.
Result<KvCache> AllocateKvCache(Backend& backend, const std::vector<LayerMemory>& layers, int num_blocks,
                                int block_size);

// Bytes one cached token takes over all layers.
size_t KvBytesPerToken(const std::vector<LayerMemory>& layers, DType kv_dtype);

}  // namespace ax
