// config.json / generation_config.json parsing: defaults, rope forms, errors.
#include "model/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/json_util.h"
#include "model_test_util.h"

namespace ax {
namespace {

using test::ExpectError;
using test::TempDir;

const char* kPath = "m/config.json";

Json MinimalLlama() {
  return Json{{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 64},   {"intermediate_size", 128},
              {"num_hidden_layers", 2},                {"num_attention_heads", 4}, {"vocab_size", 256}};
}
Json MinimalQwen3() {
  Json j = MinimalLlama();
  j["architectures"] = {"Qwen3ForCausalLM"};
  return j;
}
Result<ModelConfig> Parse(const Json& j) { return ParseModelConfig(j.dump(), kPath); }

TEST(ModelConfig, Stories260K) {
  const std::string dir = std::string(AX_SHARED_DIR) + "/models/stories260K";
  if (!std::filesystem::exists(dir + "/config.json")) GTEST_SKIP() << dir << " missing";
  auto c = LoadModelConfig(dir);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->architecture, "LlamaForCausalLM");
  EXPECT_EQ(c->family, ModelFamily::kLlama);
  EXPECT_EQ(c->hidden_size, 64);
  EXPECT_EQ(c->intermediate_size, 172);
  EXPECT_EQ(c->num_hidden_layers, 5);
  EXPECT_EQ(c->num_attention_heads, 8);
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 8);
  EXPECT_EQ(c->vocab_size, 512);
  EXPECT_EQ(c->max_position_embeddings, 512);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kNone);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->torch_dtype, DType::kF32);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_ids, std::vector<int32_t>{2});

  auto g = LoadGenerationConfig(dir);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->bos_token_id, 1);
  EXPECT_EQ(g->eos_token_ids, std::vector<int32_t>{2});
  EXPECT_FALSE(g->do_sample);
  EXPECT_EQ(g->max_length, 512);
}

// The transformers-5 fixtures use "dtype" and "rope_parameters".
TEST(ModelConfig, Transformers5Fixtures) {
  const std::string root = std::string(AX_FIXTURES_DIR) + "/models/";
  if (!std::filesystem::exists(root + "tiny-llama/config.json")) GTEST_SKIP() << "fixtures missing";
  auto l = LoadModelConfig(root + "tiny-llama");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(l->rope_scaling.factor, 8.0);
  EXPECT_EQ(l->rope_scaling.original_max_position_embeddings, 16);
  EXPECT_DOUBLE_EQ(l->rope_theta, 500000.0);
  EXPECT_FALSE(l->tie_word_embeddings);
  auto f16 = LoadModelConfig(root + "tiny-llama-f16");
  ASSERT_TRUE(f16.ok()) << f16.status().ToString();
  EXPECT_EQ(f16->torch_dtype, DType::kF16);
  EXPECT_EQ(f16->rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(f16->rope_scaling.factor, 2.0);
  auto q = LoadModelConfig(root + "tiny-qwen3-bf16");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->family, ModelFamily::kQwen3);
  EXPECT_EQ(q->torch_dtype, DType::kBF16);
  EXPECT_EQ(q->head_dim, 16);
  EXPECT_EQ(q->hidden_size, 96);
  EXPECT_DOUBLE_EQ(q->rope_theta, 1e6);
  EXPECT_EQ(q->rope_scaling.type, RopeScalingType::kNone);
}

TEST(ModelConfig, LlamaDefaultsFollowTransformers) {
  auto c = Parse(MinimalLlama());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 16);  // hidden / heads
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->torch_dtype, DType::kF32);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(c->hidden_act, "silu");
}

TEST(ModelConfig, Qwen3DefaultsFollowTransformers) {
  auto c = Parse(MinimalQwen3());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->head_dim, 128);  // Qwen3Config.head_dim default, independent of hidden
  EXPECT_EQ(c->max_position_embeddings, 32768);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);  // Qwen3Config default; real checkpoints set 1e6
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->bos_token_id, -1);
  EXPECT_TRUE(c->eos_token_ids.empty());
}

