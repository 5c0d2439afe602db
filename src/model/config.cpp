// config.json / generation_config.json readers and writers.
//
// Defaults follow transformers' LlamaConfig / Qwen3Config (checked against
// transformers 5.x configuration_{llama,qwen3}.py and 4.5x): a missing
// num_key_value_heads is num_attention_heads; a missing head_dim is
// hidden_size / num_attention_heads for Llama and 128 for Qwen3; rope_theta 10000,
// rms_norm_eps 1e-6, tie_word_embeddings false, max_position_embeddings 2048 (Llama)
// / 32768 (Qwen3), bos/eos 1/2 for Llama and none for Qwen3. The structural sizes
// (hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
// vocab_size) are required: transformers would silently substitute a 7B shape.
#include "model/config.h"

#include <cmath>
#include <filesystem>

#include "model/arch/arch.h"
#include "model/config_fields.h"
#include "model/json_util.h"

namespace ax {
namespace {

constexpr int64_t kMaxSize = kConfigMaxSize;
using Fields = ConfigFields;

std::string SupportedList(bool class_names) {
  std::string out;
  for (const ArchInfo* a : Architectures()) {
    const std::vector<std::string> names =
        class_names ? a->class_names : std::vector<std::string>{a->model_type};
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    if (class_names)
      for (const std::string& n : a->multimodal_class_names) out += ", " + n + " (text model)";
  }
  return out;
}

// Architectures users bring that the registry does not run yet, with what is missing
// (doctor's answer for them).
struct KnownUnsupported {
  const char* name;  // class name or model_type
  const char* missing;
};
constexpr const char* kGemma3nMissing = "Gemma 3n's AltUp residual streams, Laurel blocks and activation sparsity";
constexpr KnownUnsupported kKnownUnsupported[] = {
    {"Gemma3nForCausalLM", kGemma3nMissing},
    {"Gemma3nForConditionalGeneration", kGemma3nMissing},
    {"gemma3n_text", kGemma3nMissing},
};

const char* MissingFor(const std::string& name) {
  for (const KnownUnsupported& k : kKnownUnsupported)
    if (name == k.name) return k.missing;
  return nullptr;
}

// Finds the architecture from architectures[0] (or model_type); sets c->family,
// c->architecture and c->multimodal.
Result<const ArchInfo*> ResolveArchitecture(const Fields& f, ModelConfig* c) {
  if (const Json* a = f.Find("architectures")) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      return f.Invalid("architectures", "a non-empty list of class names", a);
    c->architecture = (*a)[0].get<std::string>();
    for (const ArchInfo* info : Architectures()) {
      for (const std::string& n : info->class_names)
        if (n == c->architecture) return info;
      for (const std::string& n : info->multimodal_class_names) {
        if (n != c->architecture) continue;
        c->multimodal = true;
        return info;
      }
    }
    if (const char* missing = MissingFor(c->architecture))
      return f.Unsupported("architectures", "architecture '" + c->architecture + "' is not supported yet: it needs " +
                                                missing);
    return f.Unsupported("architectures", "architecture '" + c->architecture +
                                              "' is not supported (supported: " + SupportedList(true) + ")");
  }
  const Json* t = f.Find("model_type");
  if (!t)
    return f.Invalid("architectures", "one of " + SupportedList(true) + " (or a 'model_type')", nullptr);
  if (!t->is_string()) return f.Invalid("model_type", "a string", t);
  const std::string type = t->get<std::string>();
  for (const ArchInfo* info : Architectures()) {
    if (type != info->model_type) continue;
    c->architecture = info->class_names[0];
    return info;
  }
  if (const char* missing = MissingFor(type))
    return f.Unsupported("model_type", "model type '" + type + "' is not supported yet: it needs " + missing);
  return f.Unsupported("model_type", "model type '" + type + "' is not supported (supported: " +
                                         SupportedList(false) + ")");
}

// One rope block: rope_scaling (transformers 4) or rope_parameters (transformers 5,
// which also carries rope_theta and may be keyed by layer type).
Status ParseRope(const Json& block, const std::string& path, const std::string& field, bool is_parameters,
                 RopeScaling* out, double* theta) {
  const Fields f(block, path, field + ".");
  if (!block.is_object())
    return InvalidArgument(path + ": field '" + field + "': expected an object or null, got " + JsonPreview(block));
  if (is_parameters && f.Find("full_attention"))
    return ParseRope(*f.Find("full_attention"), path, field + ".full_attention", true, out, theta);
  if (is_parameters) AX_RETURN_IF_ERROR(f.Double("rope_theta", theta, false, 0));
  const char* type_key = f.Find("rope_type") ? "rope_type" : "type";
  const Json* t = f.Find(type_key);
  std::string type = "default";
  if (t && !t->is_string()) return f.Invalid(type_key, "a string", t);
  if (t) type = t->get<std::string>();
  if (!t && !is_parameters) return f.Invalid("rope_type", "\"linear\" or \"llama3\"", nullptr);
  RopeScaling r;
  if (type == "default") {
    r.type = RopeScalingType::kNone;
  } else if (type == "linear") {
    r.type = RopeScalingType::kLinear;
    AX_RETURN_IF_ERROR(f.Double("factor", &r.factor, true, 0));
  } else if (type == "llama3") {
    r.type = RopeScalingType::kLlama3;
    AX_RETURN_IF_ERROR(f.Double("factor", &r.factor, true, 0));
    AX_RETURN_IF_ERROR(f.Double("low_freq_factor", &r.low_freq_factor, true, 0));
    AX_RETURN_IF_ERROR(f.Double("high_freq_factor", &r.high_freq_factor, true, r.low_freq_factor));
    AX_RETURN_IF_ERROR(f.Int("original_max_position_embeddings", &r.original_max_position_embeddings, true));
  } else if (type == "proportional") {
    r.type = RopeScalingType::kProportional;
    AX_RETURN_IF_ERROR(f.Double("factor", &r.factor, false, 0));
    AX_RETURN_IF_ERROR(f.Double("partial_rotary_factor", &r.partial_rotary_factor, false, 0));
    if (r.partial_rotary_factor > 1)
      return f.Invalid("partial_rotary_factor", "a number in (0, 1]", f.Find("partial_rotary_factor"));
  } else {
    return f.Unsupported(type_key, "rope type '" + type +
                                       "' is not supported (supported: default, linear, llama3, proportional)");
  }
  *out = r;
  return Status::Ok();
}

Status ParseTorchDType(const Fields& f, DType* out) {
  const char* key = f.Find("torch_dtype") ? "torch_dtype" : "dtype";
  const Json* j = f.Find(key);
  if (!j) return Status::Ok();
  if (!j->is_string()) return f.Invalid(key, "\"float32\", \"float16\" or \"bfloat16\"", j);
  const std::string s = j->get<std::string>();
  if (s == "float32") *out = DType::kF32;
  else if (s == "float16") *out = DType::kF16;
  else if (s == "bfloat16") *out = DType::kBF16;
  else return f.Unsupported(key, "dtype '" + s + "' is not supported (supported: float32, float16, bfloat16)");
  return Status::Ok();
}

Status ParseSizes(const Fields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.Int("hidden_size", &c->hidden_size, true));
  // Required unless the family has a default (Qwen3.5-MoE's configs have no dense MLP).
  AX_RETURN_IF_ERROR(f.Int("intermediate_size", &c->intermediate_size, c->intermediate_size == 0));
  AX_RETURN_IF_ERROR(f.Int("num_hidden_layers", &c->num_hidden_layers, true));
  AX_RETURN_IF_ERROR(f.Int("num_attention_heads", &c->num_attention_heads, true));
  AX_RETURN_IF_ERROR(f.Int("vocab_size", &c->vocab_size, true));
  c->num_key_value_heads = c->num_attention_heads;
  AX_RETURN_IF_ERROR(f.Int("num_key_value_heads", &c->num_key_value_heads, false));
  if (f.Find("head_dim")) {
    AX_RETURN_IF_ERROR(f.Int("head_dim", &c->head_dim, true));
  } else if (c->head_dim > 0) {
    // the family's default (ArchInfo::defaults)
  } else if (c->hidden_size % c->num_attention_heads != 0) {
    return f.Invalid("hidden_size", "a multiple of num_attention_heads (" +
                                        std::to_string(c->num_attention_heads) + ") when head_dim is not given",
                     f.Find("hidden_size"));
  } else {
    c->head_dim = c->hidden_size / c->num_attention_heads;
  }
  return f.Int("max_position_embeddings", &c->max_position_embeddings, false);
}

