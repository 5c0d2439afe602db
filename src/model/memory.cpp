#include "model/memory.h"

#include <algorithm>

namespace ax {

int64_t LayerMemory::ElementsPerToken() const {
  if (shares >= 0) return 0;
  switch (kind) {
    case LayerMemoryKind::kPagedKv: return int64_t{k_eq_v ? 1 : 2} * n_kv_heads * head_dim;
    case LayerMemoryKind::kRecurrent: return 0;
    case LayerMemoryKind::kLatent: return int64_t{latent_dim} + rope_dim;
  }
  return 0;
}

int64_t LayerMemory::StateElements() const {
  if (kind != LayerMemoryKind::kRecurrent) return 0;
  return conv_dim * (conv_kernel - 1) + int64_t{state_heads} * state_k * state_v;
}

bool HasRecurrentLayers(const std::vector<LayerMemory>& layers) {
  for (const LayerMemory& m : layers)
    if (m.kind == LayerMemoryKind::kRecurrent) return true;
  return false;
}

size_t StateBytesPerSlot(const std::vector<LayerMemory>& layers) {
  int64_t elements = 0;
  for (const LayerMemory& m : layers) elements += m.StateElements();
  return static_cast<size_t>(elements) * sizeof(float);
}

Status ValidateMemory(const std::vector<LayerMemory>& layers) {
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerMemory& m = layers[l];
    const std::string where = "memory layer " + std::to_string(l) + ": ";
    if (m.kind == LayerMemoryKind::kRecurrent) {
      if (m.conv_dim <= 0 || m.conv_kernel < 1 || m.state_heads <= 0 || m.state_k <= 0 || m.state_v <= 0 ||
          m.shares >= 0)
        return InvalidArgument(where + "a recurrent layer needs positive conv and state sizes and shares nothing");
      continue;
    }
    if (m.kind == LayerMemoryKind::kLatent) {
      if (m.latent_dim <= 0 || m.rope_dim < 0 || m.window != 0 || m.shares >= 0)
        return InvalidArgument(where +
                               "a latent layer needs a positive latent dim, a rope dim >= 0, full "
                               "attention (window 0) and shares nothing");
      continue;
    }
    if (m.n_kv_heads <= 0 || m.head_dim <= 0 || m.window < 0)
      return InvalidArgument(where + "expected positive kv heads and head dim and a window >= 0");
    if (m.shares < 0) continue;
    if (static_cast<size_t>(m.shares) >= l)
      return InvalidArgument(where + "shares layer " + std::to_string(m.shares) + ", expected an earlier layer");
    const LayerMemory& o = layers[static_cast<size_t>(m.shares)];
    if (o.shares >= 0 || o.n_kv_heads != m.n_kv_heads || o.head_dim != m.head_dim || o.k_eq_v != m.k_eq_v)
      return InvalidArgument(where + "shares layer " + std::to_string(m.shares) +
                             ", which stores nothing or another shape");
    // The owner's KV group keeps the blocks its own window needs, no more.
    if (o.window != m.window)
      return InvalidArgument(where + "window " + std::to_string(m.window) + " shares layer " +
                             std::to_string(m.shares) + " of window " + std::to_string(o.window) +
                             ", expected the same window");
  }
  return Status::Ok();
}

std::vector<int> KvGroupWindows(const std::vector<LayerMemory>& layers, bool release_windows) {
  if (!release_windows) return {0};
  std::vector<int> windows;
  for (const LayerMemory& m : layers)
    if (m.kind != LayerMemoryKind::kRecurrent && m.shares < 0 &&
        std::find(windows.begin(), windows.end(), m.window) == windows.end())
      windows.push_back(m.window);
  std::sort(windows.begin(), windows.end());  // 0 (full) first
  if (windows.empty()) windows.push_back(0);
  return windows;
}

int KvGroupOf(const std::vector<int>& windows, int window) {
  for (int pass = 0; pass < 2; ++pass) {
    const int want = pass == 0 ? window : 0;
    for (size_t g = 0; g < windows.size(); ++g)
      if (windows[g] == want) return static_cast<int>(g);
  }
  return -1;
}

std::vector<size_t> KvGroupBytesPerToken(const std::vector<LayerMemory>& layers, const std::vector<int>& windows,
                                         DType kv_dtype) {
  std::vector<size_t> bytes(windows.size(), 0);
  for (const LayerMemory& m : layers) {
    const int g = KvGroupOf(windows, m.window);
    if (g >= 0) bytes[static_cast<size_t>(g)] += static_cast<size_t>(m.ElementsPerToken()) * DTypeSize(kv_dtype);
  }
  return bytes;
}