TEST(ModelConfig, ModelTypeWithoutArchitectures) {
  Json j = MinimalQwen3();
  j.erase("architectures");
  j["model_type"] = "qwen3";
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->architecture, "Qwen3ForCausalLM");
  j["model_type"] = "llama";
  ASSERT_TRUE(Parse(j).ok());
  j["model_type"] = "mistral";
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {kPath, "'model_type'", "mistral", "llama, qwen3"});
  j.erase("model_type");
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {kPath, "'architectures'", "missing"});
}

TEST(ModelConfig, UnknownArchitectureListsSupported) {
  Json j = MinimalLlama();
  j["architectures"] = {"MistralForCausalLM"};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented,
              {kPath, "MistralForCausalLM", "LlamaForCausalLM", "Qwen3ForCausalLM"});
  j["architectures"] = Json::array();
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'architectures'"});
}

TEST(ModelConfig, RopeScalingForms) {
  Json j = MinimalLlama();
  j["rope_scaling"] = nullptr;
  EXPECT_EQ(Parse(j)->rope_scaling.type, RopeScalingType::kNone);

  j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 4.0);

  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2}};
  EXPECT_DOUBLE_EQ(Parse(j)->rope_scaling.factor, 2.0);

  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"rope_type", "llama3"},       {"factor", 32.0},
                       {"low_freq_factor", 1.0},      {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);

  j["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_EQ(Parse(j)->rope_scaling.type, RopeScalingType::kNone);
}

TEST(ModelConfig, RopeScalingErrors) {
  Json j = MinimalLlama();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {kPath, "'rope_scaling.rope_type'", "yarn", "llama3"});
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 4.0}};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'rope_scaling.type'", "dynamic"});
  j["rope_scaling"] = {{"rope_type", "linear"}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling.factor'", "missing"});
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", "2"}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling.factor'", "\"2\""});
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", -1}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling.factor'", "-1"});
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling.original_max_position_embeddings'"});
  j["rope_scaling"] = {{"rope_type", "llama3"},  {"factor", 8.0}, {"low_freq_factor", 4.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling.high_freq_factor'"});
  j["rope_scaling"] = {{"factor", 8.0}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling.rope_type'"});
  j["rope_scaling"] = 3;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_scaling'", "object"});
}

TEST(ModelConfig, RopeParametersForm) {
  Json j = MinimalLlama();
  j["rope_theta"] = 1.0;  // rope_parameters wins
  j["rope_parameters"] = {{"rope_type", "llama3"},        {"rope_theta", 500000.0},
                          {"factor", 8.0},                {"low_freq_factor", 1.0},
                          {"high_freq_factor", 4.0},      {"original_max_position_embeddings", 8192}};
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);

  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  c = Parse(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kNone);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);

  // Keyed by layer type, as transformers 5 writes for models with layer_types.
  j["rope_parameters"] = {{"full_attention", {{"rope_type", "linear"}, {"factor", 2.0}, {"rope_theta", 1e4}}}};
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLinear);

  j["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'rope_parameters.rope_type'", "yarn"});
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 0}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_parameters.rope_theta'"});
}

Json MinimalGemma3() {
  return Json{{"architectures", {"Gemma3ForCausalLM"}}, {"hidden_size", 64}, {"intermediate_size", 128},
              {"num_hidden_layers", 6}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
              {"head_dim", 32}, {"vocab_size", 256}, {"sliding_window", 8}};
}

