// The pre-norm decoder of the Llama-like families (Llama, Qwen3, and later
// Mistral-like ones):
//   embed → N × [x += o(attn(rmsnorm(x))); x += down(silu(gate)·up)(rmsnorm(x))]
// with per-head q/k RMSNorm for Qwen3, and on some layers a sparse MoE block in place
// of the MLP (Qwen3-MoE: x += experts(rmsnorm(x)), routed on the same normed rows).
// Its weights, mapping and forward; llama.cpp, qwen3.cpp and qwen3_moe.cpp register it
// with their own names, defaults and feed-forward mapping.
#pragma once

#include "model/arch/arch.h"
#include "model/layers/mlp.h"
#include "model/layers/moe.h"

namespace ax {

// A layer's feed-forward block: the gated MLP, or (moe) a sparse MoE block.
struct FeedForwardWeights {
  MlpWeights mlp;
  bool moe = false;
  MoeWeights experts;
};

// Maps layer `layer`'s feed-forward block from prefix p ("model.layers.N.mlp.").
using LoadFeedForwardFn = Status (*)(const ModelConfig& c, WeightLoader& loader, const std::string& p, int64_t layer,
                                     FeedForwardWeights* w);

// The gated MLP under prefix p: gate_proj and up_proj fused, `inter` wide.
Status LoadGatedMlp(const ModelConfig& c, WeightLoader& loader, const std::string& p, int64_t inter, MlpWeights* w);

// ffn == nullptr: every layer has the gated MLP of intermediate_size.
Result<std::unique_ptr<ArchModel>> LoadLlamaDecoder(const ModelConfig& c, WeightLoader& loader, bool qk_norm,
                                                    LoadFeedForwardFn ffn = nullptr);

// Qwen3-MoE's config extras (num_experts, num_experts_per_tok, moe_intermediate_size,
// norm_topk_prob, decoder_sparse_step, mlp_only_layers) and its experts' mapping (the
// three checkpoint layouts, arch/qwen3_moe.cpp), which the hybrid Qwens reuse.
Status ParseQwenMoeExtras(const ConfigFields& f, ModelConfig* c);
Status LoadQwenExperts(const ModelConfig& cfg, WeightLoader& ld, const std::string& p, int64_t layer, MoeWeights* w);

// The features every family of this decoder shares (GQA, rope scaling, tied head).
std::vector<std::string> LlamaDecoderFeatures(const ModelConfig& c);

}  // namespace ax