// layer_types (transformers 5: one of "full_attention" / "sliding_attention" per layer)
// and sliding_window. Absent: every layer full, or what the family's extras decide.
Status ParseLayerTypes(const Fields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.Int("sliding_window", &c->sliding_window, false, 1));
  const Json* j = f.Find("layer_types");
  if (!j) return Status::Ok();
  const bool hybrid = HybridFamily(c->family);
  const std::string expected = "a list of " + std::to_string(c->num_hidden_layers) + " \"full_attention\" / " +
                               (hybrid ? "\"linear_attention\"" : "\"sliding_attention\"") +
                               " entries (num_hidden_layers)";
  if (!j->is_array() || static_cast<int64_t>(j->size()) != c->num_hidden_layers)
    return f.Invalid("layer_types", expected, j);
  c->layer_types.clear();
  for (const Json& e : *j) {
    if (e == "full_attention") c->layer_types.push_back(AttentionType::kFull);
    else if (e == "sliding_attention" && !hybrid)
      c->layer_types.push_back(AttentionType::kSliding);
    else if (e == "linear_attention" && hybrid)
      c->layer_types.push_back(AttentionType::kLinear);
    else return f.Unsupported("layer_types", "layer type " + JsonPreview(e) + " is not supported (expected " +
                                                 expected + ")");
  }
  return Status::Ok();
}