// Gemma3TextConfig's defaults and its older fields (sliding_window_pattern,
// rope_local_base_freq, rope_scaling for the full layers).
TEST(ModelConfig, Gemma3DefaultsAndLegacyFields) {
  Json j = MinimalGemma3();
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
  j["rope_local_base_freq"] = 20000.0;
  j["sliding_window_pattern"] = 3;
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->family, ModelFamily::kGemma3);
  EXPECT_EQ(c->hidden_act, "gelu_pytorch_tanh");
  EXPECT_DOUBLE_EQ(c->query_pre_attn_scalar, 256);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c->rope_local_theta, 20000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_EQ(c->rope_local_scaling.type, RopeScalingType::kNone);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->bos_token_id, 2);
  using T = AttentionType;
  EXPECT_EQ(c->layer_types, (std::vector<T>{T::kSliding, T::kSliding, T::kFull, T::kSliding, T::kSliding, T::kFull}));
}

// transformers 5: layer_types and rope_parameters keyed by layer type.
TEST(ModelConfig, Gemma3LayerTypesAndPerTypeRope) {
  Json j = MinimalGemma3();
  j["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention",
                      "sliding_attention", "sliding_attention", "full_attention"};
  j["rope_parameters"] = {{"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1e6}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 1e4}}}};
  j["final_logit_softcapping"] = 30.0;
  j["attn_logit_softcapping"] = nullptr;
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->layer_types[1], AttentionType::kFull);
  EXPECT_EQ(c->layer_types[2], AttentionType::kSliding);
  EXPECT_DOUBLE_EQ(c->rope_local_theta, 1e4);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(c->final_logit_softcapping, 30.0);
  EXPECT_DOUBLE_EQ(c->attn_logit_softcapping, 0.0);
}

// The text model of a multimodal checkpoint: text_config describes it.
TEST(ModelConfig, Gemma3ConditionalGenerationReadsTextConfig) {
  Json j = {{"architectures", {"Gemma3ForConditionalGeneration"}},
            {"text_config", MinimalGemma3()},
            {"vision_config", {{"hidden_size", 1152}}},
            {"torch_dtype", "bfloat16"}};
  j["text_config"].erase("architectures");
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->multimodal);
  EXPECT_EQ(c->family, ModelFamily::kGemma3);
  EXPECT_EQ(c->hidden_size, 64);
  EXPECT_EQ(c->torch_dtype, DType::kBF16);
  j["text_config"]["hidden_size"] = "big";
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'text_config.hidden_size'"});
  j.erase("text_config");
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'text_config'"});
}

// Inconsistent fields fail at load, naming the field.
TEST(ModelConfig, Gemma3InconsistentFieldsAreNamed) {
  Json j = MinimalGemma3();
  j["layer_types"] = {"sliding_attention", "full_attention"};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'layer_types'", "6"});
  j = MinimalGemma3();
  j["layer_types"] = {"sliding_attention", "full_attention", "chunked_attention",
                      "sliding_attention", "sliding_attention", "full_attention"};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'layer_types'", "chunked_attention"});
  j = MinimalGemma3();
  j["max_position_embeddings"] = 4;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'sliding_window'", "max_position_embeddings"});
  j = MinimalGemma3();
  j["hidden_activation"] = "relu";
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'hidden_act'", "relu"});
  j = MinimalGemma3();
  j["query_pre_attn_scalar"] = -1;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'query_pre_attn_scalar'"});
}

Json MinimalGemma4() {
  return Json{{"architectures", {"Gemma4ForCausalLM"}}, {"hidden_size", 64}, {"intermediate_size", 128},
              {"num_hidden_layers", 4}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
              {"head_dim", 32}, {"vocab_size", 256}, {"sliding_window", 6},
              {"layer_types", {"sliding_attention", "sliding_attention", "full_attention", "full_attention"}}};
}

