// The GLM families' config.json (glm4_moe, glm4_moe_lite): fields as transformers 5
// writes them, bad fields named, and checkpoints whose tensors disagree with the LoRA
// ranks or head dims refused at load naming the tensor and the fields.
#include <gtest/gtest.h>

#include "model/config.h"
#include "model/json_util.h"
#include "model/model.h"
#include "model/synth.h"
#include "model_test_util.h"

namespace ax {
namespace {

using test::ExpectError;
using test::TempDir;

const char* kPath = "m/config.json";

Result<ModelConfig> Parse(const Json& j) { return ParseModelConfig(j.dump(), kPath); }

// tests/fixtures/models/tiny-glm4-moe-lite's config, as make_glm_models.py asks for it.
Json MinimalLite() {
  return Json{{"architectures", {"Glm4MoeLiteForCausalLM"}},
              {"model_type", "glm4_moe_lite"},
              {"vocab_size", 256},
              {"hidden_size", 64},
              {"intermediate_size", 128},
              {"num_hidden_layers", 4},
              {"num_attention_heads", 4},
              {"num_key_value_heads", 4},
              {"q_lora_rank", 24},
              {"kv_lora_rank", 32},
              {"qk_nope_head_dim", 16},
              {"qk_rope_head_dim", 8},
              {"v_head_dim", 24},
              {"n_routed_experts", 8},
              {"num_experts_per_tok", 2},
              {"moe_intermediate_size", 32},
              {"n_shared_experts", 1},
              {"n_group", 1},
              {"topk_group", 1},
              {"norm_topk_prob", true},
              {"routed_scaling_factor", 1.8},
              {"rope_interleave", true},
              {"mlp_layer_types", {"dense", "sparse", "sparse", "sparse"}},
              {"rope_parameters", {{"rope_theta", 10000.0}, {"rope_type", "default"}}}};
}

Json MinimalGlm4Moe() {
  return Json{{"architectures", {"Glm4MoeForCausalLM"}},
              {"model_type", "glm4_moe"},
              {"vocab_size", 256},
              {"hidden_size", 64},
              {"intermediate_size", 128},
              {"num_hidden_layers", 4},
              {"num_attention_heads", 4},
              {"num_key_value_heads", 2},
              {"head_dim", 16},
              {"attention_bias", true},
              {"use_qk_norm", true},
              {"n_routed_experts", 8},
              {"num_experts_per_tok", 2},
              {"moe_intermediate_size", 32},
              {"first_k_dense_replace", 1},
              {"n_group", 2},
              {"topk_group", 1},
              {"routed_scaling_factor", 2.5},
              {"rope_parameters", {{"rope_theta", 10000.0}, {"rope_type", "default"}, {"partial_rotary_factor", 0.5}}}};
}

TEST(GlmConfig, LiteFields) {
  auto c = Parse(MinimalLite());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->family, ModelFamily::kGlm4MoeLite);
  EXPECT_EQ(c->head_dim, 8);  // qk_rope_head_dim
  EXPECT_EQ(c->q_lora_rank, 24);
  EXPECT_EQ(c->kv_lora_rank, 32);
  EXPECT_EQ(c->v_head_dim, 24);
  EXPECT_TRUE(c->rope_interleave);
  EXPECT_EQ(c->num_experts, 8);
  EXPECT_EQ(c->n_shared_experts, 1);
  EXPECT_DOUBLE_EQ(c->routed_scaling_factor, 1.8);
  EXPECT_EQ((std::vector<bool>{SparseMoeLayer(*c, 0), SparseMoeLayer(*c, 1), SparseMoeLayer(*c, 3)}),
            (std::vector<bool>{false, true, true}));
  Json j = MinimalLite();
  j["q_lora_rank"] = nullptr;  // q_proj instead of the q LoRA
  j.erase("mlp_layer_types");
  j["first_k_dense_replace"] = 2;
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->q_lora_rank, 0);
  EXPECT_FALSE(SparseMoeLayer(*c, 1));
  EXPECT_TRUE(SparseMoeLayer(*c, 2));
  // The writer's config reads back to the same values.
  c = Parse(MinimalLite());
  auto again = ParseModelConfig(ModelConfigToJson(*c), kPath);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ModelConfigToJson(*again), ModelConfigToJson(*c));
}

TEST(GlmConfig, Glm4MoeFields) {
  auto c = Parse(MinimalGlm4Moe());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->family, ModelFamily::kGlm4Moe);
  EXPECT_TRUE(c->attention_bias);
  EXPECT_TRUE(c->use_qk_norm);
  EXPECT_DOUBLE_EQ(c->partial_rotary_factor, 0.5);
  EXPECT_EQ(c->n_group, 2);
  EXPECT_TRUE(c->norm_topk_prob);  // transformers' default
  EXPECT_FALSE(SparseMoeLayer(*c, 0));
  EXPECT_TRUE(SparseMoeLayer(*c, 1));
  auto again = ParseModelConfig(ModelConfigToJson(*c), kPath);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ModelConfigToJson(*again), ModelConfigToJson(*c));
}

