#include <string>

#include "model/arch/arch.h"
#include "model/layers/rope.h"

namespace ax {

Status MapDecoderWeights(const ModelConfig& cfg, WeightLoader& ld, bool qk_norm, DecoderWeights* out) {
  const int64_t hidden = cfg.hidden_size;
  const int64_t q_dim = cfg.num_attention_heads * cfg.head_dim;
  const int64_t kv_dim = cfg.num_key_value_heads * cfg.head_dim;
  const int64_t inter = cfg.intermediate_size;
  AX_ASSIGN_OR_RETURN(out->embed, ld.Matrix("model.embed_tokens.weight", cfg.vocab_size, hidden));
  out->layers.resize(static_cast<size_t>(cfg.num_hidden_layers));
  for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    DecoderLayerWeights& lw = out->layers[static_cast<size_t>(l)];
    AX_ASSIGN_OR_RETURN(lw.attn_norm, ld.Vector(p + "input_layernorm.weight", hidden));
    AX_ASSIGN_OR_RETURN(lw.wq, ld.Matrix(p + "self_attn.q_proj.weight", q_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.wk, ld.Matrix(p + "self_attn.k_proj.weight", kv_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.wv, ld.Matrix(p + "self_attn.v_proj.weight", kv_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.wo, ld.Matrix(p + "self_attn.o_proj.weight", hidden, q_dim));
    if (qk_norm) {
      AX_ASSIGN_OR_RETURN(lw.q_norm, ld.Vector(p + "self_attn.q_norm.weight", cfg.head_dim));
      AX_ASSIGN_OR_RETURN(lw.k_norm, ld.Vector(p + "self_attn.k_norm.weight", cfg.head_dim));
    }
    AX_ASSIGN_OR_RETURN(lw.mlp_norm, ld.Vector(p + "post_attention_layernorm.weight", hidden));
    AX_ASSIGN_OR_RETURN(lw.w_gate_up, ld.FusedRows({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
                                                   {inter, inter}, hidden));
    AX_ASSIGN_OR_RETURN(lw.w_down, ld.Matrix(p + "mlp.down_proj.weight", hidden, inter));
  }
  AX_ASSIGN_OR_RETURN(out->final_norm, ld.Vector("model.norm.weight", hidden));
  // Tied checkpoints (Qwen3-0.6B, Llama 3.2 1B) have no lm_head.weight; some tied
  // checkpoints still store a copy, which we ignore in favour of the embedding.
  if (cfg.tie_word_embeddings) {
    out->lm_head = out->embed;
  } else {
    if (!ld.Has("lm_head.weight"))
      return NotFound("lm_head.weight: missing, and config.json has tie_word_embeddings false");
    AX_ASSIGN_OR_RETURN(out->lm_head, ld.Matrix("lm_head.weight", cfg.vocab_size, hidden));
  }
  return Status::Ok();
}

}  // namespace ax
