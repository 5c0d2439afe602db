// The GLM MoE decoders (glm4_moe: GLM-4.5 / 4.6 / 4.5-Air; glm4_moe_lite: GLM-4.7-Flash):
//
//   embed → N × [x += attn(rmsnorm(x)); x += ffn(rmsnorm(x))] → rmsnorm → lm_head
//   attn, glm4_moe:       GQA with q/k/v biases, optional per-head q/k RMSNorm, partial
//                         rotary (model/layers/attention.h)
//   attn, glm4_moe_lite:  multi-head latent attention over a latent KV cache
//                         (model/layers/mla.h)
//   ffn, dense layers:    gated SiLU MLP of intermediate_size
//   ffn, sparse layers:   noaux_tc-routed experts (model/layers/moe.h) + shared experts
//                         of moe_intermediate_size * n_shared_experts
//
// glm4_moe.cpp and glm4_moe_lite.cpp parse their attention's fields and map it; this
// file holds the decoder, the MoE fields both read and the feed-forward mapping.
#pragma once

#include "model/arch/arch.h"
#include "model/layers/attention.h"
#include "model/layers/mla.h"
#include "model/layers/mlp.h"
#include "model/layers/moe.h"

namespace ax {

struct GlmLayer {
  TensorView input_norm, post_norm;  // [hidden] f32
  bool mla = false;
  AttentionSpec spec;  // GQA layers
  AttentionWeights attn;
  MlaWeights mla_w;  // MLA layers (the model's mla_spec)
  bool moe = false;
  MlpWeights mlp;      // a dense layer's MLP
  MoeWeights experts;  // a sparse layer's routed experts
  bool shared = false;
  MlpWeights shared_mlp;  // its shared experts, one fused MLP
};

class GlmDecoder : public ArchModel {
 public:
  void Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const override;

  TensorView embed;  // [vocab, hidden]
  std::vector<GlmLayer> layers;
  MlaSpec mla_spec;  // the MLA layers' shape and rope
  float eps = 1e-5f;
};

// The MoE fields both read (errors name the field): n_routed_experts (or num_experts /
// num_local_experts), num_experts_per_tok, moe_intermediate_size, n_shared_experts,
// n_group, topk_group, norm_topk_prob, routed_scaling_factor; dense layers from
// mlp_layer_types or first_k_dense_replace into mlp_only_layers.
Status ParseGlmMoeExtras(const ConfigFields& f, ModelConfig* c);

// Layer `l`'s norms and feed-forward block from prefix p ("model.layers.N.");
// the MoE shapes and workspace widths go into m.
// masked_zero: the router scores the other groups' experts 0 rather than excluding them
// (transformers' glm4_moe, from DeepSeek-V3; glm4_moe_lite excludes them).
Status LoadGlmFeedForward(const ModelConfig& c, WeightLoader& ld, const std::string& p, int64_t l, bool masked_zero,
                          GlmDecoder* m, GlmLayer* lw);

// The embedding, final norm and lm_head; the widest MoE block into m->sizes.
Status LoadGlmEnds(const ModelConfig& c, WeightLoader& ld, GlmDecoder* m);

// A matrix whose shape comes from config.json's fields: a shape error also names them
// ("fields" reads like "num_attention_heads 4, qk_nope_head_dim 16, kv_lora_rank 32").
Status NameFields(Status s, const std::string& fields);

// Doctor's lines of the feed-forward side.
void GlmMoeFeatures(const ModelConfig& c, std::vector<std::string>* f);

}  // namespace ax