Status ParseOptions(const Fields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.Double("rms_norm_eps", &c->rms_norm_eps, false, 0));
  AX_RETURN_IF_ERROR(f.Bool("tie_word_embeddings", &c->tie_word_embeddings));
  AX_RETURN_IF_ERROR(f.Bool("attention_bias", &c->attention_bias));
  AX_RETURN_IF_ERROR(f.String("hidden_act", &c->hidden_act));
  AX_RETURN_IF_ERROR(ParseTorchDType(f, &c->torch_dtype));
  AX_RETURN_IF_ERROR(f.TokenId("bos_token_id", &c->bos_token_id));
  AX_RETURN_IF_ERROR(f.TokenIds("eos_token_id", &c->eos_token_ids));
  bool flag = false;
  AX_RETURN_IF_ERROR(f.Bool("mlp_bias", &flag));
  if (flag) return f.Unsupported("mlp_bias", "MLP biases are not supported");
  flag = false;
  AX_RETURN_IF_ERROR(f.Bool("use_sliding_window", &flag));
  if (flag) return f.Unsupported("use_sliding_window", "sliding-window attention is not supported");
  return ParseLayerTypes(f, c);
}

}  // namespace

const char* ModelFamilyName(ModelFamily f) {
  switch (f) {
    case ModelFamily::kLlama: return "llama";
    case ModelFamily::kQwen3: return "qwen3";
    case ModelFamily::kGemma3: return "gemma3";
    case ModelFamily::kGemma4: return "gemma4";
    case ModelFamily::kQwen3Moe: return "qwen3_moe";
    case ModelFamily::kQwen3Next: return "qwen3_next";
    case ModelFamily::kQwen35: return "qwen3_5";
    case ModelFamily::kQwen35Moe: return "qwen3_5_moe";
    case ModelFamily::kGlm4Moe: return "glm4_moe";
    case ModelFamily::kGlm4MoeLite: return "glm4_moe_lite";
  }
  return "?";
}

bool HybridFamily(ModelFamily f) {
  return f == ModelFamily::kQwen3Next || f == ModelFamily::kQwen35 || f == ModelFamily::kQwen35Moe;
}

const char* TorchDTypeName(DType dt) {
  switch (dt) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    case DType::kBF16: return "bfloat16";
    case DType::kI32: return "int32";
    case DType::kU32: return "uint32";
    case DType::kAffine: return "affine";
  }
  return "?";
}

bool SparseMoeLayer(const ModelConfig& c, int64_t layer) {
  if (c.num_experts <= 0 || c.decoder_sparse_step <= 0 || (layer + 1) % c.decoder_sparse_step != 0) return false;
  for (int64_t l : c.mlp_only_layers)
    if (l == layer) return false;
  return true;
}

