// Qwen3ForCausalLM: the Llama decoder plus RMSNorm of each q and k head (q_norm,
// k_norm, over head_dim) before RoPE; head_dim is independent of hidden_size.
#include "model/arch/llama_decoder.h"

namespace ax {
namespace {

// transformers' Qwen3Config: head_dim 128, 32768 positions, no bos/eos.
void Defaults(ModelConfig* c) {
  c->head_dim = 128;
  c->max_position_embeddings = 32768;
}

Status ParseExtras(const ConfigFields&, ModelConfig*) { return Status::Ok(); }

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& loader) {
  return LoadLlamaDecoder(c, loader, /*qk_norm=*/true);
}

std::vector<std::string> Features(const ModelConfig& c) {
  std::vector<std::string> f = LlamaDecoderFeatures(c);
  f.push_back("per-head q/k RMSNorm");
  return f;
}

}  // namespace

const ArchInfo& Qwen3Arch() {
  static const ArchInfo info{ModelFamily::kQwen3, "qwen3", {"Qwen3ForCausalLM"}, {}, &Defaults, &ParseExtras,
                             &Load, &Features};
  return info;
}

}  // namespace ax
