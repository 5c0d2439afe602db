// LlamaForCausalLM (Llama 2/3, TinyLlama, stories260K): pre-norm decoder, GQA,
// SwiGLU, rope_scaling none / linear / llama3.
#include "model/arch/llama_decoder.h"

namespace ax {
namespace {

// transformers' LlamaConfig: head_dim hidden/heads, 2048 positions, bos 1, eos 2.
void Defaults(ModelConfig* c) {
  c->max_position_embeddings = 2048;
  c->bos_token_id = 1;
  c->eos_token_ids = {2};
}

Status ParseExtras(const ConfigFields&, ModelConfig*) { return Status::Ok(); }

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& loader) {
  return LoadLlamaDecoder(c, loader, /*qk_norm=*/false);
}

}  // namespace

const ArchInfo& LlamaArch() {
  static const ArchInfo info{ModelFamily::kLlama, "llama", {"LlamaForCausalLM"}, {}, &Defaults, &ParseExtras,
                             &Load, &LlamaDecoderFeatures};
  return info;
}

}  // namespace ax
