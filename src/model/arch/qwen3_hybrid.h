// The hybrid Qwen decoder (Qwen3-Next, Qwen3.5 dense and MoE): layer_types mixes
// GatedDelta linear-attention layers and gated full-attention layers, every norm is a
// zero-centred (1 + w) RMSNorm (folded at load), and the feed-forward block is a dense
// gated MLP or a sparse MoE block with a sigmoid-gated shared expert.
//
//   embed → N × [x += mixer(rmsnorm(x)); x += ffn(rmsnorm(x))] → rmsnorm → lm_head
//   mixer, linear_attention:  p = h · W_inᵀ                     q | k | v | z | b | a (fused at load)
//                             o = GatedDelta(p)                 conv + silu, l2norm, delta rule,
//                                                               gated RMSNorm (Backend::GatedDelta)
//                             x += o · W_outᵀ
//   mixer, full_attention:    q, gate = q_proj's per-head halves (split at load)
//                             q, k = rope_partial(rmsnorm_head(q, k)); cache <- k, v
//                             x += (attention(q) * sigmoid(gate)) · W_oᵀ
//   ffn, sparse layers:       x += moe(h) + sigmoid(h · w_sg) * shared_mlp(h)
//
// qwen3_next.cpp and qwen3_5.cpp register it with their names and their linear
// layers' checkpoint layout (Qwen3-Next's interleaved in_proj_qkvz / in_proj_ba,
// Qwen3.5's separate in_proj_qkv / z / b / a).
#pragma once

#include "model/arch/arch.h"

namespace ax {

// How a family stores a linear layer's input projection.
enum class LinearProjLayout { kQkvzBa, kSeparate };

struct HybridOptions {
  LinearProjLayout layout = LinearProjLayout::kSeparate;
  // The router's top-k weights renormalised: Qwen3-Next's norm_topk_prob, always on Qwen3.5-MoE.
  bool always_normalize_topk = false;
};

// Config extras of the hybrids; errors name the field. moe: the family has MoE fields.
Status ParseHybridExtras(const ConfigFields& f, ModelConfig* c, bool moe);
Result<std::unique_ptr<ArchModel>> LoadHybrid(const ModelConfig& c, WeightLoader& loader, const HybridOptions& o);
std::vector<std::string> HybridFeatures(const ModelConfig& c);

}  // namespace ax