// Gemma 4: full layers take global_head_dim (default 512) and, with K=V, their own kv
// heads; per_layer_config overrides; proportional rope by default.
TEST(ModelConfig, Gemma4LayerShapes) {
  Json j = MinimalGemma4();
  j["global_head_dim"] = 64;
  j["attention_k_eq_v"] = true;
  j["num_global_key_value_heads"] = 1;
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->family, ModelFamily::kGemma4);
  ASSERT_EQ(c->layer_shapes.size(), 4u);
  EXPECT_EQ(c->layer_shapes[0].head_dim, 32);
  EXPECT_EQ(c->layer_shapes[0].num_key_value_heads, 2);
  EXPECT_EQ(c->layer_shapes[3].head_dim, 64);
  EXPECT_EQ(c->layer_shapes[3].num_key_value_heads, 1);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kProportional);
  EXPECT_DOUBLE_EQ(c->rope_scaling.partial_rotary_factor, 0.25);
  EXPECT_EQ(c->hidden_size_per_layer_input, 256);  // Gemma4TextConfig's default

  j = MinimalGemma4();
  j["per_layer_config"] = {{"2", {{"head_dim", 128}, {"num_key_value_heads", 1}}}};
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->layer_shapes[2].head_dim, 128);
  EXPECT_EQ(c->layer_shapes[3].head_dim, 512);
}

TEST(ModelConfig, Gemma4UnsupportedAndInconsistentFieldsAreNamed) {
  Json j = MinimalGemma4();
  j["enable_moe_block"] = true;  // needs its expert counts
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'num_experts'"});
  j["num_experts"] = 4;
  j["top_k_experts"] = 5;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'top_k_experts'"});
  j = MinimalGemma4();
  j["per_layer_config"] = {{"9", {{"head_dim", 64}}}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'per_layer_config'", "num_hidden_layers"});
  j = MinimalGemma4();
  j["per_layer_config"] = {{"2", {{"head_dim", -1}}}};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'per_layer_config.2.head_dim'"});
  j = MinimalGemma4();
  j["layer_types"] = {"sliding_attention", "sliding_attention", "full_attention", "sliding_attention"};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'layer_types'", "last layer"});
  j = MinimalGemma4();
  j["num_kv_shared_layers"] = 4;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'num_kv_shared_layers'"});
  j = MinimalGemma4();
  j["num_kv_shared_layers"] = 2;  // the shared full layers' type does not occur before them
  j["layer_types"] = {"sliding_attention", "sliding_attention", "full_attention", "full_attention"};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'num_kv_shared_layers'"});
}

Json MinimalQwen3Moe() {
  Json j = MinimalLlama();
  j["architectures"] = {"Qwen3MoeForCausalLM"};
  j["num_hidden_layers"] = 4;
  j["num_experts"] = 8;
  j["num_experts_per_tok"] = 2;
  j["moe_intermediate_size"] = 32;
  return j;
}

// Qwen3-MoE: Qwen3MoeConfig's defaults (head_dim hidden / heads, unlike Qwen3's 128;
// decoder_sparse_step 1; norm_topk_prob false) and transformers' rule for which layers
// are sparse.
TEST(ModelConfig, Qwen3MoeFieldsAndSparseLayers) {
  Json j = MinimalQwen3Moe();
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->family, ModelFamily::kQwen3Moe);
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->max_position_embeddings, 32768);
  EXPECT_EQ(c->num_experts, 8);
  EXPECT_EQ(c->top_k_experts, 2);
  EXPECT_EQ(c->moe_intermediate_size, 32);
  EXPECT_FALSE(c->norm_topk_prob);
  EXPECT_EQ(c->decoder_sparse_step, 1);
  for (int64_t l = 0; l < 4; ++l) EXPECT_TRUE(SparseMoeLayer(*c, l)) << l;

  j["norm_topk_prob"] = true;
  j["decoder_sparse_step"] = 2;
  j["mlp_only_layers"] = {3};
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->norm_topk_prob);
  // (i + 1) % 2 == 0 gives layers 1 and 3; mlp_only_layers takes 3 back.
  EXPECT_EQ(
      (std::vector<bool>{SparseMoeLayer(*c, 0), SparseMoeLayer(*c, 1), SparseMoeLayer(*c, 2), SparseMoeLayer(*c, 3)}),
      (std::vector<bool>{false, true, false, false}));

  j = MinimalQwen3Moe();
  j["num_experts"] = 0;  // no experts: every layer dense, the MoE sizes not needed
  j.erase("num_experts_per_tok");
  j.erase("moe_intermediate_size");
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(SparseMoeLayer(*c, 0));

  j = MinimalQwen3Moe();  // transformers 5 writes the count as num_local_experts
  j.erase("num_experts");
  j["num_local_experts"] = 6;
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->num_experts, 6);

  j = MinimalQwen3Moe();
  j.erase("architectures");
  j["model_type"] = "qwen3_moe";
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->architecture, "Qwen3MoeForCausalLM");
}

