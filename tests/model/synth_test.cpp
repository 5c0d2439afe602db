// Synth models: shape table, HF tensor names, reload, determinism, shards, tokenizer copy.
#include "model/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/timer.h"
#include "model/json_util.h"
#include "model/model.h"
#include "model_test_util.h"

namespace ax {
namespace {

using test::ExpectError;
using test::TempDir;

TEST(Synth, ShapeTable) {
  const std::vector<std::pair<std::string, int64_t>> expected = {{"llama-1b", 1235814400},
                                                                 {"llama-8b", 8030261248},
                                                                 {"qwen3-0.6b", 596049920},
                                                                 {"qwen3-1.7b", 1720574976},
                                                                 {"qwen3-4b", 4022468096},
                                                                 {"qwen3-8b", 8190735360},
                                                                 {"qwen3-30b-a3b", 30532122624},
                                                                 {"tiny-llama", 119104},
                                                                 {"tiny-qwen3", 115136},
                                                                 {"tiny-qwen3-moe", 256192},
                                                                 {"qwen3.5-9b", 8953803264},
                                                                 {"qwen3.6-35b-a3b", 34660610688},
                                                                 {"qwen3-next-80b-a3b", 79674391296},
                                                                 {"tiny-qwen3-next", 642832},
                                                                 // ~31B and ~106B, as published
                                                                 {"glm-4.7-flash", 29943393920},
                                                                 {"glm-4.5-air", 106852251264},
                                                                 {"tiny-glm4-moe-lite", 296248},
                                                                 {"tiny-glm4-moe", 275160}};
  const auto names = SynthShapeNames();
  for (const auto& [name, params] : expected) {
    ASSERT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    auto c = SynthShapeConfig(name);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(ValidateModelConfig(*c, name).ok());
    EXPECT_EQ(ParameterCount(*c), params) << name;
    int64_t from_specs = 0;
    for (const TensorSpec& t : ModelTensorSpecs(*c, DType::kBF16)) from_specs += t.shape.numel();
    EXPECT_EQ(from_specs, params) << name;
  }
  auto q8 = SynthShapeConfig("qwen3-8b");
  EXPECT_EQ(q8->hidden_size, 4096);
  EXPECT_EQ(q8->intermediate_size, 12288);
  EXPECT_EQ(q8->num_hidden_layers, 36);
  EXPECT_FALSE(q8->tie_word_embeddings);
  auto l1 = SynthShapeConfig("llama-1b");
  EXPECT_EQ(l1->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(l1->rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(l1->rope_theta, 500000.0);
  EXPECT_TRUE(l1->tie_word_embeddings);
  EXPECT_EQ(l1->bos_token_id, 128000);
  auto moe = SynthShapeConfig("qwen3-30b-a3b");  // Qwen/Qwen3-30B-A3B's config.json
  EXPECT_EQ(moe->family, ModelFamily::kQwen3Moe);
  EXPECT_EQ(moe->num_experts, 128);
  EXPECT_EQ(moe->top_k_experts, 8);
  EXPECT_EQ(moe->moe_intermediate_size, 768);
  EXPECT_TRUE(moe->norm_topk_prob);
  EXPECT_EQ(moe->head_dim, 128);
  EXPECT_EQ(moe->num_key_value_heads, 4);
  ExpectError(SynthShapeConfig("gpt2").status(), StatusCode::kInvalidArgument, {"gpt2", "qwen3-0.6b", "tiny-llama"});
}

// ModelTensorSpecs must name and shape tensors exactly as transformers saved them.
TEST(Synth, TensorSpecsMatchHuggingFaceCheckpoints) {
  std::vector<std::string> dirs = {std::string(AX_SHARED_DIR) + "/models/stories260K"};
  for (const char* m :
       {"tiny-llama", "tiny-llama-f16", "tiny-qwen3", "tiny-qwen3-bf16", "tiny-qwen3-moe", "tiny-qwen3-moe-sparse",
        "tiny-qwen3-next", "tiny-qwen3_5", "tiny-qwen3_5-moe", "tiny-gemma3", "tiny-gemma4", "tiny-gemma4-ple",
        "tiny-gemma4-kv", "tiny-gemma4-shared", "tiny-gemma4-wide", "tiny-gemma4-moe"})
    dirs.push_back(std::string(AX_FIXTURES_DIR) + "/models/" + m);
  int checked = 0;
  for (const std::string& dir : dirs) {
    if (!std::filesystem::exists(dir + "/config.json")) continue;
    auto c = LoadModelConfig(dir);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto store = WeightStore::OpenDir(dir);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const auto specs = ModelTensorSpecs(*c, c->torch_dtype);
    EXPECT_EQ(specs.size(), store->tensors().size()) << dir;
    for (const TensorSpec& t : specs) {
      auto e = store->Get(t.name, t.shape);
      EXPECT_TRUE(e.ok()) << dir << ": " << e.status().ToString();
      if (e.ok()) {
        EXPECT_EQ((*e)->dtype, t.dtype) << t.name;
      }
    }
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no reference checkpoints found";
}

struct Stats {
  double mean = 0, std = 0;
};
Stats StatsOf(const TensorEntry& t) {
  std::vector<float> v(static_cast<size_t>(t.shape.numel()));
  ConvertToF32(t.dtype, t.data, v.data(), v.size());
  double s = 0, s2 = 0;
  for (float x : v) {
    s += x;
    s2 += static_cast<double>(x) * x;
  }
  const double m = s / static_cast<double>(v.size());
  return {m, std::sqrt(std::max(0.0, s2 / static_cast<double>(v.size()) - m * m))};
}

TEST(Synth, TinyShapesWriteAndReload) {
  for (const char* shape : {"tiny-llama", "tiny-qwen3", "tiny-gemma3", "tiny-qwen3-moe"}) {
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
      SCOPED_TRACE(std::string(shape) + " " + DTypeName(dt));
      TempDir dir;
      SynthOptions o;
      o.shape = shape;
      o.dtype = dt;
      o.seed = 7;
      o.out_dir = dir / "m";
      SynthReport report;
      ASSERT_TRUE(WriteSynthModel(o, &report).ok());
      auto want = SynthShapeConfig(shape, dt);
      auto c = LoadModelConfig(o.out_dir);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      EXPECT_EQ(ModelConfigToJson(*c), ModelConfigToJson(*want));
      auto g = LoadGenerationConfig(o.out_dir);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      EXPECT_EQ(g->eos_token_ids, c->eos_token_ids);
      auto store = WeightStore::OpenDir(o.out_dir);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      EXPECT_EQ(store->metadata().at("format"), "pt");
      EXPECT_EQ(report.shards, 1);
      EXPECT_EQ(report.parameters, ParameterCount(*c));
      EXPECT_EQ(report.bytes, store->total_bytes());
      const auto specs = ModelTensorSpecs(*c, dt);
      ASSERT_EQ(store->tensors().size(), specs.size());
      for (const TensorSpec& t : specs) {
        auto e = store->Get(t.name, t.shape);
        ASSERT_TRUE(e.ok()) << e.status().ToString();
        const Stats st = StatsOf(**e);
        if (t.shape.ndim == 1) {
          EXPECT_NEAR(st.mean, 1.0, 0.05) << t.name;
          EXPECT_NEAR(st.std, 0.1, 0.04) << t.name;
        } else {
          const bool embed = t.name == "model.embed_tokens.weight" || t.name == "lm_head.weight";
          const double want_std = embed ? 2.0 / std::sqrt(64.0) : 1.0 / std::sqrt(static_cast<double>(t.shape[1]));
          EXPECT_NEAR(st.mean, 0.0, 0.1 * want_std) << t.name;
          EXPECT_NEAR(st.std, want_std, 0.1 * want_std) << t.name;
        }
      }
      EXPECT_EQ(store->Find("lm_head.weight") == nullptr, c->tie_word_embeddings);
      EXPECT_EQ(store->Find("model.layers.1.self_attn.q_norm.weight") != nullptr, c->family != ModelFamily::kLlama);
    }
  }
}

// A hybrid shape: written, read back to the same config, every tensor where the loader
// looks (Model::Load on the CPU backend), and a forward over it gives finite logits.
TEST(Synth, TinyHybridWritesLoadsAndRuns) {
  TempDir dir;
  SynthOptions o;
  o.shape = "tiny-qwen3-next";
  o.dtype = DType::kBF16;
  o.out_dir = dir / "m";
  SynthReport report;
  ASSERT_TRUE(WriteSynthModel(o, &report).ok());
  auto c = LoadModelConfig(o.out_dir);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(ModelConfigToJson(*c), ModelConfigToJson(*SynthShapeConfig("tiny-qwen3-next", DType::kBF16)));
  EXPECT_EQ(report.parameters, ParameterCount(*c));
  BackendOptions bo;
  bo.threads = 2;
  auto be = std::move(CreateBackend("cpu", bo).value());
  auto model = Model::Load(o.out_dir, *be);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  KvCache kv = (*model)->AllocateKvCache(16, 4).value();
  ForwardBatch fb;
  const std::vector<int32_t> ids = {1, 17, 42, 99, 3, 250, 7};
  fb.AddSequence(ids.data(), static_cast<int64_t>(ids.size()), 0, std::vector<int32_t>{0, 1}, 4, true, true, true);
  std::vector<float> logits(ids.size() * 256);
  ASSERT_TRUE((*model)->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());
  for (float x : logits) ASSERT_TRUE(std::isfinite(x));
  auto check = Model::Check(o.out_dir);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->skipped.empty());
}

std::string WriteBytes(const TempDir& dir, const std::string& sub, uint64_t seed, int threads, int64_t piece) {
  SynthOptions o;
  o.shape = "tiny-qwen3";
  o.seed = seed;
  o.out_dir = dir / sub;
  o.num_threads = threads;
  o.piece_elems = piece;
  EXPECT_TRUE(WriteSynthModel(o).ok());
  return test::ReadFile(o.out_dir + "/model.safetensors");
}

TEST(Synth, DeterministicAcrossThreadsAndPieces) {
  TempDir dir;
  const std::string a = WriteBytes(dir, "a", 3, 1, 1 << 20);
  const std::string b = WriteBytes(dir, "b", 3, 4, 1000);  // odd piece boundaries, 4 threads
  const std::string c = WriteBytes(dir, "c", 3, 3, 7);
  const std::string d = WriteBytes(dir, "d", 4, 2, 1 << 20);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_NE(a, d);
  EXPECT_EQ(a.size(), d.size());
  EXPECT_EQ(test::ReadFile(dir / "a/config.json"), test::ReadFile(dir / "d/config.json"));
}

TEST(Synth, ShardsLikeSavePretrained) {
  TempDir dir;
  SynthOptions o;
  o.shape = "tiny-llama";
  o.dtype = DType::kF32;
  o.out_dir = dir / "sharded";
  o.max_shard_bytes = 100'000;
  SynthReport report;
  ASSERT_TRUE(WriteSynthModel(o, &report).ok());
  EXPECT_GT(report.shards, 2);
  EXPECT_FALSE(std::filesystem::exists(o.out_dir + "/model.safetensors"));
  auto index = ReadJsonFile(o.out_dir + "/model.safetensors.index.json");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ((*index)["metadata"]["total_size"].get<uint64_t>(), report.bytes);
  EXPECT_EQ((*index)["weight_map"]["lm_head.weight"].get<std::string>(),
            "model-0000" + std::to_string(report.shards) + "-of-0000" + std::to_string(report.shards) + ".safetensors");
  auto sharded = WeightStore::OpenDir(o.out_dir);
  ASSERT_TRUE(sharded.ok()) << sharded.status().ToString();
  EXPECT_EQ(static_cast<int>(sharded->files().size()), report.shards);

  SynthOptions single = o;
  single.out_dir = dir / "single";
  single.max_shard_bytes = 4'000'000'000;
  ASSERT_TRUE(WriteSynthModel(single).ok());
  auto one = WeightStore::OpenDir(single.out_dir);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->tensors().size(), sharded->tensors().size());
  for (const auto& [name, t] : one->tensors()) {
    const TensorEntry* s = sharded->Find(name);
    ASSERT_NE(s, nullptr) << name;
    ASSERT_EQ(s->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(s->data, t.data, t.nbytes), 0) << name;
  }

  // Rewriting unsharded into the sharded dir removes the stale shards and index.
  single.out_dir = o.out_dir;
  ASSERT_TRUE(WriteSynthModel(single).ok());
  std::set<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(o.out_dir)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"config.json", "generation_config.json", "model.safetensors"}));
}

