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

#include "model/json_util.h"

namespace ax {
namespace {

constexpr int64_t kMaxSize = 2147483647;  // sizes must fit int32 downstream

// Reads typed fields of one JSON object; errors name the file and the dotted field:
//   "<path>: field 'rope_scaling.factor': expected a number > 0, got "2""
class Fields {
 public:
  Fields(const Json& obj, const std::string& path, std::string prefix = "")
      : obj_(obj), path_(path), prefix_(std::move(prefix)) {}

  // The value, or nullptr when the key is absent or null.
  const Json* Find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string Name(const char* key) const { return prefix_ + key; }
  Status Invalid(const char* key, const std::string& expected, const Json* got) const {
    return InvalidArgument(path_ + ": field '" + Name(key) + "': expected " + expected +
                           (got ? ", got " + JsonPreview(*got) : ", but it is missing"));
  }
  Status Unsupported(const char* key, const std::string& what) const {
    return Unimplemented(path_ + ": field '" + Name(key) + "': " + what);
  }

  // Integer in [lo, hi]; absent/null keeps *out unless required.
  Status Int(const char* key, int64_t* out, bool required, int64_t lo = 1, int64_t hi = kMaxSize) const {
    const Json* j = Find(key);
    const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (!j) return required ? Invalid(key, expected, nullptr) : Status::Ok();
    int64_t v = 0;
    if (!JsonToInt64(*j, &v) || v < lo || v > hi) return Invalid(key, expected, j);
    *out = v;
    return Status::Ok();
  }
  // Finite number > lo (or >= lo when inclusive).
  Status Double(const char* key, double* out, bool required, double lo, bool inclusive = false) const {
    const Json* j = Find(key);
    std::string bound = lo == 0 ? "0" : JsonPreview(Json(lo));
    const std::string expected = std::string("a number ") + (inclusive ? ">= " : "> ") + bound;
    if (!j) return required ? Invalid(key, expected, nullptr) : Status::Ok();
    if (!j->is_number()) return Invalid(key, expected, j);
    const double v = j->get<double>();
    if (!std::isfinite(v) || v < lo || (!inclusive && v == lo)) return Invalid(key, expected, j);
    *out = v;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const Json* j = Find(key);
    if (!j) return Status::Ok();
    if (!j->is_boolean()) return Invalid(key, "true or false", j);
    *out = j->get<bool>();
    return Status::Ok();
  }
  bool IsNull(const char* key) const {
    auto it = obj_.find(key);
    return it != obj_.end() && it->is_null();
  }
  // A token id; an explicit null means "none" (-1).
  Status TokenId(const char* key, int32_t* out) const {
    if (IsNull(key)) *out = -1;
    int64_t v = *out;
    AX_RETURN_IF_ERROR(Int(key, &v, false, 0, kMaxSize));
    *out = static_cast<int32_t>(v);
    return Status::Ok();
  }
  // An int or a list of ints (eos_token_id); null/absent keeps *out.
  Status TokenIds(const char* key, std::vector<int32_t>* out) const {
    if (IsNull(key)) out->clear();
    const Json* j = Find(key);
    if (!j) return Status::Ok();
    const char* expected = "a token id or a list of token ids";
    std::vector<int32_t> ids;
    int64_t v = 0;
    if (j->is_array()) {
      for (const Json& e : *j) {
        if (!JsonToInt64(e, &v) || v < 0 || v > kMaxSize) return Invalid(key, expected, j);
        ids.push_back(static_cast<int32_t>(v));
      }
    } else if (JsonToInt64(*j, &v) && v >= 0 && v <= kMaxSize) {
      ids.push_back(static_cast<int32_t>(v));
    } else {
      return Invalid(key, expected, j);
    }
    *out = std::move(ids);
    return Status::Ok();
  }

