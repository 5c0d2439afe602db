// Gemma4ForCausalLM (gemma4_text) and the text model of Gemma4ForConditionalGeneration:
//   x = embed(tokens) * sqrt(hidden)
//   ple = (norm(x · W_ple^T / sqrt(hidden)) + embed_ple(tokens) * sqrt(P)) / sqrt(2)   [n, layers, P]
//   N × [ x += post_attn_norm(attn(input_norm(x)))
//         x += post_ff_norm(mlp(pre_ff_norm(x)))
//         x += post_ple_norm(proj(gelu(gate(x)) * ple[:, l]))     (per-layer inputs, E2B/E4B)
//         x *= layer_scalar ]
//   logits = softcap(lm_head(norm(x)))
// Norms are plain RMSNorm (weight, not 1 + weight). Attention: q/k RMSNorm, a scale-free
// RMSNorm of v, scale 1; sliding layers (head_dim, default rope) and full layers (their
// own head dim and kv heads, proportional partial rope); on full layers K=V
// (attention_k_eq_v: v is the k projection); the last num_kv_shared_layers layers read
// the cache of the last earlier layer of their type and have no k/v projections, and
// with use_double_wide_mlp their MLP is twice as wide. With enable_moe_block (26B-A4B)
// every layer adds a MoE block beside its MLP:
//   m = post_ff_norm_1(mlp(pre_ff_norm(x))) + post_ff_norm_2(experts(pre_ff_norm_2(x)))
// routed on x (a scale-free RMSNorm times router.scale / sqrt(hidden), softmax, top-k,
// renormalised, times per_expert_scale), then x += post_ff_norm(m).
#include <cmath>
#include <map>

#include "model/arch/arch.h"
#include "model/arch/common.h"
#include "model/layers/attention.h"
#include "model/layers/mlp.h"
#include "model/layers/moe.h"
#include "model/layers/rope.h"

namespace ax {
namespace {

struct LayerWeights {
  TensorView input_norm, post_attn_norm, pre_ff_norm, post_ff_norm;  // [hidden] f32
  AttentionWeights attn;
  MlpWeights mlp;
  TensorView ple_gate, ple_proj, ple_norm;  // [P, hidden], [hidden, P], [hidden]; PLE only
  float layer_scalar = 1.0f;
  // MoE block (enable_moe_block): norms [hidden] f32; router_norm is router.scale /
  // sqrt(hidden) (the scale-free norm's weight folded at load).
  bool moe = false;
  TensorView post_ff_norm_1, pre_ff_norm_2, post_ff_norm_2, router_norm;
  MoeWeights experts;
};

class Gemma4 : public ArchModel {
 public:
  void Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const override {
    const int64_t n = batch.n_tokens(), prefill = batch.n_prefill_rows;
    TensorView x = Rows(ws.x, n);  // [n, hidden] residual stream
    TensorView h = Rows(ws.h, n);  // [n, hidden] a block's normed input
    TensorView o = Rows(ws.o, n);  // [n, hidden] a block's output before its post-norm
    be.Embedding(embed, embed_scale, x);
    TensorView ple;  // [n, layers * P]
    if (per_layer_dim > 0) ple = PerLayerInputs(be, ws, x, n, prefill);
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerWeights& lw = layers[l];
      be.RmsNorm(x, lw.input_norm, eps, h);
      AttentionBlock(be, specs[l], lw.attn, kv.layers[l], ws, h, o, /*accumulate=*/false, prefill);
      be.AddRmsNorm(o, lw.post_attn_norm, eps, x);
      be.RmsNorm(x, lw.pre_ff_norm, eps, h);
      GatedMlp(be, lw.mlp, ws, h, o, /*accumulate=*/false, prefill);
      if (lw.moe) {
        TensorView router_in = Rows(ws.moe_in, n), moe_out = Rows(ws.moe_out, n);
        be.RmsNorm(o, lw.post_ff_norm_1, eps, o);
        be.RmsNorm(x, lw.router_norm, eps, router_in);
        be.RmsNorm(x, lw.pre_ff_norm_2, eps, h);
        MoeBlock(be, lw.experts, ws, router_in, h, moe_out, prefill);
        be.AddRmsNorm(moe_out, lw.post_ff_norm_2, eps, o);  // o = mlp part + moe part
      }
      be.AddRmsNorm(o, lw.post_ff_norm, eps, x);
      if (per_layer_dim > 0) {
        TensorView gate = View(ws.per_layer_gate, n, per_layer_dim);  // [n, P]
        be.Matmul(x, lw.ple_gate, gate, /*accumulate=*/false, prefill);
        TensorView slice = ple;  // ple[:, l, :]: rows layers * P apart
        slice.data = static_cast<char*>(ple.data) +
                     static_cast<int64_t>(l) * per_layer_dim * static_cast<int64_t>(DTypeSize(ple.dtype));
        be.ActMul(gate, slice, ple.shape[1], gate, GateAct::kGeluTanh);
        be.Matmul(gate, lw.ple_proj, o, /*accumulate=*/false, prefill);
        be.AddRmsNorm(o, lw.ple_norm, eps, x);
      }
      if (lw.layer_scalar != 1.0f) be.Scale(x, lw.layer_scalar);
    }
  }