TEST(ModelConfig, Qwen3MoeBadFieldsAreNamed) {
  Json j = MinimalQwen3Moe();
  j["num_experts_per_tok"] = 9;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'num_experts_per_tok'", "[1, 8]", "9"});
  j = MinimalQwen3Moe();
  j["num_local_experts"] = 4;  // beside num_experts 8
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'num_local_experts'", "num_experts (8)"});
  for (const char* field : {"num_experts", "num_experts_per_tok", "moe_intermediate_size"}) {
    j = MinimalQwen3Moe();
    j.erase(field);
    ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {std::string("'") + field + "'", "missing"});
  }
  j = MinimalQwen3Moe();
  j["mlp_only_layers"] = {0, 4};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'mlp_only_layers'", "[0, 3]", "[0,4]"});
  j["mlp_only_layers"] = 1;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'mlp_only_layers'"});
  j = MinimalQwen3Moe();
  j["decoder_sparse_step"] = 0;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'decoder_sparse_step'"});
  j = MinimalQwen3Moe();
  j["norm_topk_prob"] = "yes";
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'norm_topk_prob'"});
  j = MinimalQwen3Moe();
  j["moe_intermediate_size"] = -1;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'moe_intermediate_size'"});
  j = MinimalQwen3Moe();
  j["use_sliding_window"] = true;
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'use_sliding_window'"});
}

// Architectures users bring that are not built yet say what they need.
TEST(ModelConfig, KnownUnsupportedArchitecturesNameWhatIsMissing) {
  Json j = MinimalGemma3();
  j["architectures"] = {"Gemma3nForCausalLM"};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'architectures'", "Gemma3nForCausalLM", "AltUp"});
}

// Qwen3's generation_config.json: the sampling defaults the server applies.
TEST(GenerationConfig, SamplingFields) {
  auto g = ParseGenerationConfig(R"({"do_sample": true, "temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0})",
                                 "m/generation_config.json");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(g->do_sample);
  EXPECT_TRUE(g->top_k_given);
  EXPECT_EQ(g->top_k, 20);
  EXPECT_DOUBLE_EQ(g->min_p, 0.0);
  g = ParseGenerationConfig(R"({"do_sample": true})", "m/generation_config.json");
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->top_k_given);
  ExpectError(ParseGenerationConfig(R"({"min_p": 2})", "m/generation_config.json").status(),
              StatusCode::kInvalidArgument, {"'min_p'"});
}

TEST(ModelConfig, EosAndDTypeForms) {
  Json j = MinimalLlama();
  j["eos_token_id"] = {128001, 128008, 128009};
  j["bos_token_id"] = 128000;
  j["torch_dtype"] = "bfloat16";
  auto c = Parse(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
  EXPECT_EQ(c->bos_token_id, 128000);
  EXPECT_EQ(c->torch_dtype, DType::kBF16);
  j.erase("torch_dtype");
  j["dtype"] = "float16";
  EXPECT_EQ(Parse(j)->torch_dtype, DType::kF16);
  j["eos_token_id"] = nullptr;
  EXPECT_TRUE(Parse(j)->eos_token_ids.empty());
  j["dtype"] = "float64";
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'dtype'", "float64"});
  j["dtype"] = "float32";
  j["eos_token_id"] = "</s>";
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'eos_token_id'", "\"</s>\""});
  j["eos_token_id"] = {2, -1};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'eos_token_id'"});
}