 private:
  const Json& obj_;
  const std::string& path_;
  std::string prefix_;
};

Status ResolveArchitecture(const Fields& f, ModelConfig* c) {
  const char* kSupported = "LlamaForCausalLM, Qwen3ForCausalLM";
  if (const Json* a = f.Find("architectures")) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      return f.Invalid("architectures", "a non-empty list of class names", a);
    c->architecture = (*a)[0].get<std::string>();
    if (c->architecture == "LlamaForCausalLM") c->family = ModelFamily::kLlama;
    else if (c->architecture == "Qwen3ForCausalLM") c->family = ModelFamily::kQwen3;
    else return f.Unsupported("architectures", "architecture '" + c->architecture +
                                                   "' is not supported (supported: " + kSupported + ")");
    return Status::Ok();
  }
  const Json* t = f.Find("model_type");
  if (!t) return f.Invalid("architectures", std::string("one of ") + kSupported + " (or a 'model_type')", nullptr);
  if (!t->is_string()) return f.Invalid("model_type", "a string", t);
  const std::string type = t->get<std::string>();
  if (type == "llama") {
    c->family = ModelFamily::kLlama;
    c->architecture = "LlamaForCausalLM";
  } else if (type == "qwen3") {
    c->family = ModelFamily::kQwen3;
    c->architecture = "Qwen3ForCausalLM";
  } else {
    return f.Unsupported("model_type", "model type '" + type + "' is not supported (supported: llama, qwen3)");
  }
  return Status::Ok();
}

// One rope block: rope_scaling (transformers 4) or rope_parameters (transformers 5,
// which also carries rope_theta and may be keyed by layer type).
Status ParseRope(const Json& block, const std::string& path, const std::string& field, bool is_parameters,
                 RopeScaling* out, double* theta) {
  const Fields f(block, path, field + ".");
  if (!block.is_object())
    return InvalidArgument(path + ": field '" + field + "': expected an object or null, got " + JsonPreview(block));
  if (is_parameters && f.Find("full_attention")) {
    const Json* sliding = f.Find("sliding_attention");
    if (sliding && *sliding != *f.Find("full_attention"))
      return f.Unsupported("sliding_attention", "per-layer-type rope parameters are not supported");
    return ParseRope(*f.Find("full_attention"), path, field + ".full_attention", true, out, theta);
  }
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
  } else {
    return f.Unsupported(type_key, "rope type '" + type + "' is not supported (supported: default, linear, llama3)");
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
  AX_RETURN_IF_ERROR(f.Int("intermediate_size", &c->intermediate_size, true));
  AX_RETURN_IF_ERROR(f.Int("num_hidden_layers", &c->num_hidden_layers, true));
  AX_RETURN_IF_ERROR(f.Int("num_attention_heads", &c->num_attention_heads, true));
  AX_RETURN_IF_ERROR(f.Int("vocab_size", &c->vocab_size, true));
  c->num_key_value_heads = c->num_attention_heads;
  AX_RETURN_IF_ERROR(f.Int("num_key_value_heads", &c->num_key_value_heads, false));
  const bool llama = c->family == ModelFamily::kLlama;
  if (f.Find("head_dim")) {
    AX_RETURN_IF_ERROR(f.Int("head_dim", &c->head_dim, true));
  } else if (!llama) {
    c->head_dim = 128;
  } else if (c->hidden_size % c->num_attention_heads != 0) {
    return f.Invalid("hidden_size", "a multiple of num_attention_heads (" +
                                        std::to_string(c->num_attention_heads) + ") when head_dim is not given",
                     f.Find("hidden_size"));
  } else {
    c->head_dim = c->hidden_size / c->num_attention_heads;
  }
  c->max_position_embeddings = llama ? 2048 : 32768;
  return f.Int("max_position_embeddings", &c->max_position_embeddings, false);
}

Status ParseOptions(const Fields& f, ModelConfig* c) {
  AX_RETURN_IF_ERROR(f.Double("rms_norm_eps", &c->rms_norm_eps, false, 0));
  AX_RETURN_IF_ERROR(f.Bool("tie_word_embeddings", &c->tie_word_embeddings));
  AX_RETURN_IF_ERROR(f.Bool("attention_bias", &c->attention_bias));
  if (const Json* act = f.Find("hidden_act")) {
    if (!act->is_string()) return f.Invalid("hidden_act", "\"silu\"", act);
    c->hidden_act = act->get<std::string>();
  }
  AX_RETURN_IF_ERROR(ParseTorchDType(f, &c->torch_dtype));
  if (c->family == ModelFamily::kLlama) {
    c->bos_token_id = 1;
    c->eos_token_ids = {2};
  }
  AX_RETURN_IF_ERROR(f.TokenId("bos_token_id", &c->bos_token_id));
  AX_RETURN_IF_ERROR(f.TokenIds("eos_token_id", &c->eos_token_ids));
  bool flag = false;
  AX_RETURN_IF_ERROR(f.Bool("mlp_bias", &flag));
  if (flag) return f.Unsupported("mlp_bias", "MLP biases are not supported");
  flag = false;
  AX_RETURN_IF_ERROR(f.Bool("use_sliding_window", &flag));
  if (flag) return f.Unsupported("use_sliding_window", "sliding-window attention is not supported");
  return Status::Ok();
}

}  // namespace