Status ValidateModelConfig(const ModelConfig& c, const std::string& path) {
  const auto bad = [&](const std::string& field, const std::string& what) {
    return InvalidArgument(path + ": field '" + field + "': " + what);
  };
  const std::pair<const char*, int64_t> sizes[] = {
      {"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads}, {"head_dim", c.head_dim},
      {"vocab_size", c.vocab_size}, {"max_position_embeddings", c.max_position_embeddings}};
  for (const auto& [name, v] : sizes)
    if (v < 1 || v > kMaxSize) return bad(name, "expected an integer in [1, 2147483647], got " + std::to_string(v));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    return bad("num_key_value_heads", "expected a divisor of num_attention_heads (" +
                                          std::to_string(c.num_attention_heads) + "), got " +
                                          std::to_string(c.num_key_value_heads));
  if (c.head_dim % 2 != 0) return bad("head_dim", "expected an even number (rotary pairs), got " + std::to_string(c.head_dim));
  if (!(c.rms_norm_eps > 0) || !std::isfinite(c.rms_norm_eps)) return bad("rms_norm_eps", "expected a number > 0");
  if (!(c.rope_theta > 0) || !std::isfinite(c.rope_theta)) return bad("rope_theta", "expected a number > 0");
  if (c.hidden_act != "silu" && c.hidden_act != "gelu_pytorch_tanh")
    return Unimplemented(path + ": field 'hidden_act': expected \"silu\" or \"gelu_pytorch_tanh\", got \"" +
                         c.hidden_act + "\"");
  if (c.attention_bias && c.family != ModelFamily::kGlm4Moe)
    return Unimplemented(path + ": field 'attention_bias': q/k/v biases are not supported for " +
                         ModelFamilyName(c.family) + " (glm4_moe only)");
  if (!c.layer_types.empty() && static_cast<int64_t>(c.layer_types.size()) != c.num_hidden_layers)
    return bad("layer_types", "expected " + std::to_string(c.num_hidden_layers) + " entries (num_hidden_layers), got " +
                                  std::to_string(c.layer_types.size()));
  bool sliding = false;
  for (AttentionType t : c.layer_types) sliding = sliding || t == AttentionType::kSliding;
  if (sliding && c.sliding_window < 1) return bad("sliding_window", "expected a positive window for the sliding layers");
  if (sliding && c.sliding_window > c.max_position_embeddings)
    return bad("sliding_window", "expected at most max_position_embeddings (" +
                                     std::to_string(c.max_position_embeddings) + "), got " +
                                     std::to_string(c.sliding_window));
  for (const auto& [name, v] : {std::pair<const char*, double>{"query_pre_attn_scalar", c.query_pre_attn_scalar},
                                {"attn_logit_softcapping", c.attn_logit_softcapping},
                                {"final_logit_softcapping", c.final_logit_softcapping},
                                {"rope_local_base_freq", c.rope_local_theta}})
    if (!(v >= 0) || !std::isfinite(v)) return bad(name, "expected a number >= 0");
  return Status::Ok();
}

Result<ModelConfig> ParseModelConfig(std::string_view json_text, const std::string& path) {
  AX_ASSIGN_OR_RETURN(Json root, ParseJson(json_text, path));
  if (!root.is_object()) return InvalidArgument(path + ": expected a JSON object, got " + JsonPreview(root));
  const Fields top(root, path);
  ModelConfig c;
  AX_ASSIGN_OR_RETURN(const ArchInfo* arch, ResolveArchitecture(top, &c));
  c.family = arch->family;
  // A multimodal checkpoint's text model is described by its text_config.
  const Json* text = &root;
  if (c.multimodal) {
    text = top.Find("text_config");
    if (text == nullptr || !text->is_object())
      return top.Invalid("text_config", "an object (the text model of " + c.architecture + ")", text);
  }
  const Fields f(*text, path, c.multimodal ? "text_config." : "");
  arch->defaults(&c);
  AX_RETURN_IF_ERROR(ParseSizes(f, &c));
  AX_RETURN_IF_ERROR(ParseOptions(f, &c));
  if (c.multimodal) {  // these may sit at the top level of a multimodal config
    AX_RETURN_IF_ERROR(top.Bool("tie_word_embeddings", &c.tie_word_embeddings));
    AX_RETURN_IF_ERROR(ParseTorchDType(top, &c.torch_dtype));
  }
  AX_RETURN_IF_ERROR(f.Double("rope_theta", &c.rope_theta, false, 0));
  const std::string prefix = f.prefix();
  if (const Json* p = f.Find("rope_parameters")) {
    AX_RETURN_IF_ERROR(ParseRope(*p, path, prefix + "rope_parameters", true, &c.rope_scaling, &c.rope_theta));
    if (const Json* sliding = p->is_object() ? Fields(*p, path).Find("sliding_attention") : nullptr) {
      AX_RETURN_IF_ERROR(ParseRope(*sliding, path, prefix + "rope_parameters.sliding_attention", true,
                                   &c.rope_local_scaling, &c.rope_local_theta));
    }
  } else if (const Json* s = f.Find("rope_scaling")) {
    AX_RETURN_IF_ERROR(ParseRope(*s, path, prefix + "rope_scaling", false, &c.rope_scaling, &c.rope_theta));
  }
  AX_RETURN_IF_ERROR(arch->parse_extras(f, &c));
  AX_RETURN_IF_ERROR(ParseQuantizationConfig(&root, path, &c.quantization));
  if (c.layer_types.empty()) c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), AttentionType::kFull);
  AX_RETURN_IF_ERROR(ValidateModelConfig(c, path));
  return c;
}

Result<ModelConfig> LoadModelConfig(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  AX_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseModelConfig(text, path);
}

