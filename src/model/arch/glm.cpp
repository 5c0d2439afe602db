#include "model/arch/glm.h"

#include <algorithm>

#include "model/arch/common.h"
#include "model/arch/llama_decoder.h"

namespace ax {

void GlmDecoder::Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const {
  const int64_t n = batch.n_tokens(), prefill = batch.n_prefill_rows;
  TensorView x = Rows(ws.x, n);  // [n, hidden] residual stream
  TensorView h = Rows(ws.h, n);  // [n, hidden]
  be.Embedding(embed, 1.0f, x);
  for (size_t l = 0; l < layers.size(); ++l) {
    const GlmLayer& lw = layers[l];
    be.RmsNorm(x, lw.input_norm, eps, h);
    if (lw.mla) {
      MlaBlock(be, mla_spec, lw.mla_w, kv.layers[l], ws, h, x, /*accumulate=*/true, prefill);
    } else {
      AttentionBlock(be, lw.spec, lw.attn, kv.layers[l], ws, h, x, /*accumulate=*/true, prefill);
    }
    be.RmsNorm(x, lw.post_norm, eps, h);
    if (!lw.moe) {
      GatedMlp(be, lw.mlp, ws, h, x, /*accumulate=*/true, prefill);
      continue;
    }
    TensorView out = Rows(ws.moe_out, n);  // [n, hidden]
    MoeBlock(be, lw.experts, ws, h, h, out, prefill);
    be.Add(out, x);
    if (lw.shared) GatedMlp(be, lw.shared_mlp, ws, h, x, /*accumulate=*/true, prefill);
  }
}

namespace {

// The expert count: n_routed_experts (GLM's configs), else num_experts or
// num_local_experts (other spellings of the same count).
Status ParseRoutedExperts(const ConfigFields& f, ModelConfig* c) {
  for (const char* key : {"n_routed_experts", "num_experts", "num_local_experts"})
    if (f.Find(key) != nullptr) return f.Int(key, &c->num_experts, true, 1);
  return f.Invalid("n_routed_experts", "an integer >= 1 (the routed experts of a sparse layer)", nullptr);
}

// Dense layers: mlp_layer_types ("dense" / "sparse" per layer, glm4_moe_lite), else the
// first first_k_dense_replace layers (both families' published configs).
Status ParseDenseLayers(const ConfigFields& f, ModelConfig* c) {
  c->mlp_only_layers.clear();
  c->decoder_sparse_step = 1;
  if (const Json* j = f.Find("mlp_layer_types")) {
    const std::string expected =
        "a list of " + std::to_string(c->num_hidden_layers) + " \"dense\" / \"sparse\" entries (num_hidden_layers)";
    if (!j->is_array() || static_cast<int64_t>(j->size()) != c->num_hidden_layers)
      return f.Invalid("mlp_layer_types", expected, j);
    for (int64_t l = 0; l < c->num_hidden_layers; ++l) {
      const Json& e = (*j)[static_cast<size_t>(l)];
      const std::string type = e.is_string() ? e.get<std::string>() : std::string();
      if (type == "dense") {
        c->mlp_only_layers.push_back(l);
      } else if (type != "sparse") {
        return f.Invalid("mlp_layer_types", expected, j);
      }
    }
    return Status::Ok();
  }
  int64_t k = 1;
  AX_RETURN_IF_ERROR(f.Int("first_k_dense_replace", &k, false, 0, c->num_hidden_layers));
  for (int64_t l = 0; l < k; ++l) c->mlp_only_layers.push_back(l);
  return Status::Ok();
}

}  // namespace

Status ParseGlmMoeExtras(const ConfigFields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(ParseRoutedExperts(f, c));
  const int64_t E = c->num_experts;
  AX_RETURN_IF_ERROR(f.Int("num_experts_per_tok", &c->top_k_experts, true, 1, E));
  AX_RETURN_IF_ERROR(f.Int("moe_intermediate_size", &c->moe_intermediate_size, true));
  c->n_shared_experts = 1;  // transformers' default
  AX_RETURN_IF_ERROR(f.Int("n_shared_experts", &c->n_shared_experts, false, 0));
  c->norm_topk_prob = true;
  AX_RETURN_IF_ERROR(f.Bool("norm_topk_prob", &c->norm_topk_prob));
  AX_RETURN_IF_ERROR(f.Double("routed_scaling_factor", &c->routed_scaling_factor, false, 0));
  // Groups of consecutive experts; a group scores the sum of its two best (so holds two
  // at least when there are several), and the chosen groups must hold top_k experts.
  AX_RETURN_IF_ERROR(f.Int("n_group", &c->n_group, false, 1, E));
  if (E % c->n_group != 0 || (c->n_group > 1 && E / c->n_group < 2))
    return f.Invalid(
        "n_group", "a divisor of n_routed_experts (" + std::to_string(E) + ") that leaves at least 2 experts per group",
        f.Find("n_group"));
  AX_RETURN_IF_ERROR(f.Int("topk_group", &c->topk_group, false, 1, c->n_group));
  if (c->topk_group * (E / c->n_group) < c->top_k_experts)
    return f.Invalid("topk_group",
                     "enough groups to hold num_experts_per_tok (" + std::to_string(c->top_k_experts) + ") experts",
                     f.Find("topk_group"));
  return ParseDenseLayers(f, c);
}

Status NameFields(Status s, const std::string& fields) {
  if (s.ok()) return s;
  return Status(s.code(), s.message() + " (from config.json's " + fields + ")");
}

Status LoadGlmFeedForward(const ModelConfig& c, WeightLoader& ld, const std::string& p, int64_t l, bool masked_zero,
                          GlmDecoder* m, GlmLayer* lw) {
  const int64_t hidden = c.hidden_size;
  AX_ASSIGN_OR_RETURN(lw->input_norm, ld.Vector(p + "input_layernorm.weight", hidden));
  AX_ASSIGN_OR_RETURN(lw->post_norm, ld.Vector(p + "post_attention_layernorm.weight", hidden));
  const std::string mp = p + "mlp.";
  if (!SparseMoeLayer(c, l)) {
    if (ld.Has(mp + "gate.weight"))
      return InvalidArgument(mp + "gate.weight: a router, but config.json makes layer " + std::to_string(l) +
                             " a dense MLP layer (first_k_dense_replace, mlp_layer_types)");
    return NameFields(LoadGatedMlp(c, ld, mp, c.intermediate_size, &lw->mlp), "intermediate_size");
  }
  lw->moe = true;
  MoeWeights& w = lw->experts;
  AX_ASSIGN_OR_RETURN(w.router, ld.Matrix(mp + "gate.weight", c.num_experts, c.hidden_size));
  // Kept in f32 (transformers keeps it so: _keep_in_fp32_modules_strict).
  AX_ASSIGN_OR_RETURN(w.choice_bias, ld.Vector(mp + "gate.e_score_correction_bias", c.num_experts));
  AX_RETURN_IF_ERROR(
      NameFields(LoadQwenExperts(c, ld, mp, l, &w), "n_routed_experts, moe_intermediate_size, hidden_size"));
  AX_RETURN_IF_ERROR(CheckMoeWeights(w, mp + "experts"));
  MoeShape& s = w.shape;
  s.num_experts = static_cast<int>(c.num_experts);
  s.top_k = static_cast<int>(c.top_k_experts);
  s.inter = c.moe_intermediate_size;
  s.softmax = false;
  s.normalize = c.norm_topk_prob;
  s.scale = static_cast<float>(c.routed_scaling_factor);
  s.choice_bias = true;
  s.n_group = static_cast<int>(c.n_group);
  s.topk_group = static_cast<int>(c.topk_group);
  s.masked_zero = masked_zero;
  s.act = GateAct::kSilu;
  s.weights = w.gate_up.dtype;
  m->moe.push_back(s);
  if (c.n_shared_experts > 0) {
    lw->shared = true;
    AX_RETURN_IF_ERROR(NameFields(
        LoadGatedMlp(c, ld, mp + "shared_experts.", c.moe_intermediate_size * c.n_shared_experts, &lw->shared_mlp),
        "moe_intermediate_size x n_shared_experts"));
  }
  return Status::Ok();
}

Status LoadGlmEnds(const ModelConfig& c, WeightLoader& ld, GlmDecoder* m) {
  const int64_t hidden = c.hidden_size;
  AX_ASSIGN_OR_RETURN(m->embed, ld.Matrix("model.embed_tokens.weight", c.vocab_size, hidden));
  AX_ASSIGN_OR_RETURN(m->head.final_norm, ld.Vector("model.norm.weight", hidden));
  m->head.norm_eps = m->eps;
  AX_ASSIGN_OR_RETURN(m->head.lm_head, LoadLmHead(c, ld, m->embed));
  WorkspaceSizes& z = m->sizes;
  z.hidden = hidden;
  z.vocab = c.vocab_size;
  z.gate_up = 2 * std::max(c.intermediate_size, c.moe_intermediate_size * c.n_shared_experts);
  for (const MoeShape& s : m->moe) {
    z.experts = std::max<int64_t>(z.experts, s.num_experts);
    z.top_k = std::max<int64_t>(z.top_k, s.top_k);
    z.moe_inter = std::max<int64_t>(z.moe_inter, s.inter);
  }
  return Status::Ok();
}

void GlmMoeFeatures(const ModelConfig& c, std::vector<std::string>* f) {
  int64_t sparse = 0;
  std::string dense;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    if (SparseMoeLayer(c, l)) {
      ++sparse;
    } else {
      dense += (dense.empty() ? "" : ", ") + std::to_string(l);
    }
  }
  f->push_back("sparse MoE on " + std::to_string(sparse) + " of " + std::to_string(c.num_hidden_layers) +
               " layers: top " + std::to_string(c.top_k_experts) + " of " + std::to_string(c.num_experts) +
               " experts of " + std::to_string(c.moe_intermediate_size) + " + " + std::to_string(c.n_shared_experts) +
               " shared");
  f->push_back("noaux_tc sigmoid router: e_score_correction_bias picks the experts, " +
               (c.n_group > 1 ? "top " + std::to_string(c.topk_group) + " of " + std::to_string(c.n_group) + " groups, "
                              : std::string()) +
               (c.norm_topk_prob ? "weights renormalised, " : "weights not renormalised, ") + "scaled by " +
               JsonPreview(Json(c.routed_scaling_factor)) + " (routed_scaling_factor)");
  f->push_back("noaux_tc router runs on the CPU backend only (the noaux_tc router on CUDA is not implemented yet)");
  if (!dense.empty())
    f->push_back("dense MLP of " + std::to_string(c.intermediate_size) + " on layer" +
                 (sparse + 1 < c.num_hidden_layers ? "s " : " ") + dense);
  if (c.tie_word_embeddings) f->push_back("tied embeddings");
}

}  // namespace ax
