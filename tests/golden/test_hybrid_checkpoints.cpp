// The hybrid Qwen checkpoints (tiny-qwen3-next, tiny-qwen3_5, tiny-qwen3_5-moe) against
// their config.json: doctor maps every tensor and names the hybrid features; a config
// whose layer_types, head counts or conv kernel disagree with itself or with the
// tensors fails at load naming the field or the tensor; config defaults follow
// transformers (layer_types from full_attention_interval, partial_rotary_factor in
// rope_parameters).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "golden/model_harness.h"
#include "model/config.h"

namespace ax::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Fixture(const std::string& name) { return std::string(AX_FIXTURES_DIR) + "/models/" + name; }

class HybridCheckpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ax_hybrid_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A copy of fixture `name` whose config.json `edit` changed (the weights linked).
  std::string Reconfigure(const std::string& name, const std::function<void(Json&)>& edit) {
    const fs::path dir = root_ / (name + "-" + std::to_string(n_++));
    fs::create_directories(dir);
    fs::create_symlink(fs::path(Fixture(name)) / "model.safetensors", dir / "model.safetensors");
    Json c = ReadJson(Fixture(name) + "/config.json");
    edit(c);
    std::ofstream(dir / "config.json") << c.dump(2);
    return dir.string();
  }

  static void ExpectLoadError(const std::string& dir, const std::vector<std::string>& parts) {
    const Status s = ModelHarness(dir).status();
    ASSERT_FALSE(s.ok()) << dir;
    for (const std::string& p : parts) EXPECT_NE(s.message().find(p), std::string::npos) << s.message();
  }

  fs::path root_;
  int n_ = 0;
};

TEST_F(HybridCheckpoints, DoctorMapsEveryTensorAndNamesTheFeatures) {
  for (const char* name : {"tiny-qwen3-next", "tiny-qwen3_5", "tiny-qwen3_5-moe"}) {
    auto check = Model::Check(Fixture(name));
    ASSERT_TRUE(check.ok()) << name << ": " << check.status().ToString();
    EXPECT_TRUE(check->skipped.empty()) << name << ": " << check->skipped[0];
    std::string features;
    for (const std::string& f : check->features) features += f + "; ";
    for (const char* want : {"GatedDelta linear attention on 4 of 6 layers (2 k / 4 v heads of 16/16, conv kernel 4",
                             "GatedDelta on CUDA is not implemented", "prefix reuse off",
                             "sigmoid output gate", "partial rotary 4 of 16", "(1 + w) RMSNorms"})
      EXPECT_NE(features.find(want), std::string::npos) << name << ": " << features;
    if (std::string(name) != "tiny-qwen3_5") {
      EXPECT_NE(features.find("sigmoid-gated shared expert of 48"), std::string::npos) << features;
    }
  }
}

TEST_F(HybridCheckpoints, ConfigsThatDisagreeAreNamed) {
  // layer_types of the wrong length, or a kind the family does not have.
  ExpectLoadError(Reconfigure("tiny-qwen3_5", [](Json& c) { c["layer_types"].erase(0); }),
                  {"'layer_types'", "6", "num_hidden_layers"});
  ExpectLoadError(Reconfigure("tiny-qwen3_5", [](Json& c) { c["layer_types"][0] = "sliding_attention"; }),
                  {"'layer_types'", "linear_attention"});
  // Head counts: value heads not a multiple of key heads; more key heads than stored.
  ExpectLoadError(Reconfigure("tiny-qwen3-next", [](Json& c) { c["linear_num_value_heads"] = 3; }),
                  {"'linear_num_value_heads'", "multiple of linear_num_key_heads (2)"});
  ExpectLoadError(Reconfigure("tiny-qwen3-next", [](Json& c) { c["linear_num_key_heads"] = 4; }),
                  {"model.layers.0.linear_attn.in_proj_qkvz.weight"});
  ExpectLoadError(Reconfigure("tiny-qwen3_5", [](Json& c) { c["num_attention_heads"] = 2; }),
                  {"model.layers.3.self_attn.q_proj.weight"});
  // A conv kernel the tensors do not have.
  ExpectLoadError(Reconfigure("tiny-qwen3_5-moe", [](Json& c) { c["linear_conv_kernel_dim"] = 3; }),
                  {"model.layers.0.linear_attn.conv1d.weight", "[128, 1, 3]"});
  // A full layer where the checkpoint has a linear one.
  ExpectLoadError(Reconfigure("tiny-qwen3_5", [](Json& c) { c["layer_types"][1] = "full_attention"; }),
                  {"model.layers.1.self_attn.q_proj.weight"});
  // Required hybrid fields.
  ExpectLoadError(Reconfigure("tiny-qwen3_5", [](Json& c) { c.erase("linear_key_head_dim"); }),
                  {"'linear_key_head_dim'"});
  ExpectLoadError(Reconfigure("tiny-qwen3_5", [](Json& c) { c["rope_parameters"]["partial_rotary_factor"] = 0.05; }),
                  {"'partial_rotary_factor'", "even rotary dim"});
}

TEST(HybridConfig, DefaultsFollowTransformers) {
  Json j = ReadJson(Fixture("tiny-qwen3_5-moe") + "/config.json");
  j.erase("layer_types");
  j["num_hidden_layers"] = 8;
  j["full_attention_interval"] = 4;
  auto c = ParseModelConfig(j.dump(), "m/config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->family, ModelFamily::kQwen35Moe);
  ASSERT_EQ(c->layer_types.size(), 8u);
  for (size_t l = 0; l < 8; ++l)
    EXPECT_EQ(c->layer_types[l], (l + 1) % 4 == 0 ? AttentionType::kFull : AttentionType::kLinear) << l;
  EXPECT_DOUBLE_EQ(c->partial_rotary_factor, 0.25);
  EXPECT_EQ(c->shared_expert_intermediate_size, 48);
  EXPECT_EQ(c->linear_num_value_heads, 4);
  // A non-hybrid family does not take linear_attention layers.
  Json q = Json{{"architectures", {"Qwen3ForCausalLM"}}, {"hidden_size", 64},   {"intermediate_size", 128},
                {"num_hidden_layers", 2},                 {"num_attention_heads", 4}, {"vocab_size", 256},
                {"layer_types", {"linear_attention", "full_attention"}}};
  auto bad = ParseModelConfig(q.dump(), "m/config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'layer_types'"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace ax::testing
