// Qwen3MoeForCausalLM (qwen3_moe: Qwen3-30B-A3B, Qwen3-235B-A22B, Qwen3-Coder-30B-A3B):
// the Qwen3 decoder (q/k RMSNorm) whose feed-forward block is, on the sparse layers,
//   p      = softmax(h · W_gate^T)                      [n, E] over every expert
//   ids, w = top-k of p (num_experts_per_tok), w / sum(w) when norm_topk_prob
//   x     += sum_j w[:, j] * expert_{ids[:, j]}(h)      each expert a SwiGLU MLP
// with h = post_attention_layernorm(x). Layer i is sparse iff num_experts > 0, i is not
// in mlp_only_layers and (i + 1) % decoder_sparse_step == 0; the others keep the dense
// MLP of intermediate_size. Three checkpoint layouts of the experts, detected per layer:
//   Hugging Face        mlp.experts.E.{gate_proj,up_proj,down_proj}.weight, one per expert
//   transformers 5      mlp.experts.gate_up_proj [E, 2*I, hidden], mlp.experts.down_proj
//   MLX (mlx-community) mlp.switch_mlp.{gate_proj,up_proj,down_proj}.weight [E, ., .]
// all fused at load into the MoE block's per-expert gate-then-up rows.
#include "model/arch/llama_decoder.h"

