// Gemma3ForCausalLM (gemma3_text) and the text model of Gemma3ForConditionalGeneration:
//   x = embed(tokens) * sqrt(hidden)
//   N × [ x += post_attn_norm(attn(input_norm(x)))           sandwich norms, all (1 + w)
//         x += post_ff_norm(down(gelu_tanh(gate) * up)(pre_ff_norm(x))) ]
//   logits = softcap(lm_head(norm(x)))                      final_logit_softcapping
// Attention: per-head q/k (1 + w) RMSNorm, scale query_pre_attn_scalar^-1/2; no
// attention-logit softcap: attn_logit_softcapping (a Gemma 2 field) is read but not
// applied, as transformers' Gemma3Attention never passes it to the attention (checked
// against transformers 5.17's float64 logits); layer_types mix sliding-window layers (rope base
// rope_local_base_freq, no scaling) and full layers (rope_theta with rope_scaling).
// The (1 + w) of every norm is folded into the weights at load (WeightLoader::Vector).
#include <cmath>

#include "model/arch/arch.h"
#include "model/arch/common.h"
#include "model/layers/attention.h"
#include "model/layers/mlp.h"
#include "model/layers/rope.h"

namespace ax {
namespace {

struct LayerWeights {
  TensorView input_norm, post_attn_norm, pre_ff_norm, post_ff_norm;  // [hidden] f32, 1 + w
  AttentionWeights attn;
  MlpWeights mlp;
};

class Gemma3 : public ArchModel {
 public:
  void Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const override {
    const int64_t n = batch.n_tokens(), prefill = batch.n_prefill_rows;
    TensorView x = Rows(ws.x, n);  // [n, hidden] residual stream
    TensorView h = Rows(ws.h, n);  // [n, hidden] a block's normed input
    TensorView o = Rows(ws.o, n);  // [n, hidden] a block's output before its post-norm
    be.Embedding(embed, embed_scale, x);
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerWeights& lw = layers[l];
      be.RmsNorm(x, lw.input_norm, eps, h);
      AttentionBlock(be, specs[l], lw.attn, kv.layers[l], ws, h, o, /*accumulate=*/false, prefill);
      be.AddRmsNorm(o, lw.post_attn_norm, eps, x);
      be.RmsNorm(x, lw.pre_ff_norm, eps, h);
      GatedMlp(be, lw.mlp, ws, h, o, /*accumulate=*/false, prefill);
      be.AddRmsNorm(o, lw.post_ff_norm, eps, x);
    }
  }

