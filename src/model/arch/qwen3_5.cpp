// Qwen3_5ForCausalLM (qwen3_5_text: Qwen3.5-9B, dense) and Qwen3_5MoeForCausalLM
// (qwen3_5_moe_text: Qwen3.5/3.6-35B-A3B), and the text model inside their
// *ForConditionalGeneration checkpoints: the hybrid decoder (arch/qwen3_hybrid.h) with
// GatedDelta layers whose input projections are stored apart (in_proj_qkv, in_proj_z,
// in_proj_b, in_proj_a; fused at load), a dense MLP on every layer (qwen3_5_text) or a
// sparse MoE block on every layer with a sigmoid-gated shared expert and top-k weights
// always renormalised (qwen3_5_moe_text).
#include "model/arch/qwen3_hybrid.h"

namespace ax {
namespace {

// transformers' Qwen3_5TextConfig / Qwen3_5MoeTextConfig: head_dim 256, 32768
// positions, partial_rotary_factor 0.25, conv kernel 4.
void Defaults(ModelConfig* c) {
  c->head_dim = 256;
  c->max_position_embeddings = 32768;
  c->partial_rotary_factor = 0.25;
  c->linear_conv_kernel_dim = 4;
}

// Qwen3_5MoeTextConfig has no intermediate_size (every layer is sparse): the dense MLP
// width a config without it gets, used only on layers mlp_only_layers makes dense.
void MoeDefaults(ModelConfig* c) {
  Defaults(c);
  c->intermediate_size = 512;
}

Status ParseDense(const ConfigFields& f, ModelConfig* c) { return ParseHybridExtras(f, c, /*moe=*/false); }
Status ParseMoe(const ConfigFields& f, ModelConfig* c) { return ParseHybridExtras(f, c, /*moe=*/true); }

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& loader) {
  return LoadHybrid(c, loader, HybridOptions{LinearProjLayout::kSeparate, /*always_normalize_topk=*/true});
}

}  // namespace

const ArchInfo& Qwen35Arch() {
  static const ArchInfo info{
      ModelFamily::kQwen35, "qwen3_5_text", {"Qwen3_5ForCausalLM"}, {"Qwen3_5ForConditionalGeneration"}, &Defaults,
      &ParseDense,          &Load,          &HybridFeatures};
  return info;
}

const ArchInfo& Qwen35MoeArch() {
  static const ArchInfo info{ModelFamily::kQwen35Moe,
                             "qwen3_5_moe_text",
                             {"Qwen3_5MoeForCausalLM"},
                             {"Qwen3_5MoeForConditionalGeneration"},
                             &MoeDefaults,
                             &ParseMoe,
                             &Load,
                             &HybridFeatures};
  return info;
}

}  // namespace ax