  // ple [n, layers * P] = (rmsnorm(x · W^T / sqrt(hidden)) per layer + embed_ple(tokens)
  // * sqrt(P)) / sqrt(2), x the scaled token embedding.
  TensorView PerLayerInputs(Backend& be, Workspace& ws, const TensorView& x, int64_t n, int64_t prefill) const {
    const int64_t width = ple_proj_model.shape[0];
    TensorView ple = View(ws.per_layer, n, width);
    TensorView ids = View(ws.per_layer_tmp, n, width);
    be.Matmul(x, ple_proj_model, ple, /*accumulate=*/false, prefill);
    be.Scale(ple, ple_proj_scale);
    TensorView per_layer_rows = View(ws.per_layer, n * (width / per_layer_dim), per_layer_dim);
    be.RmsNorm(per_layer_rows, ple_proj_norm, eps, per_layer_rows);
    be.Embedding(ple_embed, ple_embed_scale, ids);
    be.Add(ids, ple);
    be.Scale(ple, static_cast<float>(1.0 / std::sqrt(2.0)));
    return ple;
  }

  TensorView embed;  // [vocab, hidden]
  float embed_scale = 1.0f;
  std::vector<LayerWeights> layers;
  std::vector<AttentionSpec> specs;
  float eps = 1e-6f;
  // Per-layer inputs (PLE): embed_ple [vocab_ple, layers * P], projection [layers * P,
  // hidden], norm [P]; per_layer_dim 0 without.
  int64_t per_layer_dim = 0;
  TensorView ple_embed, ple_proj_model, ple_proj_norm;
  float ple_embed_scale = 1.0f, ple_proj_scale = 1.0f;
};

// transformers' Gemma4TextConfig defaults.
void Defaults(ModelConfig* c) {
  c->head_dim = 256;
  c->max_position_embeddings = 131072;
  c->bos_token_id = 2;
  c->eos_token_ids = {1};
  c->tie_word_embeddings = true;
  c->hidden_act = "gelu_pytorch_tanh";
  c->sliding_window = 512;
  c->rope_theta = 1000000.0;
  c->rope_scaling.type = RopeScalingType::kProportional;
  c->rope_scaling.partial_rotary_factor = 0.25;
  c->rope_local_theta = 10000.0;
  c->hidden_size_per_layer_input = 256;
  c->vocab_size_per_layer_input = 262144;
}

// Full layers' shape: per_layer_config overrides, else global_head_dim (default 512)
// and, with attention_k_eq_v, num_global_key_value_heads.
Status FullLayerShapes(const ConfigFields& f, ModelConfig* c) {
  int64_t global_head_dim = 512, global_kv = c->attention_k_eq_v ? 0 : c->num_key_value_heads;
  AX_RETURN_IF_ERROR(f.Int("global_head_dim", &global_head_dim, false));
  AX_RETURN_IF_ERROR(f.Int("num_global_key_value_heads", &global_kv, false));
  if (global_kv == 0) global_kv = c->num_key_value_heads;
  c->layer_shapes.assign(static_cast<size_t>(c->num_hidden_layers), {c->num_key_value_heads, c->head_dim});
  for (int64_t l = 0; l < c->num_hidden_layers; ++l)
    if (c->layer_types[static_cast<size_t>(l)] == AttentionType::kFull)
      c->layer_shapes[static_cast<size_t>(l)] = {global_kv, global_head_dim};
  const Json* per_layer = f.Find("per_layer_config");
  if (per_layer == nullptr) return Status::Ok();
  if (!per_layer->is_object()) return f.Invalid("per_layer_config", "an object keyed by layer index", per_layer);
  for (const auto& [key, value] : per_layer->items()) {
    int64_t l = -1;
    try {
      l = std::stoll(key);
    } catch (...) {
    }
    if (l < 0 || l >= c->num_hidden_layers || !value.is_object())
      return f.Invalid("per_layer_config", "entries keyed by a layer index below num_hidden_layers (" +
                                               std::to_string(c->num_hidden_layers) + ")",
                       per_layer);
    const ConfigFields entry(value, f.path(), f.prefix() + "per_layer_config." + key + ".");
    LayerAttentionShape& s = c->layer_shapes[static_cast<size_t>(l)];
    AX_RETURN_IF_ERROR(entry.Int("head_dim", &s.head_dim, false));
    AX_RETURN_IF_ERROR(entry.Int("num_key_value_heads", &s.num_key_value_heads, false));
    if (c->num_attention_heads % s.num_key_value_heads != 0)
      return entry.Invalid("num_key_value_heads", "a divisor of num_attention_heads", entry.Find("num_key_value_heads"));
  }
  return Status::Ok();
}

Status ParseExtras(const ConfigFields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.String("hidden_activation", &c->hidden_act));
  AX_RETURN_IF_ERROR(f.Double("final_logit_softcapping", &c->final_logit_softcapping, false, 0));
  AX_RETURN_IF_ERROR(f.Int("hidden_size_per_layer_input", &c->hidden_size_per_layer_input, false, 0));
  AX_RETURN_IF_ERROR(f.Int("vocab_size_per_layer_input", &c->vocab_size_per_layer_input, false));
  AX_RETURN_IF_ERROR(f.Bool("attention_k_eq_v", &c->attention_k_eq_v));
  AX_RETURN_IF_ERROR(f.Int("num_kv_shared_layers", &c->num_kv_shared_layers, false, 0, c->num_hidden_layers - 1));
  AX_RETURN_IF_ERROR(f.Bool("use_double_wide_mlp", &c->use_double_wide_mlp));
  AX_RETURN_IF_ERROR(f.Bool("enable_moe_block", &c->enable_moe_block));
  if (c->enable_moe_block) {
    AX_RETURN_IF_ERROR(f.Int("num_experts", &c->num_experts, true));
    AX_RETURN_IF_ERROR(f.Int("top_k_experts", &c->top_k_experts, true, 1, c->num_experts));
    AX_RETURN_IF_ERROR(f.Int("moe_intermediate_size", &c->moe_intermediate_size, true));
  }
  if (const Json* b = f.Find("use_bidirectional_attention"))
    return f.Unsupported("use_bidirectional_attention", "bidirectional attention is not supported (got " +
                                                            JsonPreview(*b) + ")");
  if (c->layer_types.empty()) {  // transformers: every 6th layer full, and the last one
    for (int64_t i = 0; i < c->num_hidden_layers; ++i)
      c->layer_types.push_back((i + 1) % 6 != 0 ? AttentionType::kSliding : AttentionType::kFull);
  }
  if (c->layer_types.back() != AttentionType::kFull)
    return f.Invalid("layer_types", "a last layer of \"full_attention\" (transformers forces it)",
                     f.Find("layer_types"));
  if (c->num_kv_shared_layers > 0) {  // every shared layer's type must occur before the sharing starts
    const size_t first = static_cast<size_t>(c->num_hidden_layers - c->num_kv_shared_layers);
    for (size_t l = first; l < c->layer_types.size(); ++l) {
      bool found = false;
      for (size_t e = 0; e < first; ++e) found = found || c->layer_types[e] == c->layer_types[l];
      if (!found)
        return f.Invalid("num_kv_shared_layers", "shared layers whose type occurs among the earlier layers",
                         f.Find("num_kv_shared_layers"));
    }
  }
  return FullLayerShapes(f, c);
}

