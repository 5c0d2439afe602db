// The hybrid Qwen checkpoints (tiny-qwen3-next, tiny-qwen3_5, tiny-qwen3_5-moe) against
// their config.json: doctor maps every tensor and names the hybrid features; a config
// whose layer_types, head counts or conv kernel disagree with itself or with the
// tensors fails at load naming the field or the tensor; config defaults follow
// transformers (layer_types from full_attention_interval, partial_rotary_factor in
// rope_parameters); the same weights as a *ForConditionalGeneration checkpoint (text
// model under model.language_model., a vision tower and mtp head not loaded), with
// transformers 5's fused experts and in mlx-community's pre-sanitised layout give the
// same logits bit for bit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include <cstring>
#include <map>

#include "golden/model_harness.h"
#include "model/config.h"
#include "model/json_util.h"
#include "model/quantize.h"
#include "model/safetensors.h"
#include "tensor/dtype.h"

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

  using Tensors = std::map<std::string, TensorToWrite>;
  // A copy of fixture `name` with its tensors passed through `edit` and its config.json through `config`.
  std::string Rewrite(const std::string& name, const std::function<void(Tensors&)>& edit,
                      const std::function<void(Json&)>& config) {
    const fs::path dir = root_ / (name + "-" + std::to_string(n_++));
    fs::create_directories(dir);
    auto store = WeightStore::OpenDir(Fixture(name));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    Tensors t;
    for (const auto& [tname, e] : store->tensors()) {
      const auto* p = static_cast<const uint8_t*>(e.data);
      t[tname] = {e.name, e.dtype, e.shape, std::vector<uint8_t>(p, p + e.nbytes)};
    }
    edit(t);
    std::vector<TensorToWrite> all;
    for (auto& [tname, w] : t) all.push_back(std::move(w));
    EXPECT_TRUE(WriteSafetensors((dir / "model.safetensors").string(), all, {{"format", "pt"}}).ok());
    Json c = ReadJson(Fixture(name) + "/config.json");
    config(c);
    EXPECT_TRUE(WriteStringToFile((dir / "config.json").string(), c.dump(2)).ok());
    return dir.string();
  }

  static std::vector<float> Logits(const std::string& dir) {
    ModelHarness h(dir);
    EXPECT_TRUE(h.status().ok()) << dir << ": " << h.status().ToString();
    if (!h.status().ok()) return {};
    const Json ref = ReadJson(Fixture("tiny-qwen3_5-moe") + "/reference.json");
    const std::vector<int32_t> prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
    return h.Chunk(prompt, 0, static_cast<int64_t>(prompt.size()), true);
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
                             "GatedDelta on CUDA is not implemented", "prefix reuse off", "sigmoid output gate",
                             "partial rotary 4 of 16", "(1 + w) RMSNorms"})
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

TEST_F(HybridCheckpoints, ConditionalGenerationAndFusedExpertsGiveTheSameLogits) {
  const std::vector<float> want = Logits(Fixture("tiny-qwen3_5-moe"));
  ASSERT_FALSE(want.empty());
  // Qwen3_5MoeForConditionalGeneration: text_config (with mrope fields), the text model
  // under model.language_model., a vision tower and an mtp head beside it.
  const std::string mm = Rewrite(
      "tiny-qwen3_5-moe",
      [](Tensors& t) {
        Tensors out;
        for (auto& [name, w] : t) {
          std::string n = name.rfind("model.", 0) == 0 ? "model.language_model." + name.substr(6) : name;
          w.name = n;
          out[n] = std::move(w);
        }
        for (const char* extra : {"model.visual.blocks.0.attn.qkv.weight", "mtp.fc.weight"})
          out[extra] = {extra, DType::kF32, Shape{2, 2}, std::vector<uint8_t>(16, 0)};
        t = std::move(out);
      },
      [](Json& c) {
        Json text = c;
        text.erase("architectures");
        text["rope_parameters"]["mrope_section"] = {2, 1, 1};
        text["rope_parameters"]["mrope_interleaved"] = true;
        c = Json{{"architectures", {"Qwen3_5MoeForConditionalGeneration"}},
                 {"model_type", "qwen3_5_moe"},
                 {"text_config", text},
                 {"vision_config", {{"depth", 1}}},
                 {"tie_word_embeddings", false}};
      });
  // transformers 5's fused experts: gate_up_proj [E, 2I, hidden], down_proj [E, hidden, I].
  const std::string fused = Rewrite(
      "tiny-qwen3_5-moe",
      [](Tensors& t) {
        for (int l = 0; l < 6; ++l) {
          const std::string p = "model.layers." + std::to_string(l) + ".mlp.experts.";
          TensorToWrite gu{p + "gate_up_proj", DType::kBF16, Shape{8, 64, 64}, {}};
          TensorToWrite d{p + "down_proj", DType::kBF16, Shape{8, 64, 32}, {}};
          for (int e = 0; e < 8; ++e) {
            const std::string x = p + std::to_string(e) + ".";
            for (const char* proj : {"gate_proj", "up_proj"}) {
              const auto& b = t.at(x + proj + ".weight").bytes;
              gu.bytes.insert(gu.bytes.end(), b.begin(), b.end());
              t.erase(x + proj + ".weight");
            }
            const auto& b = t.at(x + "down_proj.weight").bytes;
            d.bytes.insert(d.bytes.end(), b.begin(), b.end());
            t.erase(x + "down_proj.weight");
          }
          t[gu.name] = std::move(gu);
          t[d.name] = std::move(d);
        }
      },
      [](Json&) {});
  for (const std::string& dir : {mm, fused}) {
    const std::vector<float> got = Logits(dir);
    ASSERT_EQ(got.size(), want.size()) << dir;
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << dir;
  }
  auto check = Model::Check(mm);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  std::string skipped;
  for (const std::string& s : check->skipped) skipped += s + "; ";
  EXPECT_NE(skipped.find("model.visual"), std::string::npos) << skipped;
  EXPECT_NE(skipped.find("mtp.fc"), std::string::npos) << skipped;
}