  TensorView embed;  // [vocab, hidden]
  float embed_scale = 1.0f;
  std::vector<LayerWeights> layers;
  std::vector<AttentionSpec> specs;  // [layers]: sliding or full
  float eps = 1e-6f;
};

// transformers' Gemma3TextConfig defaults.
void Defaults(ModelConfig* c) {
  c->head_dim = 256;
  c->max_position_embeddings = 131072;
  c->bos_token_id = 2;
  c->eos_token_ids = {1};
  c->tie_word_embeddings = true;
  c->hidden_act = "gelu_pytorch_tanh";
  c->rope_theta = 1000000.0;
  c->query_pre_attn_scalar = 256;
  c->sliding_window = 4096;
}

Status ParseExtras(const ConfigFields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.String("hidden_activation", &c->hidden_act));
  AX_RETURN_IF_ERROR(f.Double("query_pre_attn_scalar", &c->query_pre_attn_scalar, false, 0));
  AX_RETURN_IF_ERROR(f.Double("attn_logit_softcapping", &c->attn_logit_softcapping, false, 0));
  AX_RETURN_IF_ERROR(f.Double("final_logit_softcapping", &c->final_logit_softcapping, false, 0));
  if (c->rope_local_theta == 0) {  // not given by rope_parameters.sliding_attention
    c->rope_local_theta = 10000.0;
    AX_RETURN_IF_ERROR(f.Double("rope_local_base_freq", &c->rope_local_theta, false, 0));
  }
  if (const Json* b = f.Find("use_bidirectional_attention"); b != nullptr && *b != false)
    return f.Unsupported("use_bidirectional_attention", "bidirectional attention is not supported");
  if (c->layer_types.empty()) {  // older configs: every sliding_window_pattern-th layer is full
    int64_t pattern = 6;
    AX_RETURN_IF_ERROR(f.Int("sliding_window_pattern", &pattern, false));
    for (int64_t i = 0; i < c->num_hidden_layers; ++i)
      c->layer_types.push_back((i + 1) % pattern != 0 ? AttentionType::kSliding : AttentionType::kFull);
  }
  return Status::Ok();
}

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& cfg, WeightLoader& ld) {
  auto m = std::make_unique<Gemma3>();
  const int64_t hidden = cfg.hidden_size, hd = cfg.head_dim;
  const int64_t q_dim = cfg.num_attention_heads * hd, kv_dim = cfg.num_key_value_heads * hd;
  const int64_t inter = cfg.intermediate_size;
  const std::string base = TextPrefix(cfg, ld);
  m->eps = static_cast<float>(cfg.rms_norm_eps);
  m->embed_scale = std::sqrt(static_cast<float>(hidden));
  AX_ASSIGN_OR_RETURN(TensorView full_freq, ld.Computed(RopeInvFreq(hd, cfg.rope_theta, cfg.rope_scaling)));
  AX_ASSIGN_OR_RETURN(TensorView local_freq,
                      ld.Computed(RopeInvFreq(hd, cfg.rope_local_theta, cfg.rope_local_scaling)));
  AX_ASSIGN_OR_RETURN(m->embed, ld.Matrix(base + "embed_tokens.weight", cfg.vocab_size, hidden));
  const GateAct act = cfg.hidden_act == "silu" ? GateAct::kSilu : GateAct::kGeluTanh;
  for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
    const std::string p = base + "layers." + std::to_string(l) + ".";
    LayerWeights lw;
    AX_ASSIGN_OR_RETURN(lw.input_norm, ld.Vector(p + "input_layernorm.weight", hidden, 1.0f));
    AX_ASSIGN_OR_RETURN(lw.attn.wq, ld.Matrix(p + "self_attn.q_proj.weight", q_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wk, ld.Matrix(p + "self_attn.k_proj.weight", kv_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wv, ld.Matrix(p + "self_attn.v_proj.weight", kv_dim, hidden));
    AX_ASSIGN_OR_RETURN(lw.attn.wo, ld.Matrix(p + "self_attn.o_proj.weight", hidden, q_dim));
    AX_ASSIGN_OR_RETURN(lw.attn.q_norm, ld.Vector(p + "self_attn.q_norm.weight", hd, 1.0f));
    AX_ASSIGN_OR_RETURN(lw.attn.k_norm, ld.Vector(p + "self_attn.k_norm.weight", hd, 1.0f));
    AX_ASSIGN_OR_RETURN(lw.post_attn_norm, ld.Vector(p + "post_attention_layernorm.weight", hidden, 1.0f));
    AX_ASSIGN_OR_RETURN(lw.pre_ff_norm, ld.Vector(p + "pre_feedforward_layernorm.weight", hidden, 1.0f));
    AX_ASSIGN_OR_RETURN(lw.post_ff_norm, ld.Vector(p + "post_feedforward_layernorm.weight", hidden, 1.0f));
    AX_ASSIGN_OR_RETURN(lw.mlp.w_gate_up, ld.FusedRows({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
                                                       {inter, inter}, hidden));
    AX_ASSIGN_OR_RETURN(lw.mlp.w_down, ld.Matrix(p + "mlp.down_proj.weight", hidden, inter));
    lw.mlp.act = act;
    m->layers.push_back(lw);

    const bool sliding = cfg.layer_types[static_cast<size_t>(l)] == AttentionType::kSliding;
    AttentionSpec spec;
    spec.shape.n_heads = static_cast<int>(cfg.num_attention_heads);
    spec.shape.n_kv_heads = static_cast<int>(cfg.num_key_value_heads);
    spec.shape.head_dim = static_cast<int>(hd);
    spec.shape.window = sliding ? static_cast<int>(cfg.sliding_window) : 0;
    spec.shape.scale = static_cast<float>(1.0 / std::sqrt(cfg.query_pre_attn_scalar));
    spec.shape.softcap = 0.0f;  // attn_logit_softcapping is not applied (see the top)
    spec.shape.norm_eps = m->eps;
    spec.inv_freq = sliding ? local_freq : full_freq;
    m->specs.push_back(spec);
    m->attention.push_back(spec.shape);
    m->memory.push_back({LayerMemoryKind::kPagedKv, spec.shape.n_kv_heads, spec.shape.head_dim, spec.shape.window,
                         false, -1});
  }
  AX_ASSIGN_OR_RETURN(m->head.final_norm, ld.Vector(base + "norm.weight", hidden, 1.0f));
  m->head.norm_eps = m->eps;
  m->head.softcap = static_cast<float>(cfg.final_logit_softcapping);
  AX_ASSIGN_OR_RETURN(m->head.lm_head, LoadLmHead(cfg, ld, m->embed));
  m->sizes = {hidden, q_dim, kv_dim, 2 * inter, cfg.vocab_size};
  return std::unique_ptr<ArchModel>(std::move(m));
}

std::vector<std::string> Features(const ModelConfig& c) {
  int64_t sliding = 0;
  for (AttentionType t : c.layer_types) sliding += t == AttentionType::kSliding;
  std::vector<std::string> f = {
      "grouped-query attention " + std::to_string(c.num_attention_heads) + "/" + std::to_string(c.num_key_value_heads),
      "head_dim " + std::to_string(c.head_dim),
      "sliding window " + std::to_string(c.sliding_window) + " on " + std::to_string(sliding) + " of " +
          std::to_string(c.num_hidden_layers) + " layers",
      "per-head q/k RMSNorm", "(1 + w) sandwich RMSNorms", "scaled embeddings", c.hidden_act + " gated MLP"};
  if (c.rope_scaling.type == RopeScalingType::kLinear) f.push_back("linear rope scaling on full layers");
  if (c.attn_logit_softcapping > 0)
    f.push_back("attn_logit_softcapping set but not applied (transformers' Gemma 3 ignores it)");
  if (c.final_logit_softcapping > 0) f.push_back("final-logit softcapping");
  if (c.tie_word_embeddings) f.push_back("tied embeddings");
  if (c.multimodal) f.push_back("text model of a multimodal checkpoint (vision tower not loaded)");
  return f;
}

}  // namespace

const ArchInfo& Gemma3Arch() {
  static const ArchInfo info{ModelFamily::kGemma3,
                             "gemma3_text",
                             {"Gemma3ForCausalLM"},
                             {"Gemma3ForConditionalGeneration"},
                             &Defaults,
                             &ParseExtras,
                             &Load,
                             &Features};
  return info;
}

}  // namespace ax
