// config.json and generation_config.json of a Hugging Face model directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ax/status.h"
#include "model/quant_config.h"
#include "tensor/dtype.h"

namespace ax {

enum class ModelFamily {
  kLlama,
  kQwen3,
  kGemma3,
  kGemma4,
  kQwen3Moe,
  kQwen3Next,
  kQwen35,
  kQwen35Moe,
  kGlm4Moe,
  kGlm4MoeLite
};
// "llama", "qwen3", "gemma3", "gemma4", "qwen3_moe", "qwen3_next", "qwen3_5", "qwen3_5_moe",
// "glm4_moe", "glm4_moe_lite"
const char* ModelFamilyName(ModelFamily f);
// The hybrid families: layer_types may hold linear_attention (GatedDelta) layers.
bool HybridFamily(ModelFamily f);

// What a layer's token mixer is: attention over every earlier token, over a sliding
// window of them, or (hybrid families) GatedDelta linear attention (linear_attention).
enum class AttentionType { kFull, kSliding, kLinear };

// kProportional (Gemma 4's full layers): the first partial_rotary_factor of the
// rotary pairs turn with frequencies 1 / theta^(2i / head_dim), the rest not at all.
enum class RopeScalingType { kNone, kLinear, kLlama3, kProportional };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;
  // llama3 only:
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
  // proportional only:
  double partial_rotary_factor = 1.0;
};

// A layer whose attention shape differs from the model's (Gemma 4's full layers).
struct LayerAttentionShape {
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
};

struct ModelConfig {
  std::string architecture;  // "LlamaForCausalLM", "Qwen3ForCausalLM", "Gemma3ForCausalLM", …
  ModelFamily family = ModelFamily::kLlama;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;      // q/k/v biases (rejected for now: Unimplemented)
  std::string hidden_act = "silu";  // or "gelu_pytorch_tanh" (Gemma's hidden_activation)
  // Per-layer attention kinds ([num_hidden_layers]; all kFull unless config.json's
  // layer_types or a family rule says otherwise) and the window of kSliding layers.
  std::vector<AttentionType> layer_types;
  int64_t sliding_window = 0;
  // Rope of kSliding layers (Gemma's rope_local_base_freq / rope_parameters
  // .sliding_attention); kFull layers use rope_theta and rope_scaling.
  double rope_local_theta = 0.0;
  RopeScaling rope_local_scaling;
  double query_pre_attn_scalar = 0.0;   // > 0: attention scale is its -1/2 power (Gemma)
  double attn_logit_softcapping = 0.0;  // > 0: attention scores softcapped (Gemma 2 style)
  double final_logit_softcapping = 0.0; // > 0: logits softcapped
  // Per-layer attention shapes ([num_hidden_layers]; empty: every layer has
  // num_key_value_heads and head_dim).
  std::vector<LayerAttentionShape> layer_shapes;
  // Gemma 4: full layers' K projection also serves as V; the last num_kv_shared_layers
  // layers read the cache of the last earlier layer of their type; per-layer input
  // embeddings (PLE) of hidden_size_per_layer_input per layer (0: none); MLPs twice as
  // wide on the shared layers; a mixture-of-experts block beside the MLP.
  bool attention_k_eq_v = false;
  int64_t num_kv_shared_layers = 0;
  int64_t hidden_size_per_layer_input = 0;
  int64_t vocab_size_per_layer_input = 0;
  bool use_double_wide_mlp = false;
  bool enable_moe_block = false;
  int64_t num_experts = 0, top_k_experts = 0, moe_intermediate_size = 0;
  // Qwen3-MoE: the top-k weights renormalised to sum 1 (norm_topk_prob); layer i has a
  // sparse MoE block instead of its MLP iff i is not in mlp_only_layers and
  // (i + 1) % decoder_sparse_step == 0 (SparseMoeLayer); top_k_experts is
  // num_experts_per_tok.
  bool norm_topk_prob = false;
  int64_t decoder_sparse_step = 1;
  std::vector<int64_t> mlp_only_layers;
  // Hybrid Qwen (Qwen3-Next, Qwen3.5): the kLinear layers are GatedDelta layers of
  // these shapes; full layers gate their output (sigmoid, q_proj's interleaved second
  // half) and rotate the first int(head_dim * partial_rotary_factor) dims; a sparse
  // layer's MoE block adds a sigmoid-gated shared expert of this size (0: none).
  int64_t linear_conv_kernel_dim = 0, linear_key_head_dim = 0, linear_value_head_dim = 0;
  int64_t linear_num_key_heads = 0, linear_num_value_heads = 0;
  double partial_rotary_factor = 1.0;
  int64_t shared_expert_intermediate_size = 0;
  // GLM (glm4_moe, glm4_moe_lite): the sparse layers' noaux_tc router (sigmoid scores;
  // experts chosen on the scores plus e_score_correction_bias within the topk_group best
  // of n_group groups; weights the unbiased scores, renormalised with norm_topk_prob,
  // times routed_scaling_factor) beside n_shared_experts shared experts of
  // moe_intermediate_size each; the dense layers (first_k_dense_replace /
  // mlp_layer_types) go to mlp_only_layers. glm4_moe: q/k/v biases (attention_bias),
  // per-head q/k RMSNorm with use_qk_norm, the first int(head_dim *
  // partial_rotary_factor) dims rotated.
  int64_t n_group = 1, topk_group = 1, n_shared_experts = 0;
  double routed_scaling_factor = 1.0;
  bool use_qk_norm = false;
  // glm4_moe_lite's multi-head latent attention: q through a LoRA of q_lora_rank (0:
  // q_proj), k and v from a kv latent of kv_lora_rank, per-head query/key dims
  // qk_nope_head_dim + qk_rope_head_dim (head_dim is qk_rope_head_dim), values of
  // v_head_dim; rope_interleave: the rope dims stored as interleaved pairs.
  int64_t q_lora_rank = 0, kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  bool rope_interleave = false;
  // The checkpoint is a multimodal one (e.g. Gemma3ForConditionalGeneration) whose text
  // model we run; its other towers are not loaded.
  bool multimodal = false;
  DType torch_dtype = DType::kF32;  // the stored dtype config.json declares
  QuantizationConfig quantization;  // MLX affine checkpoints (model/quant_config.h)
  int32_t bos_token_id = -1;
  std::vector<int32_t> eos_token_ids;
};

