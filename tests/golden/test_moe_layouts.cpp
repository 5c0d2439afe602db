// Qwen3-MoE checkpoint layouts: the experts stored one tensor per expert (Hugging
// Face), as transformers 5's fused 3-D gate_up_proj / down_proj, or as MLX's stacked
// switch_mlp all load to the same fused weights, so the logits agree bit for bit (also
// MLX-quantized); a checkpoint that disagrees with its config.json fails at load
// naming the tensor. The checkpoints are a synth tiny-qwen3-moe rewritten in place.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include "golden/model_harness.h"
#include "model/json_util.h"
#include "model/quantize.h"
#include "model/safetensors.h"
#include "model/synth.h"

namespace ax::testing {
namespace {

namespace fs = std::filesystem;
using Tensors = std::map<std::string, TensorToWrite>;

TensorToWrite Copy(const TensorEntry& e) {
  const auto* p = static_cast<const uint8_t*>(e.data);
  return {e.name, e.dtype, e.shape, std::vector<uint8_t>(p, p + e.nbytes)};
}

// The tensors `names` stacked along a new first dimension under `name`.
TensorToWrite Stack(Tensors& t, const std::string& name, const std::vector<std::string>& names) {
  TensorToWrite out{name, t.at(names[0]).dtype, {}, {}};
  int64_t rows = 0;
  for (const std::string& n : names) {
    const TensorToWrite& part = t.at(n);
    rows += part.shape[0];
    out.bytes.insert(out.bytes.end(), part.bytes.begin(), part.bytes.end());
    t.erase(n);
  }
  return out;
}

class Qwen3MoeLayouts : public ::testing::Test {
 protected:
  static constexpr int64_t kExperts = 8, kInter = 32, kHidden = 64;

  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ax_moe_layouts_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    SynthOptions o;
    o.shape = "tiny-qwen3-moe";
    o.dtype = DType::kF32;
    o.seed = 5;
    o.out_dir = Dir("hf");
    ASSERT_TRUE(WriteSynthModel(o).ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Dir(const std::string& name) const { return (root_ / name).string(); }

  // Dir(to) = Dir(from) with its tensors passed through `edit` and its config.json
  // through `config`.
  void Rewrite(const std::string& from, const std::string& to, const std::function<void(Tensors&)>& edit,
               const std::function<void(Json&)>& config = nullptr) {
    fs::create_directories(Dir(to));
    auto store = WeightStore::OpenDir(Dir(from));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Tensors t;
    for (const auto& [name, e] : store->tensors()) t[name] = Copy(e);
    if (edit) edit(t);
    std::vector<TensorToWrite> all;
    for (auto& [name, w] : t) all.push_back(std::move(w));
    ASSERT_TRUE(WriteSafetensors(Dir(to) + "/model.safetensors", all, {{"format", "pt"}}).ok());
    Json c = Json::parse(ReadFileToString(Dir(from) + "/config.json").value());
    if (config) config(c);
    ASSERT_TRUE(WriteStringToFile(Dir(to) + "/config.json", c.dump(2)).ok());
  }

  // Dir(to) = Dir(from) with its config.json passed through `config`.
  void Reconfigure(const std::string& from, const std::string& to, const std::function<void(Json&)>& config) {
    Rewrite(from, to, nullptr, config);
  }

  // The sparse layers of tiny-qwen3-moe (layer 1 is dense: mlp_only_layers).
  static std::vector<std::string> SparsePrefixes() {
    return {"model.layers.0.mlp.", "model.layers.2.mlp.", "model.layers.3.mlp."};
  }
  static std::string Expert(const std::string& p, int64_t e, const char* proj) {
    return p + "experts." + std::to_string(e) + "." + proj + ".weight";
  }

  // transformers 5: gate_up_proj [E, 2I, hidden] (each expert's gate rows, then up
  // rows), down_proj [E, hidden, I].
  static void ToFused(Tensors& t) {
    for (const std::string& p : SparsePrefixes()) {
      std::vector<std::string> gate_up, down;
      for (int64_t e = 0; e < kExperts; ++e) {
        gate_up.push_back(Expert(p, e, "gate_proj"));
        gate_up.push_back(Expert(p, e, "up_proj"));
        down.push_back(Expert(p, e, "down_proj"));
      }
      TensorToWrite gu = Stack(t, p + "experts.gate_up_proj", gate_up);
      gu.shape = Shape{kExperts, 2 * kInter, kHidden};
      TensorToWrite d = Stack(t, p + "experts.down_proj", down);
      d.shape = Shape{kExperts, kHidden, kInter};
      t[gu.name] = std::move(gu);
      t[d.name] = std::move(d);
    }
  }

  // MLX: switch_mlp.{gate,up,down}_proj.weight, each [E, rows, cols].
  static void ToSwitchMlp(Tensors& t) {
    for (const std::string& p : SparsePrefixes()) {
      for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
        std::vector<std::string> names;
        for (int64_t e = 0; e < kExperts; ++e) names.push_back(Expert(p, e, proj));
        const bool down = std::strcmp(proj, "down_proj") == 0;
        TensorToWrite s = Stack(t, p + "switch_mlp." + proj + ".weight", names);
        s.shape = down ? Shape{kExperts, kHidden, kInter} : Shape{kExperts, kInter, kHidden};
        t[s.name] = std::move(s);
      }
    }
  }

