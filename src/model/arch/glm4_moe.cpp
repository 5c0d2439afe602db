// Glm4MoeForCausalLM (glm4_moe: GLM-4.5, GLM-4.5-Air, GLM-4.6): the GLM MoE decoder
// (arch/glm.h) with grouped-query attention:
//   q, k, v = h · W^T + b             biases when attention_bias (o_proj has none)
//   q, k    = rmsnorm_head(q, k)      when use_qk_norm
//   q, k    = rope of the first int(head_dim * partial_rotary_factor) dims (rotate_half)
//   x      += attention(q, cache) · W_o^T
#include <cmath>

#include "model/arch/glm.h"
#include "model/layers/rope.h"

namespace ax {
namespace {

// transformers' Glm4MoeConfig: partial_rotary_factor 0.5, 131072 positions, eps 1e-5,
// first_k_dense_replace 1, n_group / topk_group 1, norm_topk_prob true.
void Defaults(ModelConfig* c) {
  c->max_position_embeddings = 131072;
  c->rms_norm_eps = 1e-5;
  c->partial_rotary_factor = 0.5;
}

int RotaryDim(const ModelConfig& c) {
  return static_cast<int>(static_cast<double>(c.head_dim) * c.partial_rotary_factor);
}

Status ParseExtras(const ConfigFields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.Bool("use_qk_norm", &c->use_qk_norm));
  // partial_rotary_factor: at the top level, or in rope_parameters (transformers 5).
  const char* prf = "partial_rotary_factor";
  AX_RETURN_IF_ERROR(f.Double(prf, &c->partial_rotary_factor, false, 0));
  const Json* rp = f.Find("rope_parameters");
  const ConfigFields r(rp != nullptr && rp->is_object() ? *rp : f.obj(), f.path(), f.prefix() + "rope_parameters.");
  const bool nested = rp != nullptr && rp->is_object() && r.Find(prf) != nullptr;
  if (nested) AX_RETURN_IF_ERROR(r.Double(prf, &c->partial_rotary_factor, false, 0));
  const ConfigFields& where = nested ? r : f;  // the field read, for the error
  const int rot = RotaryDim(*c);
  if (c->partial_rotary_factor > 1 || rot < 2 || rot % 2 != 0)
    return where.Invalid(prf,
                         "a factor in (0, 1] that leaves an even rotary dim of head_dim " + std::to_string(c->head_dim),
                         where.Find(prf));
  return ParseGlmMoeExtras(f, c);
}

Status LoadAttention(const ModelConfig& c, WeightLoader& ld, const std::string& p, GlmLayer* lw) {
  const int64_t hidden = c.hidden_size, hd = c.head_dim;
  const int64_t q_dim = c.num_attention_heads * hd, kv_dim = c.num_key_value_heads * hd;
  const std::string fields = "num_attention_heads, num_key_value_heads, head_dim, hidden_size";
  AttentionWeights& a = lw->attn;
  AX_ASSIGN_OR_RETURN(a.wq, ld.Matrix(p + "q_proj.weight", q_dim, hidden));
  AX_ASSIGN_OR_RETURN(a.wk, ld.Matrix(p + "k_proj.weight", kv_dim, hidden));
  AX_ASSIGN_OR_RETURN(a.wv, ld.Matrix(p + "v_proj.weight", kv_dim, hidden));
  AX_ASSIGN_OR_RETURN(a.wo, ld.Matrix(p + "o_proj.weight", hidden, q_dim));
  if (c.attention_bias) {
    AX_ASSIGN_OR_RETURN(a.bq, ld.Vector(p + "q_proj.bias", q_dim));
    AX_ASSIGN_OR_RETURN(a.bk, ld.Vector(p + "k_proj.bias", kv_dim));
    AX_ASSIGN_OR_RETURN(a.bv, ld.Vector(p + "v_proj.bias", kv_dim));
  } else if (ld.Has(p + "q_proj.bias")) {
    return InvalidArgument(p + "q_proj.bias: a bias, but config.json has attention_bias false");
  }
  if (c.use_qk_norm) {
    AX_ASSIGN_OR_RETURN(a.q_norm, ld.Vector(p + "q_norm.weight", hd));
    AX_ASSIGN_OR_RETURN(a.k_norm, ld.Vector(p + "k_norm.weight", hd));
  }
  return Status::Ok();
}

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& ld) {
  auto m = std::make_unique<GlmDecoder>();
  m->eps = static_cast<float>(c.rms_norm_eps);
  AttentionSpec spec;
  AttentionShape& s = spec.shape;
  s.n_heads = static_cast<int>(c.num_attention_heads);
  s.n_kv_heads = static_cast<int>(c.num_key_value_heads);
  s.head_dim = static_cast<int>(c.head_dim);
  s.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  s.norm_eps = m->eps;
  AX_ASSIGN_OR_RETURN(spec.inv_freq, ld.Computed(RopeInvFreq(RotaryDim(c), c.rope_theta, c.rope_scaling)));
  m->layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    GlmLayer& lw = m->layers[static_cast<size_t>(l)];
    lw.spec = spec;
    AX_RETURN_IF_ERROR(LoadAttention(c, ld, p + "self_attn.", &lw));
    AX_RETURN_IF_ERROR(LoadGlmFeedForward(c, ld, p, l, /*masked_zero=*/true, m.get(), &lw));
    m->memory.push_back({LayerMemoryKind::kPagedKv, s.n_kv_heads, s.head_dim, 0, false, -1});
    m->attention.push_back(s);
  }
  AX_RETURN_IF_ERROR(LoadGlmEnds(c, ld, m.get()));
  m->sizes.q_dim = c.num_attention_heads * c.head_dim;
  m->sizes.kv_dim = c.num_key_value_heads * c.head_dim;
  m->noaux_router = true;
  return std::unique_ptr<ArchModel>(std::move(m));
}

std::vector<std::string> Features(const ModelConfig& c) {
  std::vector<std::string> f;
  f.push_back((c.num_key_value_heads == c.num_attention_heads ? std::string("multi-head attention ")
                                                              : std::string("grouped-query attention ")) +
              std::to_string(c.num_attention_heads) + "/" + std::to_string(c.num_key_value_heads) + " heads of " +
              std::to_string(c.head_dim) + ", partial rotary " + std::to_string(RotaryDim(c)) + " of " +
              std::to_string(c.head_dim));
  if (c.attention_bias) f.push_back("q/k/v projection biases (attention_bias)");
  if (c.use_qk_norm) f.push_back("per-head q/k RMSNorm (use_qk_norm)");
  GlmMoeFeatures(c, &f);
  return f;
}

}  // namespace

const ArchInfo& Glm4MoeArch() {
  static const ArchInfo info{
      ModelFamily::kGlm4Moe, "glm4_moe", {"Glm4MoeForCausalLM"}, {}, &Defaults, &ParseExtras, &Load, &Features};
  return info;
}

}  // namespace ax
