#include "model/arch/qwen3_hybrid.h"

#include <algorithm>
#include <cmath>

#include "model/arch/common.h"
#include "model/arch/llama_decoder.h"
#include "model/json_util.h"
#include "model/layers/attention.h"
#include "model/layers/gated_delta.h"
#include "model/layers/mlp.h"
#include "model/layers/moe.h"
#include "model/layers/rope.h"

namespace ax {
namespace {

struct HybridLayer {
  bool linear = false;
  TensorView input_norm, post_norm;  // [hidden] f32, 1 + w
  GatedDeltaLayerWeights linear_w;   // linear_attention
  // full_attention
  AttentionWeights attn;  // wq: q_proj's query halves; q_norm, k_norm 1 + w
  TensorView w_gate;      // [heads * head_dim, hidden]: q_proj's gate halves
  // feed-forward
  FeedForwardWeights ffn;
  bool shared = false;
  MlpWeights shared_mlp;
  TensorView shared_gate;  // [1, hidden]
};

class HybridDecoder : public ArchModel {
 public:
  void Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const override {
    const int64_t n = batch.n_tokens(), prefill = batch.n_prefill_rows;
    TensorView x = Rows(ws.x, n);  // [n, hidden] residual stream
    TensorView h = Rows(ws.h, n);  // [n, hidden]
    be.Embedding(embed, 1.0f, x);
    for (size_t l = 0; l < layers.size(); ++l) {
      const HybridLayer& lw = layers[l];
      be.RmsNorm(x, lw.input_norm, eps, h);
      if (lw.linear) {
        GatedDeltaBlock(be, gd, lw.linear_w, kv.layers[l], ws, h, x, /*accumulate=*/true, prefill);
      } else {
        GatedAttention(be, lw, ws, kv.layers[l], h, x, prefill);
      }
      be.RmsNorm(x, lw.post_norm, eps, h);
      FeedForward(be, lw, ws, h, x, prefill);
    }
  }

  TensorView embed;  // [vocab, hidden]
  std::vector<HybridLayer> layers;
  AttentionSpec spec;  // the full layers' (partial rotary inv_freq)
  GatedDeltaShape gd;  // the linear layers'
  float eps = 1e-6f;

 private:
  void GatedAttention(Backend& be, const HybridLayer& lw, Workspace& ws, const KvLayerView& cache, const TensorView& h,
                      TensorView x, int64_t prefill) const {
    const AttentionShape& s = spec.shape;
    const int64_t n = h.shape[0], q_dim = int64_t{s.n_heads} * s.head_dim, kv_dim = int64_t{s.n_kv_heads} * s.head_dim;
    TensorView q = View(ws.q, n, q_dim), k = View(ws.k, n, kv_dim), v = View(ws.v, n, kv_dim);
    TensorView gate = View(ws.lin_proj, n, q_dim), attn = View(ws.attn, n, q_dim);
    const TensorView w[] = {lw.attn.wq, lw.attn.wk, lw.attn.wv, lw.w_gate};
    const TensorView y[] = {q, k, v, gate};
    be.MatmulGroup(h, w, y, prefill);
    be.AttentionInput(q, k, v, lw.attn.q_norm, lw.attn.k_norm, spec.inv_freq, cache, s);
    be.Attention(q, cache, s, attn);
    be.SigmoidMul(gate, 0, attn, q_dim);  // the per-element output gate
    be.Matmul(attn, lw.attn.wo, x, /*accumulate=*/true, prefill);
  }

