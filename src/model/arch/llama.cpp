// LlamaForCausalLM (Llama 2/3, TinyLlama, stories260K): pre-norm decoder, GQA,
// SwiGLU, rope_scaling none / linear / llama3.
#include "model/arch/arch.h"

namespace ax {
namespace {

Status MapWeights(const ModelConfig& cfg, WeightLoader& loader, DecoderWeights* out) {
  return MapDecoderWeights(cfg, loader, /*qk_norm=*/false, out);
}

}  // namespace

const ArchHooks& LlamaArch() {
  static const ArchHooks hooks{ModelFamily::kLlama, &MapWeights, &DecoderForward};
  return hooks;
}

}  // namespace ax
