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
// KV groups: the paged layers of one window form a group; each group has its own
// block pool (tensors [group's num_blocks, block_size, ...]) and each sequence one
// block table per group, so a windowed group's storage is sized by its window and
// its blocks behind the window go back to its pool (src/kv/kv_manager.h). A layer
// finds its group's table through KvLayerView::group. A cache of one full group
// (window 0) addresses every layer with one table and keeps every block, windowed
// layers included (what release off means). Prefix reuse, preemption and O(1) draft
// rollback (moving a length) work on every group alike.
//
//   kind kRecurrent: a GatedDelta layer (Qwen3-Next / Qwen3.5 linear_attention). It
//                    keeps nothing per token and belongs to no KV group: one state per
//                    state slot, f32 — conv_state [slots, conv_dim, conv_kernel - 1]
//                    and delta_state [slots, state_heads, state_k, state_v] — named per
//                    sequence by ForwardBatch::state_slots. A sequence whose chunk
//                    starts at position 0 starts from zero state, so a new, reused or
//                    preempted-and-recomputed slot needs no clearing. Such a state
//                    cannot be rebuilt from blocks (the engine takes no prefix hit for
//                    models with recurrent layers) nor rolled back by moving a length:
//                    a draft verification keeps the state after each row in the slot's
//                    checkpoints (KvCache::state_checkpoints) and a rejection copies
//                    the accepted row's back (Model::RestoreState; docs/kv-layout.md).
//
//   kind kLatent:    a multi-head latent attention layer (MLA: GLM-4.7-Flash). Per token
//                    one row of latent_dim + rope_dim elements in the cache's dtype —
//                    the normalised kv latent, then the roped key part every head shares:
//                    k [num_blocks, block_size, latent_dim + rope_dim] (v views k). It is
//                    paged like kPagedKv (a layer of the full group: its block tables,
//                    slots, prefix reuse, preemption and O(1) rollback are any paged
//                    layer's); only its row and the attention that reads it differ.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace ax {

enum class LayerMemoryKind { kPagedKv, kRecurrent, kLatent };

struct LayerMemory {
  LayerMemoryKind kind = LayerMemoryKind::kPagedKv;
  int n_kv_heads = 0;
  int head_dim = 0;
  int window = 0;       // sliding window of the layer's attention (0: full)
  bool k_eq_v = false;  // one stored tensor serves as K and V
  int shares = -1;      // >= 0: reads that layer's cache and stores nothing
  // kRecurrent only: the conv's channels and kernel, the delta state's heads and dims.
  int64_t conv_dim = 0;
  int conv_kernel = 0;
  int state_heads = 0, state_k = 0, state_v = 0;
  // kLatent only: the kv latent's and the shared rope key's widths per token.
  int latent_dim = 0, rope_dim = 0;

  // Elements stored per token (0 for a sharing or recurrent layer).
  int64_t ElementsPerToken() const;
  // f32 elements of one state slot (0 but for a recurrent layer).
  int64_t StateElements() const;
};

// One KV group of a cache: the layers of `window` (0: full attention), one block
// table per sequence, a pool of num_blocks blocks.
struct KvGroup {
  int window = 0;
  int num_blocks = 0;
  int64_t num_slots(int block_size) const { return static_cast<int64_t>(num_blocks) * block_size; }
};

// The paged KV cache of every layer: layers[l] views the tensors layer l reads, and
// layers[l].group indexes `groups` (and a ForwardBatch's tables of that group).
struct KvCache {
  std::vector<KvLayerView> layers;
  std::vector<KvGroup> groups;
  int block_size = 0;
  int num_state_slots = 0;    // recurrent layers' state slots (0: the model has none)
  int state_checkpoints = 0;  // per slot: the states after each row but the last of a verified draft chunk
};

// Whether any layer is kRecurrent (its model needs state slots, no prefix hits, no drafts).
bool HasRecurrentLayers(const std::vector<LayerMemory>& layers);

// Checks the description (positive sizes, `shares` names an earlier owning layer of
// the same shape and window); errors name the layer.
Status ValidateMemory(const std::vector<LayerMemory>& layers);

// The KV groups' windows: with release_windows, each distinct window of the owning
// layers, 0 (full) first, then ascending; without, {0}: one full group that keeps
// every block of every layer.
std::vector<int> KvGroupWindows(const std::vector<LayerMemory>& layers, bool release_windows);

// The group a layer of `window` uses among `windows`: its own window's, else the full
// group's (which keeps every block); -1 when neither exists.
int KvGroupOf(const std::vector<int>& windows, int window);

// Bytes one token takes in each group's owning layers (windows as KvGroupWindows gives).
std::vector<size_t> KvGroupBytesPerToken(const std::vector<LayerMemory>& layers, const std::vector<int>& windows,
                                         DType kv_dtype);

// Allocates each group's num_blocks blocks of block_size tokens for every owning layer
// of the group, in the backend's KV dtype, and state_slots states of every recurrent
// layer (f32, uninitialised: a sequence's chunk at position 0 clears its slot); errors name a layer that has no group,
// and a model with recurrent layers given no state slot; with state_checkpoints, that many checkpoints of every slot's
// state (draft verification keeps the state after each row). REQUIRES: ValidateMemory(layers) is ok.
Result<KvCache> AllocateKvCache(Backend& backend, const std::vector<LayerMemory>& layers,
                                const std::vector<KvGroup>& groups, int block_size, int state_slots = 0,
                                int state_checkpoints = 0);

// Bytes one state slot takes over all recurrent layers (f32).
size_t StateBytesPerSlot(const std::vector<LayerMemory>& layers);

// Bytes one cached token takes over all layers.
size_t KvBytesPerToken(const std::vector<LayerMemory>& layers, DType kv_dtype);

}  // namespace ax
