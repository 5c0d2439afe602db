// Glm4MoeLiteForCausalLM (glm4_moe_lite: GLM-4.7-Flash): the GLM MoE decoder
// (arch/glm.h) with multi-head latent attention (model/layers/mla.h) over a latent KV
// cache (model/memory.h kLatent). The checkpoint's attention tensors, per layer:
//   q_a_proj [q_lora_rank, hidden], q_a_layernorm [q_lora_rank],
//   q_b_proj [H * (nope + rope), q_lora_rank]      (or q_proj [H * (nope + rope), hidden])
//   kv_a_proj_with_mqa [kv_lora_rank + rope, hidden], kv_a_layernorm [kv_lora_rank]
//   kv_b_proj [H * (nope + v), kv_lora_rank], o_proj [hidden, H * v]
// At load each head's q rows are reordered rope first, and kv_a_proj_with_mqa is split
// into its latent and rope rows. With rope_interleave the rope dims are stored as pairs
// (x0, x1), (x2, x3), … that transformers turns as rotate_half turns (x0, x2, … | x1,
// x3, …): their rows are de-interleaved at load (evens, then odds) in q and k alike, so
// q·k and the cache's rope part are those of transformers' rotated halves and the
// plain Backend::Rope serves both layouts.
#include <algorithm>
#include <cmath>

#include "model/arch/glm.h"
#include "model/layers/rope.h"