  void FeedForward(Backend& be, const HybridLayer& lw, Workspace& ws, const TensorView& h, TensorView x,
                   int64_t prefill) const {
    const int64_t n = h.shape[0];
    if (!lw.ffn.moe) {
      GatedMlp(be, lw.ffn.mlp, ws, h, x, /*accumulate=*/true, prefill);
      return;
    }
    TensorView out = Rows(ws.moe_out, n);  // [n, hidden]
    MoeBlock(be, lw.ffn.experts, ws, h, h, out, prefill);
    be.Add(out, x);
    if (!lw.shared) return;
    TensorView shared = Rows(ws.o, n);          // [n, hidden]
    TensorView gate = View(ws.lin_proj, n, 1);  // [n, 1]
    GatedMlp(be, lw.shared_mlp, ws, h, shared, /*accumulate=*/false, prefill);
    be.Matmul(h, lw.shared_gate, gate, /*accumulate=*/false, prefill);
    be.SigmoidMul(gate, 0, shared, 1);
    be.Add(shared, x);
  }
};

std::string LayerPrefix(const std::string& text, int64_t l) { return text + "layers." + std::to_string(l) + "."; }

// The linear layer's fused input projection q | k | v | z | b | a [proj_cols, hidden].
Result<TensorView> LoadLinearProj(const ModelConfig& c, WeightLoader& ld, const std::string& p,
                                  const GatedDeltaShape& s, LinearProjLayout layout) {
  const int64_t hidden = c.hidden_size, Hk = s.n_k_heads, Hv = s.n_v_heads, dk = s.dk, dv = s.dv;
  if (layout == LinearProjLayout::kSeparate)
    return ld.FusedRows(
        {p + "in_proj_qkv.weight", p + "in_proj_z.weight", p + "in_proj_b.weight", p + "in_proj_a.weight"},
        {s.conv_dim(), Hv * dv, Hv, Hv}, hidden);
  // Qwen3-Next: per key head g, in_proj_qkvz rows q_g (dk) | k_g (dk) | v_g (r dv) | z_g
  // (r dv) and in_proj_ba rows b_g (r) | a_g (r), r = v heads per key head.
  const int64_t r = Hv / Hk, W = 2 * dk + 2 * r * dv;
  const std::string qkvz = p + "in_proj_qkvz.weight", ba = p + "in_proj_ba.weight";
  std::vector<WeightLoader::RowRange> ranges;
  const int64_t offsets[] = {0, dk, 2 * dk, 2 * dk + r * dv}, counts[] = {dk, dk, r * dv, r * dv};
  for (int part = 0; part < 4; ++part)
    for (int64_t g = 0; g < Hk; ++g) ranges.push_back({qkvz, Hk * W, g * W + offsets[part], counts[part]});
  for (int part = 0; part < 2; ++part)
    for (int64_t g = 0; g < Hk; ++g) ranges.push_back({ba, 2 * Hv, g * 2 * r + part * r, r});
  return ld.GatherRows(ranges, hidden);
}

// How the checkpoint stores what MLX's sanitize changes: Hugging Face (conv1d.weight
// [C, 1, K], zero-centred norms that need + 1) or mlx-community's pre-sanitised layout
// (conv1d.weight [C, K, 1], the same bytes; the + 1 already in the norms but the gated
// one). Told by the first linear layer's conv1d shape; a kernel of 1 reads as Hugging Face.
struct CheckpointLayout {
  bool mlx = false;
  float norm_offset() const { return mlx ? 0.0f : 1.0f; }
};

CheckpointLayout DetectLayout(const ModelConfig& c, const WeightLoader& ld, const std::string& text) {
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    if (c.layer_types[static_cast<size_t>(l)] != AttentionType::kLinear) continue;
    const Shape* s = ld.StoredShape(LayerPrefix(text, l) + "linear_attn.conv1d.weight");
    return {s != nullptr && s->ndim == 3 && (*s)[1] > 1 && (*s)[2] == 1};
  }
  return {};
}

Status LoadLinear(const ModelConfig& c, WeightLoader& ld, const std::string& p, const GatedDeltaShape& s,
                  LinearProjLayout layout, const CheckpointLayout& ckpt, HybridLayer* lw) {
  lw->linear = true;
  GatedDeltaLayerWeights& w = lw->linear_w;
  AX_ASSIGN_OR_RETURN(w.in_proj, LoadLinearProj(c, ld, p, s, layout));
  // conv1d.weight [conv_dim, 1, K] as stored (a depthwise conv: one filter per channel),
  // or MLX's [conv_dim, K, 1]: the same bytes either way.
  const Shape conv = ckpt.mlx ? Shape{s.conv_dim(), s.kernel, 1} : Shape{s.conv_dim(), 1, s.kernel};
  AX_ASSIGN_OR_RETURN(w.gd.conv_w, ld.FloatTensor(p + "conv1d.weight", conv));
  AX_ASSIGN_OR_RETURN(w.gd.a_log, ld.Vector(p + "A_log", s.n_v_heads));
  AX_ASSIGN_OR_RETURN(w.gd.dt_bias, ld.Vector(p + "dt_bias", s.n_v_heads));
  AX_ASSIGN_OR_RETURN(w.gd.norm_w, ld.Vector(p + "norm.weight", s.dv));  // plain w (gated RMSNorm)
  AX_ASSIGN_OR_RETURN(w.out_proj, ld.Matrix(p + "out_proj.weight", c.hidden_size, int64_t{s.n_v_heads} * s.dv));
  return Status::Ok();
}

// q_proj [heads * 2 * head_dim, hidden]: per head, head_dim query rows then head_dim gate rows.
Status LoadGatedAttention(const ModelConfig& c, WeightLoader& ld, const std::string& p, float norm_offset,
                          HybridLayer* lw) {
  const int64_t hidden = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads;
  const int64_t kv_dim = c.num_key_value_heads * hd;
  std::vector<WeightLoader::RowRange> q, gate;
  for (int64_t h = 0; h < H; ++h) {
    q.push_back({p + "q_proj.weight", 2 * H * hd, 2 * h * hd, hd});
    gate.push_back({p + "q_proj.weight", 2 * H * hd, 2 * h * hd + hd, hd});
  }
  AX_ASSIGN_OR_RETURN(lw->attn.wq, ld.GatherRows(q, hidden));
  AX_ASSIGN_OR_RETURN(lw->w_gate, ld.GatherRows(gate, hidden));
  AX_ASSIGN_OR_RETURN(lw->attn.wk, ld.Matrix(p + "k_proj.weight", kv_dim, hidden));
  AX_ASSIGN_OR_RETURN(lw->attn.wv, ld.Matrix(p + "v_proj.weight", kv_dim, hidden));
  AX_ASSIGN_OR_RETURN(lw->attn.wo, ld.Matrix(p + "o_proj.weight", hidden, H * hd));
  AX_ASSIGN_OR_RETURN(lw->attn.q_norm, ld.Vector(p + "q_norm.weight", hd, norm_offset));
  AX_ASSIGN_OR_RETURN(lw->attn.k_norm, ld.Vector(p + "k_norm.weight", hd, norm_offset));
  return Status::Ok();
}

Status LoadFeedForward(const ModelConfig& c, WeightLoader& ld, const std::string& p, int64_t layer,
                       const HybridOptions& o, HybridLayer* lw) {
  if (!SparseMoeLayer(c, layer)) return LoadGatedMlp(c, ld, p, c.intermediate_size, &lw->ffn.mlp);
  MoeWeights& w = lw->ffn.experts;
  lw->ffn.moe = true;
  AX_ASSIGN_OR_RETURN(w.router, ld.Matrix(p + "gate.weight", c.num_experts, c.hidden_size));
  AX_RETURN_IF_ERROR(LoadQwenExperts(c, ld, p, layer, &w));
  AX_RETURN_IF_ERROR(CheckMoeWeights(w, p + "experts"));
  w.shape.num_experts = static_cast<int>(c.num_experts);
  w.shape.top_k = static_cast<int>(c.top_k_experts);
  w.shape.inter = c.moe_intermediate_size;
  w.shape.softmax = true;
  w.shape.normalize = o.always_normalize_topk || c.norm_topk_prob;
  w.shape.act = GateAct::kSilu;
  w.shape.weights = w.gate_up.dtype;
  if (c.shared_expert_intermediate_size <= 0) return Status::Ok();
  lw->shared = true;
  AX_RETURN_IF_ERROR(LoadGatedMlp(c, ld, p + "shared_expert.", c.shared_expert_intermediate_size, &lw->shared_mlp));
  AX_ASSIGN_OR_RETURN(lw->shared_gate, ld.Matrix(p + "shared_expert_gate.weight", 1, c.hidden_size));
  return Status::Ok();
}

int RotaryDim(const ModelConfig& c) {
  return static_cast<int>(static_cast<double>(c.head_dim) * c.partial_rotary_factor);
}

}  // namespace

