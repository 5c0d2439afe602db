// Qwen3ForCausalLM: the Llama decoder plus RMSNorm of each q and k head (q_norm,
// k_norm, over head_dim) before RoPE; head_dim is independent of hidden_size.
#include "model/arch/arch.h"

namespace ax {
namespace {

Status MapWeights(const ModelConfig& cfg, WeightLoader& loader, DecoderWeights* out) {
  return MapDecoderWeights(cfg, loader, /*qk_norm=*/true, out);
}

}  // namespace

const ArchHooks& Qwen3Arch() {
  static const ArchHooks hooks{ModelFamily::kQwen3, &MapWeights, &DecoderForward};
  return hooks;
}

}  // namespace ax