// Defaults for sampling and stopping from generation_config.json (all optional).
struct GenerationConfig {
  int32_t bos_token_id = -1;
  std::vector<int32_t> eos_token_ids;
  bool do_sample = false;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;
  bool top_k_given = false;  // transformers' default top_k is 50 when sampling
  double min_p = 0.0;
  double repetition_penalty = 1.0;
  int64_t max_new_tokens = 0;  // 0: not given
  int64_t max_length = 0;      // prompt + generated; 0: not given
};

// Whether layer `layer` of a Qwen3-MoE model is a sparse MoE layer (transformers'
// rule: num_experts > 0, not in mlp_only_layers, (layer + 1) % decoder_sparse_step == 0).
bool SparseMoeLayer(const ModelConfig& c, int64_t layer);

// Reads and validates dir/config.json. Errors name the file and the field:
//   "<dir>/config.json: field 'hidden_size': expected a positive integer"
// Unknown architectures give Unimplemented listing the supported ones.
Result<ModelConfig> LoadModelConfig(const std::string& dir);

// Reads dir/generation_config.json; a missing file gives defaults (not an error),
// a malformed one an error naming the file and field.
Result<GenerationConfig> LoadGenerationConfig(const std::string& dir);

// The same parsers over text already in memory; `path` only names the source in
// messages. LoadModelConfig = read file + ParseModelConfig.
Result<ModelConfig> ParseModelConfig(std::string_view json_text, const std::string& path);
Result<GenerationConfig> ParseGenerationConfig(std::string_view json_text, const std::string& path);

// The structural checks LoadModelConfig applies (positive sizes, heads divisible by
// kv heads, even head_dim, supported options), for configs built in code.
Status ValidateModelConfig(const ModelConfig& c, const std::string& path);

// config.json / generation_config.json text that transformers (4.4x and 5.x) and
// ParseModelConfig both read back to the same values; 2-space indented, keys sorted.
std::string ModelConfigToJson(const ModelConfig& c);
std::string GenerationConfigToJson(const GenerationConfig& g);

// "float32", "float16", "bfloat16" (torch spelling; "int32" for kI32).
const char* TorchDTypeName(DType dt);

// Number of parameters of the checkpoint the config describes (embeddings, layers,
// norms, plus lm_head when untied). Qwen3-0.6B: 596,049,920.
int64_t ParameterCount(const ModelConfig& c);

}  // namespace ax