Result<GenerationConfig> ParseGenerationConfig(std::string_view json_text, const std::string& path) {
  AX_ASSIGN_OR_RETURN(Json root, ParseJson(json_text, path));
  if (!root.is_object()) return InvalidArgument(path + ": expected a JSON object, got " + JsonPreview(root));
  const Fields f(root, path);
  GenerationConfig g;
  AX_RETURN_IF_ERROR(f.TokenId("bos_token_id", &g.bos_token_id));
  AX_RETURN_IF_ERROR(f.TokenIds("eos_token_id", &g.eos_token_ids));
  AX_RETURN_IF_ERROR(f.Bool("do_sample", &g.do_sample));
  AX_RETURN_IF_ERROR(f.Double("temperature", &g.temperature, false, 0, /*inclusive=*/true));
  AX_RETURN_IF_ERROR(f.Double("top_p", &g.top_p, false, 0));
  if (g.top_p > 1) return f.Invalid("top_p", "a number in (0, 1]", f.Find("top_p"));
  AX_RETURN_IF_ERROR(f.Int("top_k", &g.top_k, false, 0));
  g.top_k_given = f.Find("top_k") != nullptr;
  AX_RETURN_IF_ERROR(f.Double("min_p", &g.min_p, false, 0, /*inclusive=*/true));
  if (g.min_p > 1) return f.Invalid("min_p", "a number in [0, 1]", f.Find("min_p"));
  AX_RETURN_IF_ERROR(f.Double("repetition_penalty", &g.repetition_penalty, false, 0));
  AX_RETURN_IF_ERROR(f.Int("max_new_tokens", &g.max_new_tokens, false, 0));
  AX_RETURN_IF_ERROR(f.Int("max_length", &g.max_length, false, 0));
  return g;
}

Result<GenerationConfig> LoadGenerationConfig(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "generation_config.json").string();
  auto text = ReadFileToString(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return GenerationConfig{};
    return text.status();
  }
  return ParseGenerationConfig(*text, path);
}

namespace {

Json EosJson(const std::vector<int32_t>& ids) {
  if (ids.size() == 1) return ids[0];
  return Json(ids);
}

// The GLM families' fields as their config.json spells them: n_routed_experts, the
// router's groups and scaling, the dense layers (first_k_dense_replace for glm4_moe,
// mlp_layer_types for glm4_moe_lite), and the family's attention fields.
void AddGlmFields(const ModelConfig& c, Json* j) {
  for (const char* k : {"use_sliding_window", "sliding_window", "max_window_layers"}) j->erase(k);
  Json& o = *j;
  o["n_routed_experts"] = c.num_experts;
  o["num_experts_per_tok"] = c.top_k_experts;
  o["moe_intermediate_size"] = c.moe_intermediate_size;
  o["n_shared_experts"] = c.n_shared_experts;
  o["n_group"] = c.n_group;
  o["topk_group"] = c.topk_group;
  o["norm_topk_prob"] = c.norm_topk_prob;
  o["routed_scaling_factor"] = c.routed_scaling_factor;
  if (c.family == ModelFamily::kGlm4Moe) {
    int64_t first_dense = 0;
    while (first_dense < c.num_hidden_layers && !SparseMoeLayer(c, first_dense)) ++first_dense;
    o["first_k_dense_replace"] = first_dense;
    o["partial_rotary_factor"] = c.partial_rotary_factor;
    o["use_qk_norm"] = c.use_qk_norm;
    return;
  }
  o.erase("head_dim");  // transformers maps head_dim to qk_rope_head_dim
  Json types = Json::array();
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) types.push_back(SparseMoeLayer(c, l) ? "sparse" : "dense");
  o["mlp_layer_types"] = types;
  o["q_lora_rank"] = c.q_lora_rank > 0 ? Json(c.q_lora_rank) : Json(nullptr);
  o["kv_lora_rank"] = c.kv_lora_rank;
  o["qk_nope_head_dim"] = c.qk_nope_head_dim;
  o["qk_rope_head_dim"] = c.qk_rope_head_dim;
  o["v_head_dim"] = c.v_head_dim;
  o["rope_interleave"] = c.rope_interleave;
}

}  // namespace