namespace ax {
namespace {

// transformers' Glm4MoeLiteConfig: 202752 positions, eps 1e-5, rope_interleave true,
// head_dim = qk_rope_head_dim (64 until the config says), mlp_layer_types dense first.
void Defaults(ModelConfig* c) {
  c->max_position_embeddings = 202752;
  c->rms_norm_eps = 1e-5;
  c->rope_interleave = true;
  c->head_dim = 64;
}

Status ParseExtras(const ConfigFields& f, ModelConfig* c) {
  if (f.IsNull("q_lora_rank")) {
    c->q_lora_rank = 0;
  } else {
    AX_RETURN_IF_ERROR(f.Int("q_lora_rank", &c->q_lora_rank, true, 1));
  }
  AX_RETURN_IF_ERROR(f.Int("kv_lora_rank", &c->kv_lora_rank, true));
  AX_RETURN_IF_ERROR(f.Int("qk_nope_head_dim", &c->qk_nope_head_dim, true, 0));
  AX_RETURN_IF_ERROR(f.Int("qk_rope_head_dim", &c->qk_rope_head_dim, true, 2));
  AX_RETURN_IF_ERROR(f.Int("v_head_dim", &c->v_head_dim, true));
  if (c->qk_rope_head_dim % 2 != 0)
    return f.Invalid("qk_rope_head_dim", "an even number (rotary pairs)", f.Find("qk_rope_head_dim"));
  c->head_dim = c->qk_rope_head_dim;  // transformers' attribute_map: head_dim is qk_rope_head_dim
  if (const Json* hd = f.Find("head_dim"); hd != nullptr && *hd != Json(c->qk_rope_head_dim))
    return f.Invalid("head_dim", "qk_rope_head_dim (" + std::to_string(c->qk_rope_head_dim) + ") or absent", hd);
  AX_RETURN_IF_ERROR(f.Bool("rope_interleave", &c->rope_interleave));
  // The rope types transformers scales MLA's softmax for (yarn's mscale) are not read.
  if (c->rope_scaling.type != RopeScalingType::kNone)
    return f.Unsupported("rope_parameters", "rope scaling on MLA layers is not supported (default rope only)");
  // partial_rotary_factor (top level, or in rope_parameters as transformers 5 reads it)
  // must leave the whole qk_rope_head_dim turning.
  const Json* rp = f.Find("rope_parameters");
  const ConfigFields r(rp != nullptr && rp->is_object() ? *rp : f.obj(), f.path(), f.prefix() + "rope_parameters.");
  for (const ConfigFields* where : {&f, &r}) {
    double prf = 1.0;
    AX_RETURN_IF_ERROR(where->Double("partial_rotary_factor", &prf, false, 0));
    if (prf != 1.0) return where->Unsupported("partial_rotary_factor", "MLA layers rotate the whole qk_rope_head_dim");
  }
  if (c->attention_bias)
    return f.Unsupported("attention_bias",
                         "biases on the MLA projections (q_a_proj, kv_a_proj_with_mqa, o_proj) "
                         "are not supported");
  return ParseGlmMoeExtras(f, c);
}

// Rows of a rope part of `dim` rows starting at `begin`: de-interleaved (evens, then
// odds) when the checkpoint interleaves them.
void RopeRows(const std::string& name, int64_t rows, int64_t begin, int64_t dim, bool interleave,
              std::vector<WeightLoader::RowRange>* out) {
  if (!interleave) {
    out->push_back({name, rows, begin, dim});
    return;
  }
  for (int parity = 0; parity < 2; ++parity)
    for (int64_t i = parity; i < dim; i += 2) out->push_back({name, rows, begin + i, 1});
}

// A weight whose shape comes from config.json's fields: a shape error also names them.
Result<TensorView> Named(Result<TensorView> r, const std::string& fields) {
  if (r.ok()) return r;
  return NameFields(r.status(), fields);
}

Status LoadMla(const ModelConfig& c, WeightLoader& ld, const std::string& p, const MlaShape& s, MlaWeights* w) {
  const int64_t hidden = c.hidden_size, H = s.n_heads, R = s.rope_dim, N = s.nope_dim, V = s.v_dim;
  const int64_t L = s.latent_dim, ql = c.q_lora_rank, qk = R + N;
  const bool il = c.rope_interleave;
  const std::string q_fields = "num_attention_heads " + std::to_string(H) + ", qk_nope_head_dim " + std::to_string(N) +
                               ", qk_rope_head_dim " + std::to_string(R);
  const std::string ql_fields = "q_lora_rank " + std::to_string(ql) + ", hidden_size " + std::to_string(hidden);
  // q: per head the stored nope rows then rope rows, reordered to rope then nope.
  const std::string q_name = ql > 0 ? p + "q_b_proj.weight" : p + "q_proj.weight";
  std::vector<WeightLoader::RowRange> q_rows;
  for (int64_t h = 0; h < H; ++h) {
    RopeRows(q_name, H * qk, h * qk + N, R, il, &q_rows);
    q_rows.push_back({q_name, H * qk, h * qk, N});
  }
  if (ql > 0) {
    AX_ASSIGN_OR_RETURN(w->wq_a, Named(ld.Matrix(p + "q_a_proj.weight", ql, hidden), ql_fields));
    AX_ASSIGN_OR_RETURN(w->q_a_norm, Named(ld.Vector(p + "q_a_layernorm.weight", ql), ql_fields));
    AX_ASSIGN_OR_RETURN(w->wq, Named(ld.GatherRows(q_rows, ql), q_fields + ", " + ql_fields));
  } else {
    if (ld.Has(p + "q_a_proj.weight"))
      return InvalidArgument(p + "q_a_proj.weight: a q LoRA, but config.json's q_lora_rank is null");
    AX_ASSIGN_OR_RETURN(w->wq, Named(ld.GatherRows(q_rows, hidden), q_fields + ", q_lora_rank null"));
  }
  // kv_a_proj_with_mqa: the latent's L rows, then the shared rope key's R rows.
  const std::string kv_a = p + "kv_a_proj_with_mqa.weight";
  const std::string kv_fields = "kv_lora_rank " + std::to_string(L) + ", qk_rope_head_dim " + std::to_string(R);
  AX_ASSIGN_OR_RETURN(w->w_kv_latent, Named(ld.GatherRows({{kv_a, L + R, 0, L}}, hidden), kv_fields));
  std::vector<WeightLoader::RowRange> kr_rows;
  RopeRows(kv_a, L + R, L, R, il, &kr_rows);
  AX_ASSIGN_OR_RETURN(w->w_k_rope, Named(ld.GatherRows(kr_rows, hidden), kv_fields));
  AX_ASSIGN_OR_RETURN(w->kv_a_norm, Named(ld.Vector(p + "kv_a_layernorm.weight", L), kv_fields));
  // kv_b_proj as stored, in f32: MlaAttention reads its head blocks directly.
  AX_ASSIGN_OR_RETURN(w->kv_b, Named(ld.FloatTensor(p + "kv_b_proj.weight", Shape{H * (N + V), L}),
                                     q_fields + ", v_head_dim " + std::to_string(V) + ", " + kv_fields));
  AX_ASSIGN_OR_RETURN(w->wo, Named(ld.Matrix(p + "o_proj.weight", hidden, H * V),
                                   "num_attention_heads " + std::to_string(H) + ", v_head_dim " + std::to_string(V)));
  return Status::Ok();
}

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& ld) {
  auto m = std::make_unique<GlmDecoder>();
  m->eps = static_cast<float>(c.rms_norm_eps);
  MlaShape& s = m->mla_spec.shape;
  s.n_heads = static_cast<int>(c.num_attention_heads);
  s.latent_dim = static_cast<int>(c.kv_lora_rank);
  s.rope_dim = static_cast<int>(c.qk_rope_head_dim);
  s.nope_dim = static_cast<int>(c.qk_nope_head_dim);
  s.v_dim = static_cast<int>(c.v_head_dim);
  // transformers' scaling: (qk_nope_head_dim + qk_rope_head_dim)^-1/2 (no yarn mscale:
  // rope scaling is refused at parse).
  s.scale = 1.0f / std::sqrt(static_cast<float>(c.qk_nope_head_dim + c.qk_rope_head_dim));
  m->mla_spec.lora_norm_eps = 1e-6f;  // transformers builds q_a_layernorm and kv_a_layernorm with its default eps
  AX_ASSIGN_OR_RETURN(m->mla_spec.inv_freq, ld.Computed(RopeInvFreq(c.qk_rope_head_dim, c.rope_theta, c.rope_scaling)));
  m->layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    GlmLayer& lw = m->layers[static_cast<size_t>(l)];
    lw.mla = true;
    AX_RETURN_IF_ERROR(LoadMla(c, ld, p + "self_attn.", s, &lw.mla_w));
    AX_RETURN_IF_ERROR(LoadGlmFeedForward(c, ld, p, l, /*masked_zero=*/false, m.get(), &lw));
    LayerMemory mem;
    mem.kind = LayerMemoryKind::kLatent;
    mem.latent_dim = s.latent_dim;
    mem.rope_dim = s.rope_dim;
    m->memory.push_back(mem);
    m->mla.push_back(s);
  }
  AX_RETURN_IF_ERROR(LoadGlmEnds(c, ld, m.get()));
  const int64_t H = s.n_heads;
  m->sizes.q_dim = std::max(H * (s.rope_dim + s.nope_dim), H * s.v_dim);
  m->sizes.kv_dim = std::max({c.kv_lora_rank, c.qk_rope_head_dim, c.q_lora_rank});
  m->noaux_router = true;
  return std::unique_ptr<ArchModel>(std::move(m));
}