Result<KvCache> AllocateKvCache(Backend& backend, const std::vector<LayerMemory>& layers,
                                const std::vector<KvGroup>& groups, int block_size, int state_slots,
                                int state_checkpoints) {
  if (groups.empty() || block_size <= 0) return InvalidArgument("KV cache needs a group and a positive block size");
  std::vector<int> windows;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].num_blocks <= 0 || groups[g].window < 0)
      return InvalidArgument("KV group " + std::to_string(g) + ": expected positive blocks and a window >= 0");
    windows.push_back(groups[g].window);
  }
  AX_RETURN_IF_ERROR(ValidateMemory(layers));
  KvCache kv;
  kv.groups = groups;
  kv.block_size = block_size;
  if (HasRecurrentLayers(layers)) {
    if (state_slots <= 0)
      return InvalidArgument("KV cache: the model has recurrent (GatedDelta) layers and needs state slots");
    kv.num_state_slots = state_slots;
    kv.state_checkpoints = std::max(0, state_checkpoints);
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerMemory& m = layers[l];
    if (m.kind == LayerMemoryKind::kRecurrent) {
      KvLayerView layer;
      layer.block_size = block_size;
      layer.group = -1;
      AX_ASSIGN_OR_RETURN(layer.conv_state,
                          backend.Alloc(DType::kF32, Shape{state_slots, m.conv_dim, std::max(1, m.conv_kernel - 1)}));
      AX_ASSIGN_OR_RETURN(layer.delta_state,
                          backend.Alloc(DType::kF32, Shape{state_slots, m.state_heads, m.state_k, m.state_v}));
      if (kv.state_checkpoints > 0) {
        const int64_t ck = kv.state_checkpoints;
        AX_ASSIGN_OR_RETURN(layer.conv_ckpt, backend.Alloc(DType::kF32, Shape{state_slots, ck, m.conv_dim,
                                                                              std::max(1, m.conv_kernel - 1)}));
        AX_ASSIGN_OR_RETURN(
            layer.delta_ckpt,  // [slots, checkpoints, heads * dk, dv] (4 dims at most)
            backend.Alloc(DType::kF32, Shape{state_slots, ck, int64_t{m.state_heads} * m.state_k, m.state_v}));
      }
      kv.layers.push_back(layer);
      continue;
    }
    if (m.shares >= 0) {
      kv.layers.push_back(kv.layers[static_cast<size_t>(m.shares)]);
      continue;
    }
    const int g = KvGroupOf(windows, m.window);
    if (g < 0)
      return InvalidArgument("memory layer " + std::to_string(l) + ": no KV group of window " +
                             std::to_string(m.window) + " or full attention");
    // A latent layer's row is one "head" of latent_dim + rope_dim, slot-major on every
    // backend (kernels/params.h MlaParams): all heads read the same row.
    const int64_t blocks = groups[static_cast<size_t>(g)].num_blocks;
    const Shape shape = m.kind == LayerMemoryKind::kLatent
                            ? Shape{blocks, block_size, m.ElementsPerToken()}
                            : backend.KvCacheShape(blocks, block_size, m.n_kv_heads, m.head_dim);
    KvLayerView layer;
    layer.block_size = block_size;
    layer.group = g;
    // A cache too large for memory fails here, naming itself (--kv-cache-mb sizes it).
    const std::string what = "KV cache of " + std::to_string(groups[static_cast<size_t>(g)].num_blocks) + " blocks x " +
                             std::to_string(block_size) + " tokens, layer " + std::to_string(l);
    auto k = backend.Alloc(backend.kv_dtype(), shape);
    if (!k.ok()) return k.status().WithPrefix(what + " (K)");
    layer.k = *k;
    if (m.k_eq_v || m.kind == LayerMemoryKind::kLatent) {
      layer.v = layer.k;
    } else {
      auto v = backend.Alloc(backend.kv_dtype(), shape);
      if (!v.ok()) return v.status().WithPrefix(what + " (V)");
      layer.v = *v;
    }
    kv.layers.push_back(layer);
  }
  return kv;
}

size_t KvBytesPerToken(const std::vector<LayerMemory>& layers, DType kv_dtype) {
  int64_t elements = 0;
  for (const LayerMemory& m : layers) elements += m.ElementsPerToken();
  return static_cast<size_t>(elements) * DTypeSize(kv_dtype);
}

}  // namespace ax