namespace ax {
namespace {

// transformers' Qwen3MoeConfig: head_dim hidden / heads (published configs set 128),
// 32768 positions, no bos/eos, decoder_sparse_step 1, norm_topk_prob false.
void Defaults(ModelConfig* c) { c->max_position_embeddings = 32768; }

// mlp_only_layers: a list of layer indices below num_hidden_layers.
Status ParseMlpOnlyLayers(const ConfigFields& f, ModelConfig* c) {
  const Json* j = f.Find("mlp_only_layers");
  if (j == nullptr) return Status::Ok();
  const std::string expected =
      "a list of layer indices in [0, " + std::to_string(c->num_hidden_layers - 1) + "] (num_hidden_layers)";
  if (!j->is_array()) return f.Invalid("mlp_only_layers", expected, j);
  for (const Json& e : *j) {
    int64_t l = -1;
    if (!JsonToInt64(e, &l) || l < 0 || l >= c->num_hidden_layers) return f.Invalid("mlp_only_layers", expected, j);
    c->mlp_only_layers.push_back(l);
  }
  return Status::Ok();
}

// The expert count: num_experts (the published configs), or num_local_experts (what
// transformers 5 writes: its attribute map stores num_experts under that name).
Status ParseExpertCount(const ConfigFields& f, ModelConfig* c) {
  if (f.Find("num_experts") == nullptr && f.Find("num_local_experts") != nullptr)
    return f.Int("num_local_experts", &c->num_experts, true, 0);
  AX_RETURN_IF_ERROR(f.Int("num_experts", &c->num_experts, true, 0));
  int64_t local = c->num_experts;
  AX_RETURN_IF_ERROR(f.Int("num_local_experts", &local, false, 0));
  if (local != c->num_experts)
    return f.Invalid("num_local_experts", "the same count as num_experts (" + std::to_string(c->num_experts) + ")",
                     f.Find("num_local_experts"));
  return Status::Ok();
}

std::string LayerName(int64_t layer) { return "layer " + std::to_string(layer); }

}  // namespace

// The MoE sizes are required (transformers would substitute the 30B-A3B's 128 experts
// of 768): a config without them describes some other model.
Status ParseQwenMoeExtras(const ConfigFields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(ParseExpertCount(f, c));
  if (c->num_experts > 0) {
    AX_RETURN_IF_ERROR(f.Int("num_experts_per_tok", &c->top_k_experts, true, 1, c->num_experts));
    AX_RETURN_IF_ERROR(f.Int("moe_intermediate_size", &c->moe_intermediate_size, true));
  }
  AX_RETURN_IF_ERROR(f.Bool("norm_topk_prob", &c->norm_topk_prob));
  AX_RETURN_IF_ERROR(f.Int("decoder_sparse_step", &c->decoder_sparse_step, false));
  return ParseMlpOnlyLayers(f, c);
}

// The experts of one sparse layer (p = "model.layers.N.mlp.") into w's gate_up
// [E * 2I, hidden] (per expert gate rows then up rows) and down [E * hidden, I].
Status LoadQwenExperts(const ModelConfig& cfg, WeightLoader& ld, const std::string& p, int64_t layer, MoeWeights* w) {
  const int64_t E = cfg.num_experts, I = cfg.moe_intermediate_size, hidden = cfg.hidden_size;
  if (ld.Has(p + "experts.gate_up_proj")) {
    AX_ASSIGN_OR_RETURN(w->gate_up, ld.Stacked(p + "experts.gate_up_proj", E, 2 * I, hidden));
    AX_ASSIGN_OR_RETURN(w->down, ld.Stacked(p + "experts.down_proj", E, hidden, I));
    return Status::Ok();
  }
  if (ld.Has(p + "switch_mlp.gate_proj.weight")) {
    const std::string s = p + "switch_mlp.";
    AX_ASSIGN_OR_RETURN(w->gate_up,
                        ld.InterleavedStacks({s + "gate_proj.weight", s + "up_proj.weight"}, E, {I, I}, hidden));
    AX_ASSIGN_OR_RETURN(w->down, ld.Stacked(s + "down_proj.weight", E, hidden, I));
    return Status::Ok();
  }
  if (!ld.Has(p + "experts.0.gate_proj.weight"))
    return NotFound(p + "experts.0.gate_proj.weight: missing, and neither " + p + "experts.gate_up_proj nor " + p +
                    "switch_mlp.gate_proj.weight is stored (" + LayerName(layer) +
                    " is a sparse MoE layer: num_experts, decoder_sparse_step, mlp_only_layers)");
  std::vector<std::string> gate_up, down;
  for (int64_t e = 0; e < E; ++e) {
    const std::string x = p + "experts." + std::to_string(e) + ".";
    gate_up.push_back(x + "gate_proj.weight");
    gate_up.push_back(x + "up_proj.weight");
    down.push_back(x + "down_proj.weight");
  }
  AX_ASSIGN_OR_RETURN(w->gate_up, ld.FusedRows(gate_up, std::vector<int64_t>(gate_up.size(), I), hidden));
  AX_ASSIGN_OR_RETURN(w->down, ld.FusedRows(down, std::vector<int64_t>(down.size(), hidden), I));
  return Status::Ok();
}

namespace {

Status LoadFeedForward(const ModelConfig& cfg, WeightLoader& ld, const std::string& p, int64_t layer,
                       FeedForwardWeights* w) {
  if (!SparseMoeLayer(cfg, layer)) {
    if (ld.Has(p + "gate.weight"))
      return InvalidArgument(p + "gate.weight: a router, but config.json makes " + LayerName(layer) +
                             " a dense MLP layer (mlp_only_layers, decoder_sparse_step)");
    return LoadGatedMlp(cfg, ld, p, cfg.intermediate_size, &w->mlp);
  }
  w->moe = true;
  AX_ASSIGN_OR_RETURN(w->experts.router, ld.Matrix(p + "gate.weight", cfg.num_experts, cfg.hidden_size));
  AX_RETURN_IF_ERROR(LoadQwenExperts(cfg, ld, p, layer, &w->experts));
  AX_RETURN_IF_ERROR(CheckMoeWeights(w->experts, p + "experts"));
  MoeShape& s = w->experts.shape;
  s.num_experts = static_cast<int>(cfg.num_experts);
  s.top_k = static_cast<int>(cfg.top_k_experts);
  s.inter = cfg.moe_intermediate_size;
  s.softmax = true;
  s.normalize = cfg.norm_topk_prob;
  s.act = GateAct::kSilu;
  s.weights = w->experts.gate_up.dtype;
  return Status::Ok();
}

Result<std::unique_ptr<ArchModel>> Load(const ModelConfig& c, WeightLoader& loader) {
  return LoadLlamaDecoder(c, loader, /*qk_norm=*/true, &LoadFeedForward);
}

std::vector<std::string> Features(const ModelConfig& c) {
  std::vector<std::string> f = LlamaDecoderFeatures(c);
  f.push_back("per-head q/k RMSNorm");
  int64_t sparse = 0;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) sparse += SparseMoeLayer(c, l);
  if (sparse == 0) {
    f.push_back("no sparse MoE layer (num_experts " + std::to_string(c.num_experts) + ")");
    return f;
  }
  f.push_back("sparse MoE on " + std::to_string(sparse) + " of " + std::to_string(c.num_hidden_layers) +
              " layers: top " + std::to_string(c.top_k_experts) + " of " + std::to_string(c.num_experts) +
              " experts of " + std::to_string(c.moe_intermediate_size) + ", softmax router");
  f.push_back(c.norm_topk_prob ? "top-k weights renormalised (norm_topk_prob)"
                               : "top-k weights not renormalised (norm_topk_prob false)");
  std::string dense;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l)
    if (!SparseMoeLayer(c, l)) dense += (dense.empty() ? "" : ", ") + std::to_string(l);
  if (!dense.empty())
    f.push_back("dense MLP of " + std::to_string(c.intermediate_size) + " on layer" +
                (sparse + 1 < c.num_hidden_layers ? "s " : " ") + dense + " (decoder_sparse_step " +
                std::to_string(c.decoder_sparse_step) + ", mlp_only_layers)");
  return f;
}

}  // namespace

const ArchInfo& Qwen3MoeArch() {
  static const ArchInfo info{ModelFamily::kQwen3Moe,
                             "qwen3_moe",
                             {"Qwen3MoeForCausalLM"},
                             {},
                             &Defaults,
                             &ParseQwenMoeExtras,
                             &Load,
                             &Features};
  return info;
}

}  // namespace ax