Status ParseHybridExtras(const ConfigFields& f, ModelConfig* c, bool moe) {
  AX_RETURN_IF_ERROR(f.Int("linear_conv_kernel_dim", &c->linear_conv_kernel_dim, false, 1, 64));
  AX_RETURN_IF_ERROR(f.Int("linear_key_head_dim", &c->linear_key_head_dim, true));
  AX_RETURN_IF_ERROR(f.Int("linear_value_head_dim", &c->linear_value_head_dim, true));
  AX_RETURN_IF_ERROR(f.Int("linear_num_key_heads", &c->linear_num_key_heads, true));
  AX_RETURN_IF_ERROR(f.Int("linear_num_value_heads", &c->linear_num_value_heads, true));
  if (c->linear_num_value_heads % c->linear_num_key_heads != 0)
    return f.Invalid("linear_num_value_heads",
                     "a multiple of linear_num_key_heads (" + std::to_string(c->linear_num_key_heads) + ")",
                     f.Find("linear_num_value_heads"));
  // partial_rotary_factor: at the top level, or in rope_parameters (transformers 5).
  const char* prf = "partial_rotary_factor";
  AX_RETURN_IF_ERROR(f.Double(prf, &c->partial_rotary_factor, false, 0));
  if (const Json* rp = f.Find("rope_parameters"); rp != nullptr && rp->is_object()) {
    const ConfigFields r(*rp, f.path(), f.prefix() + "rope_parameters.");
    AX_RETURN_IF_ERROR(r.Double(prf, &c->partial_rotary_factor, false, 0));
  }
  const int rot = RotaryDim(*c);
  if (c->partial_rotary_factor > 1 || rot < 2 || rot % 2 != 0)
    return f.Invalid(prf,
                     "a factor in (0, 1] that leaves an even rotary dim of head_dim " + std::to_string(c->head_dim),
                     f.Find(prf));
  // No layer_types: transformers' pattern, a full layer every full_attention_interval.
  if (f.Find("layer_types") == nullptr) {
    int64_t interval = 4;
    AX_RETURN_IF_ERROR(f.Int("full_attention_interval", &interval, false));
    c->layer_types.clear();
    for (int64_t i = 0; i < c->num_hidden_layers; ++i)
      c->layer_types.push_back((i + 1) % interval != 0 ? AttentionType::kLinear : AttentionType::kFull);
  }
  if (!moe) return Status::Ok();
  AX_RETURN_IF_ERROR(ParseQwenMoeExtras(f, c));
  return f.Int("shared_expert_intermediate_size", &c->shared_expert_intermediate_size, false, 0);
}

