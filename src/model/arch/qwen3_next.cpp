// Qwen3NextForCausalLM (qwen3_next: Qwen3-Next-80B-A3B, Qwen3-Coder-Next): the hybrid
// decoder (arch/qwen3_hybrid.h) with GatedDelta layers whose input projections are
// stored interleaved per key head (in_proj_qkvz: q_g | k_g | v_g | z_g, in_proj_ba:
// b_g | a_g), reordered at load into the fused q | k | v | z | b | a layout, and a
// sparse MoE block with a sigmoid-gated shared expert (norm_topk_prob,
// decoder_sparse_step and mlp_only_layers as Qwen3-MoE).
#include "model/arch/qwen3_hybrid.h"

namespace ax {
namespace {

// transformers' Qwen3NextConfig: head_dim 256, 32768 positions, norm_topk_prob true,
// partial_rotary_factor 0.25, conv kernel 4.
void Defaults(ModelConfig* c) {
  c->head_dim = 256;
  c->max_position_embeddings = 32768;
  c->norm_topk_prob = true;
  c->partial_rotary_factor = 0.25;
  c->linear_conv_kernel_dim = 4;
}

Status ParseExtras(const ConfigFields& f, ModelConfig* c) { return ParseHybridExtras(f, c, /*moe=*/true); }

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& loader) {
  return LoadHybrid(c, loader, HybridOptions{LinearProjLayout::kQkvzBa, false});
}

}  // namespace

const ArchInfo& Qwen3NextArch() {
  static const ArchInfo info{
      ModelFamily::kQwen3Next, "qwen3_next", {"Qwen3NextForCausalLM"}, {}, &Defaults, &ParseExtras, &Load,
      &HybridFeatures};
  return info;
}

}  // namespace ax