TEST(ModelConfig, UnsupportedOptions) {
  Json j = MinimalLlama();
  j["hidden_act"] = "gelu";
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {kPath, "'hidden_act'", "silu", "gelu"});
  j = MinimalLlama();
  j["attention_bias"] = true;
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'attention_bias'"});
  j = MinimalLlama();
  j["mlp_bias"] = true;
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'mlp_bias'"});
  j = MinimalQwen3();
  j["use_sliding_window"] = true;
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'use_sliding_window'"});
  j = MinimalLlama();
  j["attention_bias"] = "no";
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'attention_bias'", "true or false"});
}

TEST(ModelConfig, InvalidSizes) {
  for (const char* field : {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"}) {
    Json j = MinimalLlama();
    j.erase(field);
    ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {kPath, std::string("'") + field + "'", "missing"});
    for (const Json& bad : {Json(0), Json(-3), Json("64"), Json(1.5), Json(1e12), Json::array()}) {
      j[field] = bad;
      ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {kPath, std::string("'") + field + "'", "got"});
    }
  }
  Json j = MinimalLlama();
  j["hidden_size"] = 64.0;  // integral floats are accepted
  EXPECT_TRUE(Parse(j).ok());
}

TEST(ModelConfig, StructuralValidation) {
  Json j = MinimalLlama();
  j["num_attention_heads"] = 6;
  j["head_dim"] = 16;
  j["num_key_value_heads"] = 4;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'num_key_value_heads'", "divisor", "6"});
  j["num_key_value_heads"] = 3;
  j["head_dim"] = 15;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'head_dim'", "even", "15"});
  j = MinimalLlama();
  j["num_attention_heads"] = 6;  // 64 % 6 != 0 and no head_dim
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'hidden_size'", "multiple"});
  j = MinimalLlama();
  j["rms_norm_eps"] = 0;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rms_norm_eps'"});
  j = MinimalLlama();
  j["num_key_value_heads"] = nullptr;  // null → default
  EXPECT_EQ(Parse(j)->num_key_value_heads, 4);
}

TEST(ModelConfig, FileErrors) {
  TempDir dir;
  ExpectError(LoadModelConfig(dir.str()).status(), StatusCode::kNotFound, {dir / "config.json"});
  test::WriteFile(dir / "config.json", "{\"hidden_size\": 64,\n \"x\": }");
  ExpectError(LoadModelConfig(dir.str()).status(), StatusCode::kInvalidArgument,
              {dir / "config.json", "line 2", "column"});
  test::WriteFile(dir / "config.json", "[1, 2]");
  ExpectError(LoadModelConfig(dir.str()).status(), StatusCode::kInvalidArgument, {"object"});
  test::WriteFile(dir / "config.json", std::string(1000, '['));
  ExpectError(LoadModelConfig(dir.str()).status(), StatusCode::kInvalidArgument, {"nesting"});
  test::WriteFile(dir / "config.json", "{\"architectures\": [\"Llama\xff\"]}");
  const Status bad_utf8 = LoadModelConfig(dir.str()).status();
  ExpectError(bad_utf8, StatusCode::kInvalidArgument, {"UTF-8", "\\xff"});
  for (char ch : bad_utf8.message()) EXPECT_LT(static_cast<unsigned char>(ch), 0x80) << bad_utf8.message();
}