  static std::vector<float> Logits(const std::string& dir) {
    ModelHarness h(dir);
    EXPECT_TRUE(h.status().ok()) << dir << ": " << h.status().ToString();
    if (!h.status().ok()) return {};
    const std::vector<int32_t> prompt = {1, 17, 42, 99, 3, 250, 7, 7, 128, 64, 5, 31};
    return h.Chunk(prompt, 0, static_cast<int64_t>(prompt.size()), true);
  }

  static Status LoadStatus(const std::string& dir) { return ModelHarness(dir).status(); }

  fs::path root_;
};

TEST_F(Qwen3MoeLayouts, EveryLayoutGivesTheSameLogits) {
  Rewrite("hf", "fused", ToFused);
  Rewrite("hf", "mlx", ToSwitchMlp);
  const std::vector<float> want = Logits(Dir("hf"));
  ASSERT_FALSE(want.empty());
  for (const char* layout : {"fused", "mlx"}) {
    const std::vector<float> got = Logits(Dir(layout));
    ASSERT_EQ(got.size(), want.size()) << layout;
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << layout;
  }
}

// Quantization groups run along a row, so the per-expert and the stacked layout
// quantize to the same codes: the MLX switch_mlp checkpoint (fused at load from
// slices of its stacks) gives the per-expert checkpoint's logits.
TEST_F(Qwen3MoeLayouts, QuantizedSwitchMlpGivesTheSameLogits) {
  Rewrite("hf", "mlx", ToSwitchMlp);
  for (const char* layout : {"hf", "mlx"}) {
    QuantizeOptions q;
    q.in_dir = Dir(layout);
    q.out_dir = Dir(std::string(layout) + "-q4");
    q.bits = 4;
    q.group_size = 32;
    const Status s = QuantizeCheckpoint(q);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto store = WeightStore::OpenDir(Dir("mlx-q4"));
  ASSERT_TRUE(store.ok());
  ASSERT_NE(store->Find("model.layers.2.mlp.switch_mlp.up_proj.scales"), nullptr);
  const std::vector<float> want = Logits(Dir("hf-q4"));
  const std::vector<float> got = Logits(Dir("mlx-q4"));
  ASSERT_FALSE(want.empty());
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0);
}

// An independent check of the sparse block: a Qwen3 whose MLPs become two identical
// experts, both routed with softmax weights (summing to 1 over the two), computes the
// dense model's function; the router's logits only move the weights between equal
// experts. Differences are the kernels' summation orders.
TEST_F(Qwen3MoeLayouts, IdenticalExpertsGiveTheDenseModel) {
  SynthOptions o;
  o.shape = "tiny-qwen3";
  o.dtype = DType::kF32;
  o.seed = 9;
  o.out_dir = Dir("dense");
  ASSERT_TRUE(WriteSynthModel(o).ok());
  const auto to_moe = [](Tensors& t) {
    for (const std::string p : {"model.layers.0.mlp.", "model.layers.1.mlp."}) {
      for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
        TensorToWrite w = t.at(p + proj + ".weight");
        t.erase(p + proj + ".weight");
        for (int e = 0; e < 2; ++e) {
          w.name = Expert(p, e, proj);
          t[w.name] = w;
        }
      }
      TensorToWrite router{p + "gate.weight", DType::kF32, Shape{2, kHidden}, {}};
      for (int64_t i = 0; i < 2 * kHidden; ++i) {
        const float v = 0.05f * static_cast<float>((i * 7919) % 23 - 11);
        const auto* b = reinterpret_cast<const uint8_t*>(&v);
        router.bytes.insert(router.bytes.end(), b, b + sizeof(v));
      }
      t[router.name] = router;
    }
  };
  Rewrite("dense", "moe", to_moe, [](Json& c) {
    c["architectures"] = {"Qwen3MoeForCausalLM"};
    c["model_type"] = "qwen3_moe";
    c["num_experts"] = 2;
    c["num_experts_per_tok"] = 2;
    c["moe_intermediate_size"] = c["intermediate_size"];
  });
  const std::vector<float> dense = Logits(Dir("dense")), moe = Logits(Dir("moe"));
  ASSERT_FALSE(dense.empty());
  ASSERT_EQ(moe.size(), dense.size());
  const int64_t vocab = 256;
  for (size_t r = 0; r < dense.size() / vocab; ++r) {
    const std::vector<double> want(dense.begin() + r * vocab, dense.begin() + (r + 1) * vocab);
    EXPECT_LT(RowRelativeError(moe.data() + r * vocab, want), 1e-5) << "row " << r;
  }
}

// doctor (Model::Check): every tensor of each layout is mapped, and the features name
// the sparse layers.
TEST_F(Qwen3MoeLayouts, DoctorMapsEveryTensorAndNamesTheFeatures) {
  Rewrite("hf", "fused", ToFused);
  Rewrite("hf", "mlx", ToSwitchMlp);
  for (const char* layout : {"hf", "fused", "mlx"}) {
    auto check = Model::Check(Dir(layout));
    ASSERT_TRUE(check.ok()) << layout << ": " << check.status().ToString();
    EXPECT_TRUE(check->skipped.empty()) << layout << ": " << check->skipped[0];
    std::string features;
    for (const std::string& f : check->features) features += f + "; ";
    for (const char* want : {"per-head q/k RMSNorm", "sparse MoE on 3 of 4 layers: top 2 of 8 experts of 32",
                             "renormalised (norm_topk_prob)", "dense MLP of 128 on layer 1 (decoder_sparse_step 1"})
      EXPECT_NE(features.find(want), std::string::npos) << layout << ": " << features;
  }
}

TEST_F(Qwen3MoeLayouts, ACheckpointThatDisagreesWithItsConfigIsNamed) {
  const auto expect = [&](const std::string& dir, const std::vector<std::string>& parts) {
    const Status s = LoadStatus(Dir(dir));
    EXPECT_FALSE(s.ok()) << dir;
    for (const std::string& p : parts) EXPECT_NE(s.message().find(p), std::string::npos) << dir << ": " << s.message();
  };
  // A router on a layer config.json makes dense.
  Reconfigure("hf", "dense0", [](Json& c) { c["mlp_only_layers"] = {0, 1}; });
  expect("dense0", {"model.layers.0.mlp.gate.weight", "layer 0", "mlp_only_layers"});
  // An expert missing.
  Rewrite("hf", "missing", [](Tensors& t) { t.erase(Expert("model.layers.2.mlp.", 5, "up_proj")); });
  expect("missing", {"model.layers.2.mlp.experts.5.up_proj.weight"});
  // No experts in any layout.
  Rewrite("hf", "none", [](Tensors& t) {
    for (int64_t e = 0; e < kExperts; ++e)
      for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) t.erase(Expert("model.layers.3.mlp.", e, proj));
  });
  expect("none", {"model.layers.3.mlp.experts.0.gate_proj.weight", "switch_mlp", "layer 3"});
  // Fewer experts in config.json than the router has.
  Reconfigure("hf", "experts4", [](Json& c) { c["num_experts"] = 4; });
  expect("experts4", {"model.layers.0.mlp.gate.weight", "[8, 64]", "[4, 64]"});
  // A fused checkpoint whose experts are not moe_intermediate_size wide.
  Rewrite("hf", "fused", ToFused);
  Reconfigure("fused", "narrow", [](Json& c) { c["moe_intermediate_size"] = 16; });
  expect("narrow", {"model.layers.0.mlp.experts.gate_up_proj", "[8, 64, 64]", "[8, 32, 64]"});
  // Experts quantized but their down projections kept float: one block, two formats.
  QuantizeOptions q;
  q.in_dir = Dir("hf");
  q.out_dir = Dir("down-float");
  q.group_size = 32;
  q.rules = ParseQuantizeRules("down_proj=float").value();
  ASSERT_TRUE(QuantizeCheckpoint(q).ok());
  expect("down-float", {"model.layers.0.mlp.experts", "AFFINE", "F32"});
}

}  // namespace
}  // namespace ax::testing