TEST(Synth, CopiesTokenizer) {
  const std::string tok = std::string(AX_SHARED_DIR) + "/models/stories260K";
  if (!std::filesystem::exists(tok + "/tokenizer.json")) GTEST_SKIP() << tok << " missing";
  TempDir dir;
  SynthOptions o;
  o.shape = "tiny-llama";
  o.out_dir = dir / "m";
  o.tokenizer_dir = tok;
  ASSERT_TRUE(WriteSynthModel(o).ok());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    EXPECT_EQ(test::ReadFile(o.out_dir + "/" + f), test::ReadFile(tok + "/" + f)) << f;
  }
  o.tokenizer_dir = dir / "empty";
  std::filesystem::create_directories(o.tokenizer_dir);
  ExpectError(WriteSynthModel(o), StatusCode::kNotFound, {o.tokenizer_dir, "tokenizer.json"});
  o.tokenizer_dir = dir / "missing";
  ExpectError(WriteSynthModel(o), StatusCode::kNotFound, {o.tokenizer_dir});
}

TEST(Synth, Errors) {
  TempDir dir;
  SynthOptions o;
  o.shape = "llama-70b";
  o.out_dir = dir / "m";
  ExpectError(WriteSynthModel(o), StatusCode::kInvalidArgument, {"llama-70b", "llama-8b"});
  o.shape = "tiny-llama";
  o.dtype = DType::kI32;
  ExpectError(WriteSynthModel(o), StatusCode::kInvalidArgument, {"I32"});
  o.dtype = DType::kBF16;
  o.out_dir = "";
  ExpectError(WriteSynthModel(o), StatusCode::kInvalidArgument, {"directory"});
}

// The smallest published shape, written for real: 1.19 GB of bf16 (a few seconds).
TEST(Synth, Qwen3_0_6bWritesAndLoads) {
  TempDir dir;
  SynthOptions o;
  o.shape = "qwen3-0.6b";
  o.out_dir = dir / "m";
  SynthReport report;
  ASSERT_TRUE(WriteSynthModel(o, &report).ok());
  EXPECT_EQ(report.parameters, 596049920);
  EXPECT_EQ(report.bytes, 596049920ull * 2);
  EXPECT_EQ(report.shards, 1);
  auto store = WeightStore::OpenDir(o.out_dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->total_bytes(), report.bytes);
  auto c = LoadModelConfig(o.out_dir);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->eos_token_ids, std::vector<int32_t>{151645});
  EXPECT_EQ(c->bos_token_id, 151643);
  auto q = store->Get("model.layers.27.self_attn.q_proj.weight", {2048, 1024});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_NEAR(StatsOf(**q).std, 1.0 / 32.0, 0.01 / 32.0);
  std::printf("qwen3-0.6b synth: %.2f s, %.2f GB\n", report.seconds, static_cast<double>(report.bytes) / 1e9);
}

}  // namespace
}  // namespace ax