Result<std::unique_ptr<ArchModel>> LoadHybrid(const ModelConfig& c, WeightLoader& ld, const HybridOptions& o) {
  auto m = std::make_unique<HybridDecoder>();
  const int64_t hidden = c.hidden_size, hd = c.head_dim;
  const std::string text = TextPrefix(c, ld);
  m->eps = static_cast<float>(c.rms_norm_eps);
  AttentionShape& s = m->spec.shape;
  s.n_heads = static_cast<int>(c.num_attention_heads);
  s.n_kv_heads = static_cast<int>(c.num_key_value_heads);
  s.head_dim = static_cast<int>(hd);
  s.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  s.norm_eps = m->eps;
  // Partial rotary: the first rot dims turn, with frequencies 1 / theta^(2i / rot).
  AX_ASSIGN_OR_RETURN(m->spec.inv_freq, ld.Computed(RopeInvFreq(RotaryDim(c), c.rope_theta, c.rope_scaling)));
  GatedDeltaShape& g = m->gd;
  g.n_k_heads = static_cast<int>(c.linear_num_key_heads);
  g.n_v_heads = static_cast<int>(c.linear_num_value_heads);
  g.dk = static_cast<int>(c.linear_key_head_dim);
  g.dv = static_cast<int>(c.linear_value_head_dim);
  g.kernel = static_cast<int>(c.linear_conv_kernel_dim);
  g.norm_eps = m->eps;
  AX_ASSIGN_OR_RETURN(m->embed, ld.Matrix(text + "embed_tokens.weight", c.vocab_size, hidden));
  const CheckpointLayout ckpt = DetectLayout(c, ld, text);
  const float offset = ckpt.norm_offset();
  m->layers.resize(static_cast<size_t>(c.num_hidden_layers));
  int64_t experts = 0, top_k = 0, moe_inter = 0, linear = 0;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = LayerPrefix(text, l);
    HybridLayer& lw = m->layers[static_cast<size_t>(l)];
    AX_ASSIGN_OR_RETURN(lw.input_norm, ld.Vector(p + "input_layernorm.weight", hidden, offset));
    AX_ASSIGN_OR_RETURN(lw.post_norm, ld.Vector(p + "post_attention_layernorm.weight", hidden, offset));
    if (c.layer_types[static_cast<size_t>(l)] == AttentionType::kLinear) {
      AX_RETURN_IF_ERROR(LoadLinear(c, ld, p + "linear_attn.", g, o.layout, ckpt, &lw));
      LayerMemory mem;
      mem.kind = LayerMemoryKind::kRecurrent;
      mem.conv_dim = g.conv_dim();
      mem.conv_kernel = g.kernel;
      mem.state_heads = g.n_v_heads;
      mem.state_k = g.dk;
      mem.state_v = g.dv;
      m->memory.push_back(mem);
      ++linear;
    } else {
      AX_RETURN_IF_ERROR(LoadGatedAttention(c, ld, p + "self_attn.", offset, &lw));
      m->memory.push_back({LayerMemoryKind::kPagedKv, s.n_kv_heads, s.head_dim, 0, false, -1});
      m->attention.push_back(s);
    }
    AX_RETURN_IF_ERROR(LoadFeedForward(c, ld, p + "mlp.", l, o, &lw));
    if (lw.ffn.moe) {
      m->moe.push_back(lw.ffn.experts.shape);
      experts = std::max<int64_t>(experts, lw.ffn.experts.shape.num_experts);
      top_k = std::max<int64_t>(top_k, lw.ffn.experts.shape.top_k);
      moe_inter = std::max<int64_t>(moe_inter, lw.ffn.experts.shape.inter);
    }
  }
  if (linear > 0) m->gated_delta.push_back(g);
  AX_ASSIGN_OR_RETURN(m->head.final_norm, ld.Vector(text + "norm.weight", hidden, offset));
  m->head.norm_eps = m->eps;
  AX_ASSIGN_OR_RETURN(m->head.lm_head, LoadLmHead(c, ld, m->embed));
  const int64_t q_dim = c.num_attention_heads * hd, kv_dim = c.num_key_value_heads * hd;
  const int64_t widest_mlp = std::max(c.intermediate_size, c.shared_expert_intermediate_size);
  m->sizes = {hidden, q_dim, kv_dim, 2 * widest_mlp, c.vocab_size, 0, 0, experts, top_k, moe_inter};
  m->sizes.linear_proj = std::max<int64_t>(linear > 0 ? g.proj_cols() : 0, q_dim);
  m->sizes.linear_conv = linear > 0 ? g.conv_dim() : 1;
  m->sizes.linear_out = linear > 0 ? int64_t{g.n_v_heads} * g.dv : 1;
  return std::unique_ptr<ArchModel>(std::move(m));
}