std::vector<std::string> Features(const ModelConfig& c) {
  std::vector<std::string> f;
  f.push_back("multi-head latent attention (MLA): " + std::to_string(c.num_attention_heads) + " heads, " +
              (c.q_lora_rank > 0 ? "q LoRA of " + std::to_string(c.q_lora_rank) : std::string("q_proj (no q LoRA)")) +
              ", kv latent of " + std::to_string(c.kv_lora_rank) + ", q/k head dims " +
              std::to_string(c.qk_nope_head_dim) + " + " + std::to_string(c.qk_rope_head_dim) + " rope" +
              (c.rope_interleave ? " (interleaved)" : "") + ", v head dim " + std::to_string(c.v_head_dim));
  f.push_back("latent KV cache: " + std::to_string(c.kv_lora_rank + c.qk_rope_head_dim) +
              " values per token and layer (kv latent + rope key), up-projections absorbed into q and the output");
  f.push_back("MLA runs on the CPU backend only (MLA on CUDA is not implemented yet)");
  GlmMoeFeatures(c, &f);
  return f;
}

}  // namespace

const ArchInfo& Glm4MoeLiteArch() {
  static const ArchInfo info{ModelFamily::kGlm4MoeLite,
                             "glm4_moe_lite",
                             {"Glm4MoeLiteForCausalLM"},
                             {},
                             &Defaults,
                             &ParseExtras,
                             &Load,
                             &Features};
  return info;
}

}  // namespace ax