// The layer whose cache layer l reads, or -1: transformers' store_full_length_kv layer,
// the last layer of l's type before the shared ones.
int SharedSource(const ModelConfig& c, int64_t l) {
  const int64_t first = c.num_hidden_layers - c.num_kv_shared_layers;
  if (c.num_kv_shared_layers == 0 || l < first) return -1;
  for (int64_t e = first - 1; e >= 0; --e)
    if (c.layer_types[static_cast<size_t>(e)] == c.layer_types[static_cast<size_t>(l)]) return static_cast<int>(e);
  return -1;
}

Status LoadAttention(const ModelConfig& cfg, WeightLoader& ld, const std::string& p, int64_t l, AttentionWeights* w) {
  const int64_t hidden = cfg.hidden_size;
  const LayerAttentionShape& shape = cfg.layer_shapes[static_cast<size_t>(l)];
  const int64_t hd = shape.head_dim, q_dim = cfg.num_attention_heads * hd, kv_dim = shape.num_key_value_heads * hd;
  const bool sliding = cfg.layer_types[static_cast<size_t>(l)] == AttentionType::kSliding;
  AX_ASSIGN_OR_RETURN(w->wq, ld.Matrix(p + "self_attn.q_proj.weight", q_dim, hidden));
  AX_ASSIGN_OR_RETURN(w->wo, ld.Matrix(p + "self_attn.o_proj.weight", hidden, q_dim));
  AX_ASSIGN_OR_RETURN(w->q_norm, ld.Vector(p + "self_attn.q_norm.weight", hd));
  if (SharedSource(cfg, l) >= 0) return Status::Ok();
  AX_ASSIGN_OR_RETURN(w->wk, ld.Matrix(p + "self_attn.k_proj.weight", kv_dim, hidden));
  if (!(cfg.attention_k_eq_v && !sliding)) {  // K=V full layers have no v_proj
    AX_ASSIGN_OR_RETURN(w->wv, ld.Matrix(p + "self_attn.v_proj.weight", kv_dim, hidden));
  }
  AX_ASSIGN_OR_RETURN(w->k_norm, ld.Vector(p + "self_attn.k_norm.weight", hd));
  AX_ASSIGN_OR_RETURN(w->v_norm, ld.Computed(std::vector<float>(static_cast<size_t>(hd), 1.0f)));
  return Status::Ok();
}