namespace {

// Gemma 4's fields as transformers' Gemma4TextConfig writes them (config.json of a
// Gemma4ForCausalLM): rope_parameters per layer type instead of rope_theta and
// rope_scaling, the full layers' head dim and kv heads as global_head_dim and
// num_global_key_value_heads (the latter only on K=V models, as transformers reads it).
void Gemma4Json(const ModelConfig& c, Json* out) {
  Json& j = *out;
  j.erase("hidden_act");
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j["hidden_activation"] = c.hidden_act;
  j["sliding_window"] = c.sliding_window;
  Json types = Json::array();
  int64_t global_head_dim = c.head_dim, global_kv = c.num_key_value_heads;
  for (size_t l = 0; l < c.layer_types.size(); ++l) {
    const bool full = c.layer_types[l] != AttentionType::kSliding;
    types.push_back(full ? "full_attention" : "sliding_attention");
    if (full && l < c.layer_shapes.size()) {
      global_head_dim = c.layer_shapes[l].head_dim;
      global_kv = c.layer_shapes[l].num_key_value_heads;
    }
  }
  j["layer_types"] = types;
  j["global_head_dim"] = global_head_dim;
  j["num_global_key_value_heads"] = c.attention_k_eq_v ? Json(global_kv) : Json(nullptr);
  j["final_logit_softcapping"] = c.final_logit_softcapping > 0 ? Json(c.final_logit_softcapping) : Json(nullptr);
  Json full = {{"rope_type", "default"}, {"rope_theta", c.rope_theta}};
  if (c.rope_scaling.type == RopeScalingType::kProportional)
    full = {{"rope_type", "proportional"},
            {"partial_rotary_factor", c.rope_scaling.partial_rotary_factor},
            {"rope_theta", c.rope_theta}};
  j["rope_parameters"] = {{"full_attention", full},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", c.rope_local_theta}}}};
  j["attention_k_eq_v"] = c.attention_k_eq_v;
  j["num_kv_shared_layers"] = c.num_kv_shared_layers;
  j["hidden_size_per_layer_input"] = c.hidden_size_per_layer_input;
  j["vocab_size_per_layer_input"] = c.vocab_size_per_layer_input;
  j["use_double_wide_mlp"] = c.use_double_wide_mlp;
  j["enable_moe_block"] = c.enable_moe_block;
  j["num_experts"] = c.enable_moe_block ? Json(c.num_experts) : Json(nullptr);
  j["top_k_experts"] = c.enable_moe_block ? Json(c.top_k_experts) : Json(nullptr);
  j["moe_intermediate_size"] = c.enable_moe_block ? Json(c.moe_intermediate_size) : Json(nullptr);
  j["pad_token_id"] = 0;
}

}  // namespace

std::string ModelConfigToJson(const ModelConfig& c) {
  const bool llama = c.family == ModelFamily::kLlama;
  Json j = {
      {"architectures", {ArchFor(c.family).class_names[0]}},
      {"model_type", ArchFor(c.family).model_type},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.head_dim},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"hidden_act", c.hidden_act},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"rope_scaling", nullptr},
      {"attention_bias", c.attention_bias},
      {"attention_dropout", 0.0},
      {"initializer_range", 0.02},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"torch_dtype", TorchDTypeName(c.torch_dtype)},
      {"use_cache", true},
  };
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (!c.eos_token_ids.empty()) j["eos_token_id"] = EosJson(c.eos_token_ids);
  if (c.family == ModelFamily::kGemma3) {
    j.erase("hidden_act");
    j["hidden_activation"] = c.hidden_act;
    j["query_pre_attn_scalar"] = c.query_pre_attn_scalar;
    j["sliding_window"] = c.sliding_window;
    j["rope_local_base_freq"] = c.rope_local_theta;
    Json types = Json::array();
    for (AttentionType t : c.layer_types) types.push_back(t == AttentionType::kSliding ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
    j["final_logit_softcapping"] = c.final_logit_softcapping > 0 ? Json(c.final_logit_softcapping) : Json(nullptr);
    j["attn_logit_softcapping"] = c.attn_logit_softcapping > 0 ? Json(c.attn_logit_softcapping) : Json(nullptr);
  } else if (c.family == ModelFamily::kGemma4) {
    Gemma4Json(c, &j);
  } else if (llama) {
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
  } else {
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = c.num_hidden_layers;
  }
  if (c.family == ModelFamily::kQwen3Moe) {
    j["num_experts"] = c.num_experts;
    j["num_experts_per_tok"] = c.top_k_experts;
    j["moe_intermediate_size"] = c.moe_intermediate_size;
    j["norm_topk_prob"] = c.norm_topk_prob;
    j["decoder_sparse_step"] = c.decoder_sparse_step;
    j["mlp_only_layers"] = c.mlp_only_layers;
    j["output_router_logits"] = false;
    j["router_aux_loss_coef"] = 0.001;
  }
  if (HybridFamily(c.family)) {
    Json types = Json::array();
    for (AttentionType t : c.layer_types)
      types.push_back(t == AttentionType::kLinear ? "linear_attention" : "full_attention");
    j["layer_types"] = types;
    j["linear_conv_kernel_dim"] = c.linear_conv_kernel_dim;
    j["linear_key_head_dim"] = c.linear_key_head_dim;
    j["linear_value_head_dim"] = c.linear_value_head_dim;
    j["linear_num_key_heads"] = c.linear_num_key_heads;
    j["linear_num_value_heads"] = c.linear_num_value_heads;
    j["partial_rotary_factor"] = c.partial_rotary_factor;
    j.erase("use_sliding_window");
    j.erase("sliding_window");
    j.erase("max_window_layers");
    if (c.num_experts > 0) {
      j["num_experts"] = c.num_experts;
      j["num_experts_per_tok"] = c.top_k_experts;
      j["moe_intermediate_size"] = c.moe_intermediate_size;
      j["shared_expert_intermediate_size"] = c.shared_expert_intermediate_size;
      j["norm_topk_prob"] = c.norm_topk_prob;
      j["decoder_sparse_step"] = c.decoder_sparse_step;
      j["mlp_only_layers"] = c.mlp_only_layers;
    }
  }
  if (c.family == ModelFamily::kGlm4Moe || c.family == ModelFamily::kGlm4MoeLite) AddGlmFields(c, &j);
  if (c.quantization.quantized()) {  // as mlx_lm writes it: both keys, the same object
    Json q = {{"bits", c.quantization.bits}, {"group_size", c.quantization.group_size}, {"mode", "affine"}};
    for (const auto& [name, m] : c.quantization.modules) {
      q[name] = m.quantized ? Json{{"bits", m.bits}, {"group_size", m.group_size}} : Json(false);
    }
    j["quantization"] = q;
    j["quantization_config"] = q;
  }
  const RopeScaling& r = c.rope_scaling;
  switch (c.family == ModelFamily::kGemma4 ? RopeScalingType::kNone : r.type) {  // Gemma 4: rope_parameters
    case RopeScalingType::kNone: break;
    case RopeScalingType::kLinear:
      j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", r.factor}};
      break;
    case RopeScalingType::kProportional:
      j["rope_scaling"] = {{"rope_type", "proportional"},
                           {"factor", r.factor},
                           {"partial_rotary_factor", r.partial_rotary_factor}};
      break;
    case RopeScalingType::kLlama3:
      j["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", r.factor},
                           {"low_freq_factor", r.low_freq_factor},
                           {"high_freq_factor", r.high_freq_factor},
                           {"original_max_position_embeddings", r.original_max_position_embeddings}};
      break;
  }
  return j.dump(2) + "\n";
}