TEST(ModelConfig, WriterRoundTrips) {
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.hidden_size = 2048;
  c.intermediate_size = 8192;
  c.num_hidden_layers = 16;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 8;
  c.head_dim = 64;
  c.vocab_size = 128256;
  c.max_position_embeddings = 131072;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500000;
  c.rope_scaling = {RopeScalingType::kLlama3, 32.0, 1.0, 4.0, 8192};
  c.tie_word_embeddings = true;
  c.torch_dtype = DType::kBF16;
  c.bos_token_id = 128000;
  c.eos_token_ids = {128001, 128009};
  auto back = ParseModelConfig(ModelConfigToJson(c), "written");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ModelConfigToJson(*back), ModelConfigToJson(c));
  EXPECT_EQ(back->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_EQ(back->eos_token_ids, c.eos_token_ids);
  EXPECT_EQ(ParameterCount(c), ParameterCount(*back));

  GenerationConfig g;
  g.bos_token_id = 1;
  g.eos_token_ids = {2, 3};
  g.do_sample = true;
  g.temperature = 0.6;
  g.top_p = 0.95;
  g.top_k = 20;
  g.max_new_tokens = 100;
  auto gb = ParseGenerationConfig(GenerationConfigToJson(g), "gen");
  ASSERT_TRUE(gb.ok()) << gb.status().ToString();
  EXPECT_EQ(GenerationConfigToJson(*gb), GenerationConfigToJson(g));
}

TEST(GenerationConfig, MissingFileGivesDefaults) {
  TempDir dir;
  auto g = LoadGenerationConfig(dir.str());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->bos_token_id, -1);
  EXPECT_TRUE(g->eos_token_ids.empty());
  EXPECT_FALSE(g->do_sample);
  EXPECT_DOUBLE_EQ(g->temperature, 1.0);
}

TEST(GenerationConfig, FieldsAndErrors) {
  const char* p = "g/generation_config.json";
  auto g = ParseGenerationConfig(R"({"bos_token_id": 151643, "eos_token_id": [151645, 151643], "do_sample": true,
      "temperature": 0.6, "top_p": 0.95, "top_k": 20, "repetition_penalty": 1.1, "max_new_tokens": 256,
      "pad_token_id": 151643, "transformers_version": "4.51.0"})", p);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->bos_token_id, 151643);
  EXPECT_EQ(g->eos_token_ids, (std::vector<int32_t>{151645, 151643}));
  EXPECT_TRUE(g->do_sample);
  EXPECT_DOUBLE_EQ(g->temperature, 0.6);
  EXPECT_DOUBLE_EQ(g->top_p, 0.95);
  EXPECT_EQ(g->top_k, 20);
  EXPECT_DOUBLE_EQ(g->repetition_penalty, 1.1);
  EXPECT_EQ(g->max_new_tokens, 256);
  EXPECT_EQ(ParseGenerationConfig(R"({"eos_token_id": 7})", p)->eos_token_ids, std::vector<int32_t>{7});
  ExpectError(ParseGenerationConfig(R"({"temperature": -1})", p).status(), StatusCode::kInvalidArgument,
              {p, "'temperature'", "-1"});
  ExpectError(ParseGenerationConfig(R"({"top_p": 1.5})", p).status(), StatusCode::kInvalidArgument, {"'top_p'"});
  ExpectError(ParseGenerationConfig(R"({"top_k": -2})", p).status(), StatusCode::kInvalidArgument, {"'top_k'"});
  ExpectError(ParseGenerationConfig(R"({"do_sample": "yes"})", p).status(), StatusCode::kInvalidArgument,
              {"'do_sample'"});
  ExpectError(ParseGenerationConfig(R"({"eos_token_id": [1, "x"]})", p).status(), StatusCode::kInvalidArgument,
              {"'eos_token_id'"});
  ExpectError(ParseGenerationConfig("{", p).status(), StatusCode::kInvalidArgument, {p, "line 1"});
}

TEST(ModelConfig, ParameterCountOfPublishedShapes) {
  ModelConfig q;  // Qwen3-0.6B
  q.family = ModelFamily::kQwen3;
  q.hidden_size = 1024;
  q.intermediate_size = 3072;
  q.num_hidden_layers = 28;
  q.num_attention_heads = 16;
  q.num_key_value_heads = 8;
  q.head_dim = 128;
  q.vocab_size = 151936;
  q.tie_word_embeddings = true;
  EXPECT_EQ(ParameterCount(q), 596049920);
}

}  // namespace
}  // namespace ax