// The synth shapes (published GLM-4.7-Flash and GLM-4.5-Air configs, the tiny ones)
// write a config.json that reads back to the same values.
TEST(GlmConfig, SynthShapesRoundTrip) {
  for (const char* shape : {"glm-4.7-flash", "glm-4.5-air", "tiny-glm4-moe-lite", "tiny-glm4-moe"}) {
    auto c = SynthShapeConfig(shape);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto again = ParseModelConfig(ModelConfigToJson(*c), kPath);
    ASSERT_TRUE(again.ok()) << shape << ": " << again.status().ToString();
    EXPECT_EQ(ModelConfigToJson(*again), ModelConfigToJson(*c)) << shape;
  }
  auto flash = SynthShapeConfig("glm-4.7-flash");
  EXPECT_EQ(flash->kv_lora_rank + flash->qk_rope_head_dim, 576);  // latent row per token and layer
  EXPECT_FALSE(SparseMoeLayer(*flash, 0));
  EXPECT_TRUE(SparseMoeLayer(*flash, 46));
}

TEST(GlmConfig, BadFieldsAreNamed) {
  Json j = MinimalGlm4Moe();
  j["n_group"] = 3;  // 8 experts
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {kPath, "'n_group'", "divisor", "3"});
  j = MinimalGlm4Moe();
  j["topk_group"] = 3;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'topk_group'", "[1, 2]"});
  j = MinimalGlm4Moe();
  j["num_experts_per_tok"] = 5;  // one group of 4 experts
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'topk_group'", "num_experts_per_tok (5)"});
  j = MinimalGlm4Moe();
  j.erase("n_routed_experts");
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'n_routed_experts'", "missing"});
  j = MinimalGlm4Moe();
  j["rope_parameters"]["partial_rotary_factor"] = 0.1;  // 1.6 dims of 16
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'rope_parameters.partial_rotary_factor'"});
  j = MinimalLite();
  j["mlp_layer_types"] = {"dense", "sparse"};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'mlp_layer_types'", "4 \"dense\""});
  j = MinimalLite();
  j["mlp_layer_types"] = {"dense", "moe", "sparse", "sparse"};
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'mlp_layer_types'"});
  for (const char* field : {"kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"}) {
    j = MinimalLite();
    j.erase(field);
    ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {std::string("'") + field + "'", "missing"});
  }
  j = MinimalLite();
  j["qk_rope_head_dim"] = 7;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'qk_rope_head_dim'", "even"});
  j = MinimalLite();
  j["q_lora_rank"] = 0;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'q_lora_rank'"});
  j = MinimalLite();
  j["attention_bias"] = true;
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'attention_bias'", "MLA"});
  j = MinimalLite();
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'rope_parameters'", "MLA"});
  j = MinimalLite();
  j["rope_parameters"]["partial_rotary_factor"] = 0.5;
  ExpectError(Parse(j).status(), StatusCode::kUnimplemented, {"'rope_parameters.partial_rotary_factor'"});
  j = MinimalLite();
  j["head_dim"] = 16;
  ExpectError(Parse(j).status(), StatusCode::kInvalidArgument, {"'head_dim'", "qk_rope_head_dim (8)"});
}

// A checkpoint whose tensors disagree with config.json's ranks and head dims fails at
// load (Model::Check reads only headers) naming the tensor and the fields.
TEST(GlmConfig, TensorsInconsistentWithRanksAreNamed) {
  TempDir dir;
  SynthOptions o;
  o.shape = "tiny-glm4-moe-lite";
  o.out_dir = dir / "m";
  ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
  const std::string path = o.out_dir + "/config.json";
  const std::string original = test::ReadFile(path);
  auto check = Model::Check(o.out_dir);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  const struct {
    const char* field;
    int value;
    std::vector<std::string> parts;
  } cases[] = {
      {"kv_lora_rank", 16, {"kv_a_proj_with_mqa.weight", "kv_lora_rank 16"}},
      {"q_lora_rank", 20, {"q_a_proj.weight", "q_lora_rank 20"}},
      {"v_head_dim", 16, {"kv_b_proj.weight", "v_head_dim 16"}},
      {"qk_nope_head_dim", 8, {"q_b_proj.weight", "qk_nope_head_dim 8"}},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(original);
    j[c.field] = c.value;
    test::WriteFile(path, j.dump(2));
    auto bad = Model::Check(o.out_dir);
    ExpectError(bad.status(), StatusCode::kInvalidArgument, c.parts);
  }
  Json j = Json::parse(original);
  j["q_lora_rank"] = nullptr;  // q_proj expected, the checkpoint has the LoRA
  test::WriteFile(path, j.dump(2));
  ExpectError(Model::Check(o.out_dir).status(), StatusCode::kInvalidArgument,
              {"q_a_proj.weight", "q_lora_rank is null"});
}

}  // namespace
}  // namespace ax
