#include "model/arch/llama_decoder.h"

#include <algorithm>
#include <cmath>

#include "model/arch/common.h"
#include "model/layers/attention.h"
#include "model/layers/mlp.h"
#include "model/layers/rope.h"

namespace ax {
namespace {

struct LayerWeights {
  TensorView attn_norm;  // [hidden] f32
  AttentionWeights attn;
  TensorView mlp_norm;   // [hidden] f32
  FeedForwardWeights ffn;
};

class LlamaDecoder : public ArchModel {
 public:
  void Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const override {
    const int64_t n = batch.n_tokens(), prefill = batch.n_prefill_rows;
    TensorView x = Rows(ws.x, n);  // [n, hidden] residual stream
    TensorView h = Rows(ws.h, n);  // [n, hidden]
    be.Embedding(embed, 1.0f, x);
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerWeights& lw = layers[l];
      be.RmsNorm(x, lw.attn_norm, eps, h);
      AttentionBlock(be, specs[l], lw.attn, kv.layers[l], ws, h, x, /*accumulate=*/true, prefill);
      be.RmsNorm(x, lw.mlp_norm, eps, h);
      if (lw.ffn.moe) {
        TensorView out = Rows(ws.moe_out, n);  // [n, hidden]
        MoeBlock(be, lw.ffn.experts, ws, h, h, out, prefill);
        be.Add(out, x);
      } else {
        GatedMlp(be, lw.ffn.mlp, ws, h, x, /*accumulate=*/true, prefill);
      }
    }
  }

  TensorView embed;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  std::vector<AttentionSpec> specs;  // [layers]: the same but for sliding windows (layer_types)
  float eps = 1e-6f;
};

}  // namespace

Status LoadGatedMlp(const ModelConfig& cfg, WeightLoader& ld, const std::string& p, int64_t inter, MlpWeights* w) {
  AX_ASSIGN_OR_RETURN(w->w_gate_up,
                      ld.FusedRows({p + "gate_proj.weight", p + "up_proj.weight"}, {inter, inter}, cfg.hidden_size));
  AX_ASSIGN_OR_RETURN(w->w_down, ld.Matrix(p + "down_proj.weight", cfg.hidden_size, inter));
  return Status::Ok();
}

Result<std::unique_ptr<ArchModel>> LoadLlamaDecoder(const ModelConfig& cfg, WeightLoader& ld, bool qk_norm,
                                                    LoadFeedForwardFn ffn) {
  auto m = std::make_unique<LlamaDecoder>();
  const int64_t hidden = cfg.hidden_size, hd = cfg.head_dim;
  const int64_t q_dim = cfg.num_attention_heads * hd, kv_dim = cfg.num_key_value_heads * hd;
  const int64_t inter = cfg.intermediate_size;
  m->eps = static_cast<float>(cfg.rms_norm_eps);
  AttentionSpec spec;
  AttentionShape& s = spec.shape;
  s.n_heads = static_cast<int>(cfg.num_attention_heads);
  s.n_kv_heads = static_cast<int>(cfg.num_key_value_heads);
  s.head_dim = static_cast<int>(hd);
  s.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  s.norm_eps = m->eps;
  AX_ASSIGN_OR_RETURN(spec.inv_freq, ld.Computed(RopeInvFreq(cfg)));
  AX_ASSIGN_OR_RETURN(m->embed, ld.Matrix("model.embed_tokens.weight", cfg.vocab_size, hidden));
  m->layers.resize(static_cast<size_t>(cfg.num_hidden_layers));
  int64_t experts = 0, top_k = 0, moe_inter = 0;  // the widest MoE block, if any
  for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights& lw = m->layers[static_cast<size_t>(l)];
    AX_ASSIGN_OR_RETURN(lw.attn_norm, ld.Vector(p + "input_layernorm.weight", hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wq, ld.Matrix(p + "self_attn.q_proj.weight", q_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wk, ld.Matrix(p + "self_attn.k_proj.weight", kv_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wv, ld.Matrix(p + "self_attn.v_proj.weight", kv_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wo, ld.Matrix(p + "self_attn.o_proj.weight", hidden, q_dim));
    if (qk_norm) {
      AX_ASSIGN_OR_RETURN(lw.attn.q_norm, ld.Vector(p + "self_attn.q_norm.weight", hd));
      AX_ASSIGN_OR_RETURN(lw.attn.k_norm, ld.Vector(p + "self_attn.k_norm.weight", hd));
    }
    AX_ASSIGN_OR_RETURN(lw.mlp_norm, ld.Vector(p + "post_attention_layernorm.weight", hidden));
    if (ffn != nullptr) {
      AX_RETURN_IF_ERROR(ffn(cfg, ld, p + "mlp.", l, &lw.ffn));
    } else {
      AX_RETURN_IF_ERROR(LoadGatedMlp(cfg, ld, p + "mlp.", inter, &lw.ffn.mlp));
    }
    if (lw.ffn.moe) {
      m->moe.push_back(lw.ffn.experts.shape);
      experts = std::max<int64_t>(experts, lw.ffn.experts.shape.num_experts);
      top_k = std::max<int64_t>(top_k, lw.ffn.experts.shape.top_k);
      moe_inter = std::max<int64_t>(moe_inter, lw.ffn.experts.shape.inter);
    }
    // transformers' Llama/Qwen3 attention: a window only on layer_types' sliding layers.
    AttentionSpec layer = spec;
    if (cfg.layer_types[static_cast<size_t>(l)] == AttentionType::kSliding)
      layer.shape.window = static_cast<int>(cfg.sliding_window);
    m->specs.push_back(layer);
    m->memory.push_back({LayerMemoryKind::kPagedKv, s.n_kv_heads, s.head_dim, layer.shape.window, false, -1});
    m->attention.push_back(layer.shape);
  }
  AX_ASSIGN_OR_RETURN(m->head.final_norm, ld.Vector("model.norm.weight", hidden));
  m->head.norm_eps = m->eps;
  // Tied checkpoints (Qwen3-0.6B, Llama 3.2 1B) have no lm_head.weight.
  AX_ASSIGN_OR_RETURN(m->head.lm_head, LoadLmHead(cfg, ld, m->embed));
  m->sizes = {hidden, q_dim, kv_dim, 2 * inter, cfg.vocab_size, 0, 0, experts, top_k, moe_inter};
  return std::unique_ptr<ArchModel>(std::move(m));
}

std::vector<std::string> LlamaDecoderFeatures(const ModelConfig& c) {
  std::vector<std::string> f;
  f.push_back(c.num_key_value_heads == c.num_attention_heads
                  ? "multi-head attention"
                  : "grouped-query attention " + std::to_string(c.num_attention_heads) + "/" +
                        std::to_string(c.num_key_value_heads));
  f.push_back("head_dim " + std::to_string(c.head_dim));
  switch (c.rope_scaling.type) {
    case RopeScalingType::kNone: break;
    case RopeScalingType::kLinear: f.push_back("linear rope scaling"); break;
    case RopeScalingType::kLlama3: f.push_back("llama3 rope scaling"); break;
    case RopeScalingType::kProportional: f.push_back("proportional partial rotary"); break;
  }
  if (c.tie_word_embeddings) f.push_back("tied embeddings");
  return f;
}

}  // namespace ax