Status LoadMoe(const ModelConfig& cfg, WeightLoader& ld, const std::string& p, LayerWeights* lw) {
  const int64_t hidden = cfg.hidden_size, E = cfg.num_experts, I = cfg.moe_intermediate_size;
  lw->moe = true;
  AX_ASSIGN_OR_RETURN(lw->post_ff_norm_1, ld.Vector(p + "post_feedforward_layernorm_1.weight", hidden));
  AX_ASSIGN_OR_RETURN(lw->pre_ff_norm_2, ld.Vector(p + "pre_feedforward_layernorm_2.weight", hidden));
  AX_ASSIGN_OR_RETURN(lw->post_ff_norm_2, ld.Vector(p + "post_feedforward_layernorm_2.weight", hidden));
  AX_ASSIGN_OR_RETURN(lw->experts.router, ld.Matrix(p + "router.proj.weight", E, hidden));
  AX_ASSIGN_OR_RETURN(lw->experts.per_expert_scale, ld.Vector(p + "router.per_expert_scale", E));
  AX_ASSIGN_OR_RETURN(lw->router_norm, ld.ScaledVector(p + "router.scale", hidden,
                                                       static_cast<float>(1.0 / std::sqrt(static_cast<double>(hidden)))));
  AX_ASSIGN_OR_RETURN(lw->experts.gate_up, ld.Stacked(p + "experts.gate_up_proj", E, 2 * I, hidden));
  AX_ASSIGN_OR_RETURN(lw->experts.down, ld.Stacked(p + "experts.down_proj", E, hidden, I));
  MoeShape& s = lw->experts.shape;
  s.num_experts = static_cast<int>(E);
  s.top_k = static_cast<int>(cfg.top_k_experts);
  s.inter = I;
  s.softmax = true;
  s.normalize = true;
  s.act = cfg.hidden_act == "silu" ? GateAct::kSilu : GateAct::kGeluTanh;
  s.weights = lw->experts.gate_up.dtype;
  return CheckMoeWeights(lw->experts, p + "experts");
}

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& cfg, WeightLoader& ld) {
  auto m = std::make_unique<Gemma4>();
  const int64_t hidden = cfg.hidden_size, L = cfg.num_hidden_layers, P = cfg.hidden_size_per_layer_input;
  const std::string base = TextPrefix(cfg, ld);
  m->eps = static_cast<float>(cfg.rms_norm_eps);
  m->embed_scale = std::sqrt(static_cast<float>(hidden));
  AX_ASSIGN_OR_RETURN(m->embed, ld.Matrix(base + "embed_tokens.weight", cfg.vocab_size, hidden));
  if (P > 0) {
    m->per_layer_dim = P;
    m->ple_embed_scale = std::sqrt(static_cast<float>(P));
    m->ple_proj_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hidden)));
    AX_ASSIGN_OR_RETURN(m->ple_embed,
                        ld.Matrix(base + "embed_tokens_per_layer.weight", cfg.vocab_size_per_layer_input, L * P));
    AX_ASSIGN_OR_RETURN(m->ple_proj_model, ld.Matrix(base + "per_layer_model_projection.weight", L * P, hidden));
    AX_ASSIGN_OR_RETURN(m->ple_proj_norm, ld.Vector(base + "per_layer_projection_norm.weight", P));
  }
  int64_t widest_q = 0, widest_kv = 0, widest_gate_up = 0;
  std::map<std::pair<int64_t, bool>, TensorView> inv_freqs;
  const int64_t first_shared = L - cfg.num_kv_shared_layers;
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = base + "layers." + std::to_string(l) + ".";
    const bool sliding = cfg.layer_types[static_cast<size_t>(l)] == AttentionType::kSliding;
    const LayerAttentionShape& shape = cfg.layer_shapes[static_cast<size_t>(l)];
    LayerWeights lw;
    AX_ASSIGN_OR_RETURN(lw.input_norm, ld.Vector(p + "input_layernorm.weight", hidden));
    AX_ASSIGN_OR_RETURN(lw.post_attn_norm, ld.Vector(p + "post_attention_layernorm.weight", hidden));
    AX_ASSIGN_OR_RETURN(lw.pre_ff_norm, ld.Vector(p + "pre_feedforward_layernorm.weight", hidden));
    AX_ASSIGN_OR_RETURN(lw.post_ff_norm, ld.Vector(p + "post_feedforward_layernorm.weight", hidden));
    AX_RETURN_IF_ERROR(LoadAttention(cfg, ld, p, l, &lw.attn));
    const int64_t inter = cfg.intermediate_size * (cfg.use_double_wide_mlp && l >= first_shared && first_shared > 0 ? 2 : 1);
    AX_ASSIGN_OR_RETURN(lw.mlp.w_gate_up, ld.FusedRows({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
                                                       {inter, inter}, hidden));
    AX_ASSIGN_OR_RETURN(lw.mlp.w_down, ld.Matrix(p + "mlp.down_proj.weight", hidden, inter));
    lw.mlp.act = cfg.hidden_act == "silu" ? GateAct::kSilu : GateAct::kGeluTanh;
    if (P > 0) {
      AX_ASSIGN_OR_RETURN(lw.ple_gate, ld.Matrix(p + "per_layer_input_gate.weight", P, hidden));
      AX_ASSIGN_OR_RETURN(lw.ple_proj, ld.Matrix(p + "per_layer_projection.weight", hidden, P));
      AX_ASSIGN_OR_RETURN(lw.ple_norm, ld.Vector(p + "post_per_layer_input_norm.weight", hidden));
    }
    if (cfg.enable_moe_block) AX_RETURN_IF_ERROR(LoadMoe(cfg, ld, p, &lw));
    if (ld.Has(p + "layer_scalar")) {
      AX_ASSIGN_OR_RETURN(float scalar, ld.Scalar(p + "layer_scalar"));
      lw.layer_scalar = scalar;
    }
    if (lw.moe) m->moe.push_back(lw.experts.shape);
    m->layers.push_back(lw);

    AttentionSpec spec;
    spec.shape.n_heads = static_cast<int>(cfg.num_attention_heads);
    spec.shape.n_kv_heads = static_cast<int>(shape.num_key_value_heads);
    spec.shape.head_dim = static_cast<int>(shape.head_dim);
    spec.shape.window = sliding ? static_cast<int>(cfg.sliding_window) : 0;
    spec.shape.scale = 1.0f;
    spec.shape.norm_eps = m->eps;
    spec.kv_shared = SharedSource(cfg, l) >= 0;
    // One frequency table per (head dim, layer type), shared by the layers that use it.
    TensorView& freq = inv_freqs[{shape.head_dim, sliding}];
    if (freq.data == nullptr) {
      AX_ASSIGN_OR_RETURN(freq, ld.Computed(sliding ? RopeInvFreq(shape.head_dim, cfg.rope_local_theta,
                                                                  cfg.rope_local_scaling)
                                                    : RopeInvFreq(shape.head_dim, cfg.rope_theta, cfg.rope_scaling)));
    }
    spec.inv_freq = freq;
    m->specs.push_back(spec);
    m->attention.push_back(spec.shape);
    m->memory.push_back({LayerMemoryKind::kPagedKv, spec.shape.n_kv_heads, spec.shape.head_dim, spec.shape.window,
                         false, SharedSource(cfg, l)});
    widest_q = std::max(widest_q, cfg.num_attention_heads * shape.head_dim);
    widest_kv = std::max(widest_kv, shape.num_key_value_heads * shape.head_dim);
    widest_gate_up = std::max(widest_gate_up, 2 * inter);
  }
  AX_ASSIGN_OR_RETURN(m->head.final_norm, ld.Vector(base + "norm.weight", hidden));
  m->head.norm_eps = m->eps;
  m->head.softcap = static_cast<float>(cfg.final_logit_softcapping);
  AX_ASSIGN_OR_RETURN(m->head.lm_head, LoadLmHead(cfg, ld, m->embed));
  m->sizes = {hidden, widest_q, widest_kv, widest_gate_up, cfg.vocab_size, L * P, P,
              cfg.enable_moe_block ? cfg.num_experts : 0, cfg.enable_moe_block ? cfg.top_k_experts : 0,
              cfg.enable_moe_block ? cfg.moe_intermediate_size : 0};
  return std::unique_ptr<ArchModel>(std::move(m));
}