std::string GenerationConfigToJson(const GenerationConfig& g) {
  Json j = {{"do_sample", g.do_sample}};
  if (g.bos_token_id >= 0) j["bos_token_id"] = g.bos_token_id;
  if (!g.eos_token_ids.empty()) j["eos_token_id"] = EosJson(g.eos_token_ids);
  if (g.temperature != 1.0) j["temperature"] = g.temperature;
  if (g.top_p != 1.0) j["top_p"] = g.top_p;
  if (g.top_k != 0) j["top_k"] = g.top_k;
  if (g.min_p != 0) j["min_p"] = g.min_p;
  if (g.repetition_penalty != 1.0) j["repetition_penalty"] = g.repetition_penalty;
  if (g.max_new_tokens != 0) j["max_new_tokens"] = g.max_new_tokens;
  if (g.max_length != 0) j["max_length"] = g.max_length;
  return j.dump(2) + "\n";
}

namespace {

// The hybrid Qwens: GatedDelta layers (in_proj q|k|v|z|b|a, conv1d, A_log, dt_bias,
// norm, out_proj) or gated full attention (q_proj twice as tall), then a dense MLP or
// sparse experts with a router and a shared expert with its gate.
int64_t HybridLayerParameters(const ModelConfig& c, int64_t l) {
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  const int64_t kd = c.linear_num_key_heads * c.linear_key_head_dim, hv = c.linear_num_value_heads;
  const int64_t vd = hv * c.linear_value_head_dim, conv = 2 * kd + vd;
  int64_t n = 2 * h;  // input / post-attention norms
  if (c.layer_types[static_cast<size_t>(l)] == AttentionType::kLinear)
    n += (conv + vd + 2 * hv) * h + conv * c.linear_conv_kernel_dim + 2 * hv + c.linear_value_head_dim + h * vd;
  else
    n += 2 * q * h + 2 * kv * h + q * h + 2 * c.head_dim;
  if (!SparseMoeLayer(c, l)) return n + 3 * h * c.intermediate_size;
  n += c.num_experts * (3 * h * c.moe_intermediate_size + h);
  if (c.shared_expert_intermediate_size > 0) n += 3 * h * c.shared_expert_intermediate_size + h;
  return n;
}

// GLM: GQA with optional biases and q/k norm, or MLA's projections and LoRA norms; a
// dense MLP, or routed experts with their router, its correction bias and the shared
// experts.
int64_t GlmLayerParameters(const ModelConfig& c, int64_t l) {
  const int64_t h = c.hidden_size, H = c.num_attention_heads;
  int64_t n = 2 * h;  // input / post-attention norms
  if (c.family == ModelFamily::kGlm4Moe) {
    const int64_t q = H * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
    n += 2 * q * h + 2 * kv * h + (c.attention_bias ? q + 2 * kv : 0) + (c.use_qk_norm ? 2 * c.head_dim : 0);
  } else {
    const int64_t qk = c.qk_nope_head_dim + c.qk_rope_head_dim, L = c.kv_lora_rank;
    n += c.q_lora_rank > 0 ? c.q_lora_rank * h + c.q_lora_rank + H * qk * c.q_lora_rank : H * qk * h;
    n += (L + c.qk_rope_head_dim) * h + L + H * (c.qk_nope_head_dim + c.v_head_dim) * L + h * H * c.v_head_dim;
  }
  if (!SparseMoeLayer(c, l)) return n + 3 * h * c.intermediate_size;
  return n + c.num_experts * (3 * h * c.moe_intermediate_size + h + 1) +
         3 * h * c.moe_intermediate_size * c.n_shared_experts;
}

}  // namespace

