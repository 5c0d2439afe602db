// Synth shapes of the Gemma family at their published sizes: configs that our loader
// reads back unchanged, parameter counts that agree with the tensors written, and a
// scaled-down copy of each shape (same layer count, layer types, sharing, K=V, MoE and
// per-layer inputs; small widths) written, checked as doctor checks it, and run.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/registry.h"
#include "model/model.h"
#include "model/synth.h"
#include "model_test_util.h"

namespace ax {
namespace {

using test::TempDir;

int64_t FullLayers(const ModelConfig& c) {
  int64_t n = 0;
  for (AttentionType t : c.layer_types) n += t == AttentionType::kFull;
  return n;
}

// The published numbers (synth.cpp's comments name their sources).
TEST(SynthGemma, PublishedShapes) {
  struct Want {
    const char* name;
    int64_t layers, full, kv, full_kv, full_head_dim, shared, per_layer, experts, window, params;
  };
  // Text-model parameters: 26B-A4B and 31B are the published 25.2B and 30.7B; E2B and
  // E4B are their published 5.1B and 8B less the vision and audio encoders.
  for (const Want& w : {Want{"gemma-4-e2b", 35, 7, 1, 1, 512, 20, 256, 0, 512, 4628569379},
                        Want{"gemma-4-e4b", 42, 7, 2, 2, 512, 18, 256, 0, 512, 7463013418},
                        Want{"gemma-4-26b-a4b", 30, 5, 8, 2, 512, 0, 0, 128, 1024, 25233141790},
                        Want{"gemma-4-31b", 60, 10, 16, 4, 512, 0, 0, 0, 1024, 30697345340},
                        Want{"gemma-3-4b", 34, 5, 4, 4, 256, 0, 0, 0, 1024, 0}}) {
    SCOPED_TRACE(w.name);
    auto c = SynthShapeConfig(w.name);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(ValidateModelConfig(*c, w.name).ok());
    EXPECT_EQ(c->num_hidden_layers, w.layers);
    EXPECT_EQ(FullLayers(*c), w.full);
    EXPECT_EQ(c->num_key_value_heads, w.kv);
    EXPECT_EQ(c->sliding_window, w.window);
    EXPECT_EQ(c->num_kv_shared_layers, w.shared);
    EXPECT_EQ(c->hidden_size_per_layer_input, w.per_layer);
    EXPECT_EQ(c->num_experts, w.experts);
    if (c->family == ModelFamily::kGemma4) {
      EXPECT_EQ(c->layer_types.back(), AttentionType::kFull);  // transformers forces it
      const LayerAttentionShape& full = c->layer_shapes.back();
      EXPECT_EQ(full.num_key_value_heads, w.full_kv);
      EXPECT_EQ(full.head_dim, w.full_head_dim);
      EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kProportional);
      EXPECT_DOUBLE_EQ(c->final_logit_softcapping, 30.0);
      EXPECT_EQ(c->vocab_size, 262144);
    }
    // config.json as written is what the loader reads back, field for field.
    const std::string json = ModelConfigToJson(*c);
    auto back = ParseModelConfig(json, w.name);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(ModelConfigToJson(*back), json);
    EXPECT_EQ(back->layer_shapes.size(), c->layer_shapes.size());
    int64_t from_specs = 0;
    for (const TensorSpec& t : ModelTensorSpecs(*c, DType::kBF16)) from_specs += t.shape.numel();
    EXPECT_EQ(from_specs, ParameterCount(*c));
    if (w.params > 0) {
      EXPECT_EQ(ParameterCount(*c), w.params);
    }
  }
  auto e2b = SynthShapeConfig("gemma-4-e2b");
  EXPECT_TRUE(e2b->use_double_wide_mlp);
  EXPECT_EQ(e2b->layer_types[4], AttentionType::kFull);  // 4 sliding : 1 full
  auto moe = SynthShapeConfig("gemma-4-26b-a4b");
  EXPECT_TRUE(moe->enable_moe_block && moe->attention_k_eq_v);
  EXPECT_EQ(moe->top_k_experts, 8);
  EXPECT_EQ(moe->moe_intermediate_size, 704);
  EXPECT_EQ(moe->intermediate_size, 2112);
  EXPECT_EQ(moe->layer_types[5], AttentionType::kFull);  // 5 sliding : 1 full
}

// `c` at test widths: every structural choice kept (layers, types, sharing, K=V, MoE,
// per-layer inputs, kv-head ratios), every width small.
ModelConfig ScaledDown(ModelConfig c) {
  const auto kv_heads = [&](int64_t kv) { return std::max<int64_t>(1, kv * 4 / c.num_attention_heads); };
  for (LayerAttentionShape& s : c.layer_shapes) {
    s.num_key_value_heads = kv_heads(s.num_key_value_heads);
    s.head_dim = s.head_dim == c.head_dim ? 16 : 32;
  }
  c.num_key_value_heads = kv_heads(c.num_key_value_heads);
  c.num_attention_heads = 4;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.head_dim = 16;
  if (c.family == ModelFamily::kGemma3) c.query_pre_attn_scalar = 16;
  c.vocab_size = 256;
  c.vocab_size_per_layer_input = c.hidden_size_per_layer_input > 0 ? 256 : c.vocab_size_per_layer_input;
  if (c.hidden_size_per_layer_input > 0) c.hidden_size_per_layer_input = 8;
  if (c.num_experts > 0) {
    c.num_experts = 4;
    c.top_k_experts = 2;
    c.moe_intermediate_size = 16;
  }
  c.sliding_window = 8;
  c.max_position_embeddings = 512;
  return c;
}

TEST(SynthGemma, ScaledDownShapesWriteCheckAndRun) {
  BackendOptions bo;
  bo.threads = 2;
  auto be = std::move(CreateBackend("cpu", bo).value());
  for (const char* name : {"gemma-4-e2b", "gemma-4-e4b", "gemma-4-26b-a4b", "gemma-4-31b", "gemma-3-4b"}) {
    SCOPED_TRACE(name);
    const ModelConfig want = ScaledDown(SynthShapeConfig(name, DType::kBF16).value());
    TempDir dir;
    SynthOptions o;
    o.out_dir = dir / "m";
    SynthReport report;
    ASSERT_TRUE(WriteSynthModelFromConfig(want, o, &report).ok());
    auto c = LoadModelConfig(o.out_dir);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(ModelConfigToJson(*c), ModelConfigToJson(want));
    // What doctor reports: every tensor where the loader looks, none left over.
    auto check = Model::Check(o.out_dir);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_TRUE(check->skipped.empty());
    EXPECT_EQ(check->parameters, report.parameters);
    EXPECT_EQ(report.parameters, ParameterCount(*c));
    auto model = Model::Load(o.out_dir, *be);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    KvCache kv = (*model)->AllocateKvCache(16, 4).value();
    ForwardBatch fb;
    const std::vector<int32_t> ids = {2, 17, 42, 99, 3, 250, 7, 8, 9, 10, 11, 12};  // past the window of 8
    fb.AddSequence(ids.data(), static_cast<int64_t>(ids.size()), 0, std::vector<int32_t>{0, 1, 2, 3}, 4, true, true,
                   true);
    std::vector<float> logits(ids.size() * 256);
    ASSERT_TRUE((*model)->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());
    for (float x : logits) ASSERT_TRUE(std::isfinite(x));
  }
}

}  // namespace
}  // namespace ax