std::vector<std::string> HybridFeatures(const ModelConfig& c) {
  std::vector<std::string> f;
  int64_t linear = 0;
  for (AttentionType t : c.layer_types) linear += t == AttentionType::kLinear;
  f.push_back("GatedDelta linear attention on " + std::to_string(linear) + " of " +
              std::to_string(c.num_hidden_layers) + " layers (" + std::to_string(c.linear_num_key_heads) + " k / " +
              std::to_string(c.linear_num_value_heads) + " v heads of " + std::to_string(c.linear_key_head_dim) + "/" +
              std::to_string(c.linear_value_head_dim) + ", conv kernel " + std::to_string(c.linear_conv_kernel_dim) +
              ", f32 recurrent state per sequence)");
  f.push_back("GatedDelta runs on the CPU backend only (GatedDelta on CUDA is not implemented yet)");
  f.push_back(
      "recurrent state: prefix reuse off (always a miss); n-gram drafts keep the state after each drafted "
      "row, a rejection restores the accepted one");
  f.push_back("gated full attention (sigmoid output gate) " + std::to_string(c.num_attention_heads) + "/" +
              std::to_string(c.num_key_value_heads) + " heads of " + std::to_string(c.head_dim) + ", partial rotary " +
              std::to_string(RotaryDim(c)) + " of " + std::to_string(c.head_dim));
  f.push_back("zero-centred (1 + w) RMSNorms, gated RMSNorm on the linear layers");
  int64_t sparse = 0;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) sparse += c.num_experts > 0 && SparseMoeLayer(c, l);
  if (sparse > 0)
    f.push_back("sparse MoE on " + std::to_string(sparse) + " of " + std::to_string(c.num_hidden_layers) +
                " layers: top " + std::to_string(c.top_k_experts) + " of " + std::to_string(c.num_experts) +
                " experts of " + std::to_string(c.moe_intermediate_size) +
                (c.shared_expert_intermediate_size > 0
                     ? ", sigmoid-gated shared expert of " + std::to_string(c.shared_expert_intermediate_size)
                     : std::string()));
  if (c.tie_word_embeddings) f.push_back("tied embeddings");
  return f;
}

}  // namespace ax