namespace {

// Gemma 4: per layer its own attention shape (none of k/v on KV-shared layers, no v on
// K=V full layers), the MLP (twice as wide on shared layers with use_double_wide_mlp),
// four sandwich norms, the MoE block, the per-layer-input gate, projection and norm,
// and layer_scalar; once the per-layer-input embedding, projection and norm.
int64_t Gemma4Parameters(const ModelConfig& c) {
  const int64_t h = c.hidden_size, L = c.num_hidden_layers, P = c.hidden_size_per_layer_input;
  const int64_t first_shared = L - c.num_kv_shared_layers;
  int64_t total = c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2) + h;
  if (P > 0) total += c.vocab_size_per_layer_input * L * P + L * P * h + P;
  for (int64_t l = 0; l < L; ++l) {
    const LayerAttentionShape s = l < static_cast<int64_t>(c.layer_shapes.size())
                                      ? c.layer_shapes[static_cast<size_t>(l)]
                                      : LayerAttentionShape{c.num_key_value_heads, c.head_dim};
    const int64_t q = c.num_attention_heads * s.head_dim, kv = s.num_key_value_heads * s.head_dim;
    const bool full = c.layer_types[static_cast<size_t>(l)] == AttentionType::kFull;
    int64_t n = 2 * q * h + s.head_dim + 4 * h + 1;  // q, o, q_norm, norms, layer_scalar
    if (l < first_shared) n += (c.attention_k_eq_v && full ? 1 : 2) * kv * h + s.head_dim;
    n += 3 * h * c.intermediate_size * (c.use_double_wide_mlp && l >= first_shared ? 2 : 1);
    if (c.enable_moe_block)
      n += c.num_experts * (h + 1 + 3 * h * c.moe_intermediate_size) + h + 3 * h;  // router, experts, norms
    if (P > 0) n += 2 * P * h + h;
    total += n;
  }
  return total;
}

}  // namespace

int64_t ParameterCount(const ModelConfig& c) {
  if (c.family == ModelFamily::kGemma4) return Gemma4Parameters(c);
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  if (c.family == ModelFamily::kGlm4Moe || c.family == ModelFamily::kGlm4MoeLite) {
    int64_t total = c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2) + h;
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) total += GlmLayerParameters(c, l);
    return total;
  }
  if (HybridFamily(c.family)) {
    int64_t total = c.vocab_size * h * (c.tie_word_embeddings ? 1 : 2) + h;
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) total += HybridLayerParameters(c, l);
    return total;
  }
  int64_t layer = h * q + 2 * h * kv + q * h                     // q, k, v, o
                  + 2 * h;                                       // input / post-attention norms
  if (c.family != ModelFamily::kLlama) layer += 2 * c.head_dim;  // q_norm, k_norm
  if (c.family == ModelFamily::kGemma3) layer += 2 * h;           // pre/post feed-forward sandwich norms
  const int64_t dense = 3 * h * c.intermediate_size;              // gate, up, down
  const int64_t sparse = c.num_experts * (3 * h * c.moe_intermediate_size + h);  // experts, router row
  int64_t total = 0;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l)
    total += layer + (c.family == ModelFamily::kQwen3Moe && SparseMoeLayer(c, l) ? sparse : dense);
  const int64_t embed = c.vocab_size * h;
  return embed + total + h + (c.tie_word_embeddings ? 0 : embed);
}

}  // namespace ax