std::vector<std::string> Features(const ModelConfig& c) {
  int64_t sliding = 0;
  for (AttentionType t : c.layer_types) sliding += t == AttentionType::kSliding;
  std::vector<std::string> f = {
      "sliding window " + std::to_string(c.sliding_window) + " on " + std::to_string(sliding) + " of " +
          std::to_string(c.num_hidden_layers) + " layers",
      "head_dim " + std::to_string(c.head_dim) + " (sliding) / " +
          std::to_string(c.layer_shapes.empty() ? c.head_dim : c.layer_shapes.back().head_dim) + " (full)",
      "per-head q/k/v RMSNorm", "sandwich RMSNorms", "scaled embeddings", c.hidden_act + " gated MLP"};
  if (c.rope_scaling.type == RopeScalingType::kProportional)
    f.push_back("proportional rope on full layers (partial " + std::to_string(c.rope_scaling.partial_rotary_factor) + ")");
  if (c.hidden_size_per_layer_input > 0)
    f.push_back("per-layer input embeddings (" + std::to_string(c.hidden_size_per_layer_input) + " per layer)");
  if (c.attention_k_eq_v) f.push_back("K=V on full layers");
  if (c.num_kv_shared_layers > 0) f.push_back("KV shared by the last " + std::to_string(c.num_kv_shared_layers) + " layers");
  if (c.use_double_wide_mlp) f.push_back("double-wide MLP on shared layers");
  if (c.enable_moe_block)
    f.push_back("mixture of experts beside every MLP (" + std::to_string(c.top_k_experts) + " of " +
                std::to_string(c.num_experts) + " experts of " + std::to_string(c.moe_intermediate_size) + ")");
  if (c.final_logit_softcapping > 0) f.push_back("final-logit softcapping");
  if (c.multimodal) f.push_back("text model of a multimodal checkpoint (vision and audio towers not loaded)");
  return f;
}

}  // namespace

const ArchInfo& Gemma4Arch() {
  static const ArchInfo info{ModelFamily::kGemma4,
                             "gemma4_text",
                             {"Gemma4ForCausalLM"},
                             {"Gemma4ForConditionalGeneration"},
                             &Defaults,
                             &ParseExtras,
                             &Load,
                             &Features};
  return info;
}

}  // namespace ax
