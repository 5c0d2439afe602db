#include "model/memory.h"

namespace ax {

int64_t LayerMemory::ElementsPerToken() const {
  if (shares >= 0) return 0;
  switch (kind) {
    case LayerMemoryKind::kPagedKv: return int64_t{k_eq_v ? 1 : 2} * n_kv_heads * head_dim;
  }
  return 0;
}

Status ValidateMemory(const std::vector<LayerMemory>& layers) {
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerMemory& m = layers[l];
    const std::string where = "memory layer " + std::to_string(l) + ": ";
    if (m.n_kv_heads <= 0 || m.head_dim <= 0 || m.window < 0)
      return InvalidArgument(where + "expected positive kv heads and head dim and a window >= 0");
    if (m.shares < 0) continue;
    if (static_cast<size_t>(m.shares) >= l)
      return InvalidArgument(where + "shares layer " + std::to_string(m.shares) + ", expected an earlier layer");
    const LayerMemory& o = layers[static_cast<size_t>(m.shares)];
    if (o.shares >= 0 || o.n_kv_heads != m.n_kv_heads || o.head_dim != m.head_dim || o.k_eq_v != m.k_eq_v)
      return InvalidArgument(where + "shares layer " + std::to_string(m.shares) +
                             ", which stores nothing or another shape");
  }
  return Status::Ok();
}

Result<KvCache> AllocateKvCache(Backend& backend, const std::vector<LayerMemory>& layers, int num_blocks,
                                int block_size) {
  if (num_blocks <= 0 || block_size <= 0) return InvalidArgument("KV cache needs positive blocks and block size");
  AX_RETURN_IF_ERROR(ValidateMemory(layers));
  KvCache kv;
  kv.num_blocks = num_blocks;
  kv.block_size = block_size;
  for (const LayerMemory& m : layers) {
    if (m.shares >= 0) {
      kv.layers.push_back(kv.layers[static_cast<size_t>(m.shares)]);
      continue;
    }
    const Shape shape{num_blocks, block_size, m.n_kv_heads, m.head_dim};
    KvLayerView layer;
    layer.block_size = block_size;
    AX_ASSIGN_OR_RETURN(layer.k, backend.Alloc(backend.kv_dtype(), shape));
    if (m.k_eq_v) {
      layer.v = layer.k;
    } else {
      AX_ASSIGN_OR_RETURN(layer.v, backend.Alloc(backend.kv_dtype(), shape));
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