const char* ModelFamilyName(ModelFamily f) {
  switch (f) {
    case ModelFamily::kLlama: return "llama";
    case ModelFamily::kQwen3: return "qwen3";
  }
  return "?";
}

const char* TorchDTypeName(DType dt) {
  switch (dt) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    case DType::kBF16: return "bfloat16";
    case DType::kI32: return "int32";
  }
  return "?";
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
  if (c.hidden_act != "silu")
    return Unimplemented(path + ": field 'hidden_act': expected \"silu\", got \"" + c.hidden_act + "\"");
  if (c.attention_bias) return Unimplemented(path + ": field 'attention_bias': q/k/v biases are not supported");
  return Status::Ok();
}

Result<ModelConfig> ParseModelConfig(std::string_view json_text, const std::string& path) {
  AX_ASSIGN_OR_RETURN(Json root, ParseJson(json_text, path));
  if (!root.is_object()) return InvalidArgument(path + ": expected a JSON object, got " + JsonPreview(root));
  const Fields f(root, path);
  ModelConfig c;
  AX_RETURN_IF_ERROR(ResolveArchitecture(f, &c));
  AX_RETURN_IF_ERROR(ParseSizes(f, &c));
  AX_RETURN_IF_ERROR(ParseOptions(f, &c));
  c.rope_theta = 10000.0;
  AX_RETURN_IF_ERROR(f.Double("rope_theta", &c.rope_theta, false, 0));
  if (const Json* p = f.Find("rope_parameters")) {
    AX_RETURN_IF_ERROR(ParseRope(*p, path, "rope_parameters", true, &c.rope_scaling, &c.rope_theta));
  } else if (const Json* s = f.Find("rope_scaling")) {
    AX_RETURN_IF_ERROR(ParseRope(*s, path, "rope_scaling", false, &c.rope_scaling, &c.rope_theta));
  }
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

}  // namespace

std::string ModelConfigToJson(const ModelConfig& c) {
  const bool llama = c.family == ModelFamily::kLlama;
  Json j = {
      {"architectures", {llama ? "LlamaForCausalLM" : "Qwen3ForCausalLM"}},
      {"model_type", ModelFamilyName(c.family)},
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
  if (llama) {
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
  } else {
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = c.num_hidden_layers;
  }
  const RopeScaling& r = c.rope_scaling;
  switch (r.type) {
    case RopeScalingType::kNone: break;
    case RopeScalingType::kLinear:
      j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", r.factor}};
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
  if (g.repetition_penalty != 1.0) j["repetition_penalty"] = g.repetition_penalty;
  if (g.max_new_tokens != 0) j["max_new_tokens"] = g.max_new_tokens;
  if (g.max_length != 0) j["max_length"] = g.max_length;
  return j.dump(2) + "\n";
}

int64_t ParameterCount(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  int64_t layer = h * q + 2 * h * kv + q * h   // q, k, v, o
                  + 3 * h * c.intermediate_size  // gate, up, down
                  + 2 * h;                       // input / post-attention norms
  if (c.family == ModelFamily::kQwen3) layer += 2 * c.head_dim;  // q_norm, k_norm
  const int64_t embed = c.vocab_size * h;
  return embed + c.num_hidden_layers * layer + h + (c.tie_word_embeddings ? 0 : embed);
}

}  // namespace ax