// mlx-community's pre-sanitised layout: conv1d.weight [C, K, 1], the zero-centred norms
// stored with their + 1 (here in f32, so the sums are exactly the loader's), the
// experts stacked as switch_mlp: the same logits bit for bit as the raw checkpoint.
TEST_F(HybridCheckpoints, MlxLayoutGivesTheSameLogits) {
  const std::vector<float> want = Logits(Fixture("tiny-qwen3_5-moe"));
  ASSERT_FALSE(want.empty());
  const auto ends_with = [](const std::string& s, const std::string& x) {
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  const std::string mlx = Rewrite(
      "tiny-qwen3_5-moe",
      [&](Tensors& t) {
        for (auto& [name, w] : t) {
          if (ends_with(name, "conv1d.weight")) w.shape = Shape{w.shape[0], w.shape[2], 1};
          const bool shifted = !ends_with(name, "linear_attn.norm.weight") &&
                               (ends_with(name, "layernorm.weight") || ends_with(name, "model.norm.weight") ||
                                ends_with(name, "q_norm.weight") || ends_with(name, "k_norm.weight"));
          if (!shifted) continue;
          ASSERT_EQ(w.dtype, DType::kBF16) << name;
          std::vector<uint8_t> f32(w.bytes.size() * 2);
          for (size_t i = 0; i < w.bytes.size() / 2; ++i) {
            uint16_t b;
            std::memcpy(&b, w.bytes.data() + 2 * i, 2);
            const float v = Bf16ToF32(b) + 1.0f;
            std::memcpy(f32.data() + 4 * i, &v, 4);
          }
          w.dtype = DType::kF32;
          w.bytes = std::move(f32);
        }
        for (int l = 0; l < 6; ++l) {
          const std::string p = "model.layers." + std::to_string(l) + ".mlp.";
          for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
            const bool down = std::string(proj) == "down_proj";
            TensorToWrite s{
                p + "switch_mlp." + proj + ".weight", DType::kBF16, down ? Shape{8, 64, 32} : Shape{8, 32, 64}, {}};
            for (int e = 0; e < 8; ++e) {
              const std::string n = p + "experts." + std::to_string(e) + "." + proj + ".weight";
              s.bytes.insert(s.bytes.end(), t.at(n).bytes.begin(), t.at(n).bytes.end());
              t.erase(n);
            }
            t[s.name] = std::move(s);
          }
        }
      },
      [](Json&) {});
  const std::vector<float> got = Logits(mlx);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0);
  auto check = Model::Check(mlx);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->skipped.empty());
}

// Our quantize command's output of a hybrid (8-bit affine: in_proj, out_proj, q_proj's
// halves, experts, the shared expert's gate; conv1d and norms kept float) loads, maps
// every tensor and runs: the logits of the first positions stay within the distance
// transformers' own bf16 forward lands from float64 on this fixture (0.34 of the row's
// scale, reference.json: these random hybrids amplify rounding; measured 0.08 to 0.15).
TEST_F(HybridCheckpoints, QuantizedCheckpointLoadsAndRuns) {
  QuantizeOptions q;
  q.in_dir = Fixture("tiny-qwen3_5");
  q.out_dir = (root_ / "q8").string();
  q.bits = 8;
  q.group_size = 32;
  ASSERT_TRUE(QuantizeCheckpoint(q).ok());
  auto check = Model::Check(q.out_dir);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->skipped.empty());
  EXPECT_EQ(check->weights, "affine 8-bit g32");
  ModelHarness h(q.out_dir);
  ASSERT_TRUE(h.status().ok()) << h.status().ToString();
  const Json ref = ReadJson(Fixture("tiny-qwen3_5") + "/reference.json");
  const std::vector<int32_t> prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
  const std::vector<float> logits = h.Chunk(prompt, 0, 4, /*all_logits=*/true);
  ASSERT_TRUE(h.last_status().ok()) << h.last_status().ToString();
  for (int t = 0; t < 4; ++t) {
    const double err = RowRelativeError(logits.data() + t * h.vocab(), ref["logits"][t].get<std::vector<double>>());
    EXPECT_LT(err, ref["transformers_bf16_row_error"].get<double>()) << "position " << t;
  }
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
  // Qwen3_5MoeTextConfig has no intermediate_size (no dense MLP): not required there.
  j.erase("intermediate_size");
  auto no_dense = ParseModelConfig(j.dump(), "m/config.json");
  ASSERT_TRUE(no_dense.ok()) << no_dense.status().ToString();
  Json dense = ReadJson(Fixture("tiny-qwen3_5") + "/config.json");
  dense.erase("intermediate_size");
  auto missing = ParseModelConfig(dense.dump(), "m/config.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'intermediate_size'"), std::string::npos);
  // A non-hybrid family does not take linear_attention layers.
  Json q = Json{{"architectures", {"Qwen3ForCausalLM"}},
                {"hidden_size", 64},
                {"intermediate_size", 128},
                {"num_hidden_layers", 2},
                {"num_attention_heads", 4},
                {"vocab_size", 256},
                {"layer_types", {"linear_attention", "full_attention"}}};
  auto bad = ParseModelConfig(q.dump(), "m/config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'layer_types'"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace ax::testing
