// safetensors: the shared checkpoint, writer round trips, shards, every error rule.
#include "model/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "model/json_util.h"
#include "model_test_util.h"

namespace ax {
namespace {

using test::ExpectError;
using test::SafetensorsImage;
using test::TempDir;

TensorToWrite MakeTensor(const std::string& name, DType dt, Shape shape, float base) {
  TensorToWrite t{name, dt, shape, {}};
  const int64_t n = shape.numel();
  t.bytes.resize(static_cast<size_t>(n) * DTypeSize(dt));
  for (int64_t i = 0; i < n; ++i) {
    const float v = base + 0.25f * static_cast<float>(i);
    switch (dt) {
      case DType::kF32: std::memcpy(&t.bytes[i * 4], &v, 4); break;
      case DType::kF16: { uint16_t h = F32ToF16(v); std::memcpy(&t.bytes[i * 2], &h, 2); break; }
      case DType::kBF16: { uint16_t h = F32ToBf16(v); std::memcpy(&t.bytes[i * 2], &h, 2); break; }
      case DType::kI32:
      case DType::kU32: { int32_t x = static_cast<int32_t>(i); std::memcpy(&t.bytes[i * 4], &x, 4); break; }
      case DType::kAffine: break;  // not a stored dtype
    }
  }
  return t;
}

TEST(Safetensors, Stories260K) {
  const std::string dir = std::string(AX_SHARED_DIR) + "/models/stories260K";
  if (!std::filesystem::exists(dir + "/model.safetensors")) GTEST_SKIP() << dir << " missing";
  auto store = WeightStore::OpenDir(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->tensors().size(), 2u + 5u * 9u);
  EXPECT_EQ(store->Find("lm_head.weight"), nullptr);  // tied
  EXPECT_EQ(store->total_bytes(), 1040128u);
  EXPECT_EQ(store->metadata().at("format"), "pt");
  ASSERT_EQ(store->files().size(), 1u);
  for (int l = 0; l < 5; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const auto& [n, s] : std::vector<std::pair<std::string, Shape>>{
             {"self_attn.q_proj.weight", {64, 64}}, {"self_attn.k_proj.weight", {32, 64}},
             {"self_attn.v_proj.weight", {32, 64}}, {"self_attn.o_proj.weight", {64, 64}},
             {"mlp.gate_proj.weight", {172, 64}},   {"mlp.up_proj.weight", {172, 64}},
             {"mlp.down_proj.weight", {64, 172}},   {"input_layernorm.weight", {64}},
             {"post_attention_layernorm.weight", {64}}}) {
      auto t = store->Get(p + n, s);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      EXPECT_EQ((*t)->dtype, DType::kF32);
      EXPECT_EQ(reinterpret_cast<uintptr_t>((*t)->data) % 4, 0u);
    }
  }
  auto embed = store->Get("model.embed_tokens.weight", {512, 64});
  ASSERT_TRUE(embed.ok());
  EXPECT_EQ((*embed)->view().numel(), 512 * 64);
  ExpectError(store->Get("model.layers.3.mlp.up_proj.weight", {64, 172}).status(), StatusCode::kInvalidArgument,
              {"model.layers.3.mlp.up_proj.weight: shape [172, 64], expected [64, 172]", "model.safetensors"});
  ExpectError(store->Get("lm_head.weight", {512, 64}).status(), StatusCode::kNotFound, {"lm_head.weight", dir});
}

TEST(Safetensors, RoundTripEveryDType) {
  TempDir dir;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    std::vector<TensorToWrite> ts = {MakeTensor("b.weight", dt, {3, 5}, 1.0f), MakeTensor("a.norm", dt, {7}, -2.0f),
                                     MakeTensor("c.scalar", dt, Shape{}, 0.5f), MakeTensor("d.empty", dt, {0, 4}, 0)};
    const std::string path = dir / (std::string(DTypeName(dt)) + ".safetensors");
    ASSERT_TRUE(WriteSafetensors(path, ts, {{"format", "pt"}}).ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    const std::string raw = test::ReadFile(path);
    uint64_t n = 0;
    std::memcpy(&n, raw.data(), 8);
    EXPECT_EQ(n % 8, 0u);
    auto store = WeightStore::OpenFile(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_EQ(store->tensors().size(), ts.size());
    EXPECT_EQ(store->metadata().at("format"), "pt");
    for (const TensorToWrite& t : ts) {
      const TensorEntry* e = store->Find(t.name);
      ASSERT_NE(e, nullptr) << t.name;
      EXPECT_EQ(e->dtype, dt);
      EXPECT_EQ(e->shape, t.shape);
      EXPECT_EQ(e->file, path);
      ASSERT_EQ(e->nbytes, t.bytes.size());
      if (e->nbytes) {
        EXPECT_EQ(std::memcmp(e->data, t.bytes.data(), e->nbytes), 0) << t.name;
      }
    }
  }
}

TEST(Safetensors, MixedDTypesStayAligned) {
  TempDir dir;
  std::vector<TensorToWrite> ts = {MakeTensor("a", DType::kBF16, {3}, 0), MakeTensor("b", DType::kF32, {5}, 0),
                                   MakeTensor("c", DType::kF16, {1}, 0), MakeTensor("d", DType::kI32, {2}, 0)};
  ASSERT_TRUE(WriteSafetensors(dir / "m.safetensors", ts).ok());
  auto store = WeightStore::OpenFile(dir / "m.safetensors");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (const auto& [name, e] : store->tensors()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e.data) % DTypeSize(e.dtype), 0u) << name;
  }
  ExpectError(store->Get("d", {2}).status(), StatusCode::kInvalidArgument, {"d: dtype I32"});
}

TEST(Safetensors, WriterRejectsBadInput) {
  TempDir dir;
  auto t = MakeTensor("x", DType::kF32, {4}, 0);
  t.bytes.pop_back();
  ExpectError(WriteSafetensors(dir / "a.safetensors", {t}), StatusCode::kInvalidArgument,
              {"tensor 'x'", "15 bytes given, expected 16 for F32 [4]"});
  auto u = MakeTensor("x", DType::kF32, {4}, 0);
  ExpectError(WriteSafetensors(dir / "a.safetensors", {u, u}), StatusCode::kInvalidArgument, {"'x'", "twice"});
  ExpectError(WriteSafetensors(dir / "a.safetensors", {MakeTensor("__metadata__", DType::kF32, {1}, 0)}),
              StatusCode::kInvalidArgument, {"__metadata__"});
  EXPECT_FALSE(std::filesystem::exists(dir / "a.safetensors"));
}

// Writes shards a/b and an index; returns the index text.
void WriteShardedModel(const TempDir& dir) {
  ASSERT_TRUE(WriteSafetensors(dir / "model-00001-of-00002.safetensors",
                               {MakeTensor("model.embed_tokens.weight", DType::kBF16, {8, 4}, 0),
                                MakeTensor("model.norm.weight", DType::kBF16, {4}, 1)}).ok());
  ASSERT_TRUE(WriteSafetensors(dir / "model-00002-of-00002.safetensors",
                               {MakeTensor("lm_head.weight", DType::kBF16, {8, 4}, 2)}).ok());
  test::WriteFile(dir / "model.safetensors.index.json", R"({"metadata": {"total_size": 136}, "weight_map": {
      "lm_head.weight": "model-00002-of-00002.safetensors",
      "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
      "model.norm.weight": "model-00001-of-00002.safetensors"}})");
}

TEST(Safetensors, ShardedDirectory) {
  TempDir dir;
  WriteShardedModel(dir);
  auto store = WeightStore::OpenDir(dir.str());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->tensors().size(), 3u);
  EXPECT_EQ(store->files().size(), 2u);
  EXPECT_EQ(store->total_bytes(), 136u);
  EXPECT_EQ(store->Find("lm_head.weight")->file, dir / "model-00002-of-00002.safetensors");
  ExpectError(store->Get("missing", {1}).status(), StatusCode::kNotFound, {"missing", "2 shards"});
}

TEST(Safetensors, ShardErrors) {
  {
    TempDir dir;
    WriteShardedModel(dir);
    std::filesystem::remove(dir / "model-00002-of-00002.safetensors");
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kNotFound,
                {dir / "model-00002-of-00002.safetensors", "model.safetensors.index.json", "lm_head.weight"});
  }
  {
    TempDir dir;
    WriteShardedModel(dir);
    ASSERT_TRUE(WriteSafetensors(dir / "model-00002-of-00002.safetensors",
                                 {MakeTensor("other", DType::kBF16, {8, 4}, 2)}).ok());
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kDataLoss,
                {"tensor 'lm_head.weight'", "model-00002-of-00002.safetensors", "does not contain it"});
  }
  {
    TempDir dir;
    WriteShardedModel(dir);
    ASSERT_TRUE(WriteSafetensors(dir / "model-00002-of-00002.safetensors",
                                 {MakeTensor("lm_head.weight", DType::kBF16, {8, 4}, 2),
                                  MakeTensor("model.norm.weight", DType::kBF16, {4}, 1)}).ok());
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kDataLoss, {"model.norm.weight", "also appears"});
  }
  {
    TempDir dir;
    WriteShardedModel(dir);
    test::WriteFile(dir / "model.safetensors.index.json", R"({"weight_map": {"x": "../etc/passwd"}})");
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kDataLoss, {"'x'", "../etc/passwd"});
    test::WriteFile(dir / "model.safetensors.index.json", R"({"weight_map": []})");
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kDataLoss, {"weight_map"});
    test::WriteFile(dir / "model.safetensors.index.json", R"({"weight_map": {"x": 3}})");
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kDataLoss, {"'x'", "file name"});
    test::WriteFile(dir / "model.safetensors.index.json", "{");
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kInvalidArgument,
                {"model.safetensors.index.json", "line 1"});
  }
  {
    TempDir dir;
    ExpectError(WeightStore::OpenDir(dir.str()).status(), StatusCode::kNotFound, {dir.str(), "model.safetensors"});
    ExpectError(WeightStore::OpenDir(dir / "nope").status(), StatusCode::kNotFound, {dir / "nope"});
    ExpectError(WeightStore::OpenFile(dir / "nope.safetensors").status(), StatusCode::kNotFound,
                {dir / "nope.safetensors"});
  }
}

// One file per case: the raw image and the error expected.
struct BadFile {
  std::string header;
  std::string data;
  StatusCode code;
  std::vector<std::string> parts;
};

TEST(Safetensors, HeaderValidation) {
  TempDir dir;
  const std::string f = dir / "model.safetensors";
  const std::string d16(16, '\0');
  const std::vector<BadFile> cases = {
      {R"({"model.norm.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}})", d16,
       StatusCode::kDataLoss,
       {f + ": tensor 'model.norm.weight': data_offsets [0, 12] hold 12 bytes, expected 16 for F32 [4]"}},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", d16,
       StatusCode::kDataLoss, {f, "tensors 'a' and 'b' overlap"}},
      {R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", d16, StatusCode::kDataLoss,
       {"tensor 'a'", "[8, 24]", "past the data region (16 bytes)"}},
      {R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", d16, StatusCode::kDataLoss,
       {"tensor 'a'", "end before"}},
      {R"({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}})", d16, StatusCode::kUnimplemented,
       {f, "tensor 'a'", "F64"}},
      {R"({"a": {"dtype": "F8_E4M3", "shape": [16], "data_offsets": [0, 16]}})", d16, StatusCode::kUnimplemented,
       {"tensor 'a'", "F8_E4M3"}},
      {R"({"a": {"dtype": "Q4", "shape": [16], "data_offsets": [0, 16]}})", d16, StatusCode::kDataLoss,
       {"tensor 'a'", "unknown dtype 'Q4'"}},
      {R"({"a": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}})", d16, StatusCode::kDataLoss,
       {"tensor 'a'", "'shape'"}},
      {R"({"a": {"dtype": "F32", "shape": [1,1,1,1,4], "data_offsets": [0, 16]}})", d16, StatusCode::kUnimplemented,
       {"tensor 'a'", "5 dimensions"}},
      {R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 16]}})", d16,
       StatusCode::kDataLoss, {"tensor 'a'", "overflows"}},
      {R"({"a": {"dtype": "F32", "shape": [4]}})", d16, StatusCode::kDataLoss, {"tensor 'a'", "'data_offsets'", "missing"}},
      {R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0]}})", d16, StatusCode::kDataLoss,
       {"tensor 'a'", "'data_offsets'"}},
      {R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16.0]}})", d16, StatusCode::kDataLoss,
       {"tensor 'a'", "'data_offsets'"}},
      {R"({"a": {"shape": [4], "data_offsets": [0, 16]}})", d16, StatusCode::kDataLoss, {"tensor 'a'", "'dtype'"}},
      {R"({"a": 5})", d16, StatusCode::kDataLoss, {"tensor 'a'", "object"}},
      {R"({"__metadata__": [1]})", d16, StatusCode::kDataLoss, {"__metadata__"}},
      {R"({"__metadata__": {"format": 1}})", d16, StatusCode::kDataLoss, {"__metadata__", "'format'"}},
      {R"([1, 2])", d16, StatusCode::kDataLoss, {f, "object"}},
      {R"({"a": )", d16, StatusCode::kDataLoss, {f, "invalid JSON", "column"}},
      {"{\"a\xff\": 1}", d16, StatusCode::kDataLoss, {f, "invalid JSON"}},
      {"", d16, StatusCode::kDataLoss, {f, "invalid JSON"}},
      {std::string(100, '['), d16, StatusCode::kDataLoss, {f, "nesting"}},
  };
  for (const BadFile& c : cases) {
    test::WriteFile(f, SafetensorsImage(c.header, c.data));
    SCOPED_TRACE(c.header);
    ExpectError(WeightStore::OpenFile(f).status(), c.code, c.parts);
  }
  // Padding spaces after the JSON and __metadata__ are fine; zero-byte tensors overlap nothing.
  test::WriteFile(f, SafetensorsImage(R"({"__metadata__": {"format": "pt"}, "e": {"dtype": "F32", "shape": [0],
      "data_offsets": [4, 4]}, "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}   )", d16));
  auto ok = WeightStore::OpenFile(f);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->tensors().size(), 2u);
}

TEST(Safetensors, LengthFieldValidation) {
  TempDir dir;
  const std::string f = dir / "model.safetensors";
  test::WriteFile(f, "abc");
  ExpectError(WeightStore::OpenFile(f).status(), StatusCode::kDataLoss, {f, "3 bytes", "8-byte"});
  test::WriteFile(f, "");
  ExpectError(WeightStore::OpenFile(f).status(), StatusCode::kDataLoss, {f, "0 bytes"});
  test::WriteFile(f, SafetensorsImage("{}", std::string(90, ' '), 999999));
  ExpectError(WeightStore::OpenFile(f).status(), StatusCode::kDataLoss, {f + ": header length 999999 exceeds file size 100"});
  test::WriteFile(f, SafetensorsImage("{}", "", ~0ull));
  ExpectError(WeightStore::OpenFile(f).status(), StatusCode::kDataLoss, {"header length 18446744073709551615"});
  // A header over 100 MB in a (sparse) file large enough to hold it.
  test::WriteFile(f, SafetensorsImage("{}", "", 150'000'000));
  std::filesystem::resize_file(f, 200'000'000);
  ExpectError(WeightStore::OpenFile(f).status(), StatusCode::kDataLoss, {"150000000", "limit"});
  std::filesystem::remove(f);
  std::filesystem::create_directory(f);
  ExpectError(WeightStore::OpenFile(f).status(), StatusCode::kInvalidArgument, {f, "regular file"});
}

TEST(Safetensors, PlanMatchesWriter) {
  auto layout = PlanSafetensors({{"w", DType::kBF16, {2, 3}}, {"n", DType::kF32, {3}}}, {{"format", "pt"}});
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->prefix.size() % 8, 0u);
  EXPECT_EQ(layout->offsets[1], layout->prefix.size());  // F32 first (larger dtype)
  EXPECT_EQ(layout->offsets[0], layout->prefix.size() + 12);
  EXPECT_EQ(layout->file_size, layout->prefix.size() + 24);
  ExpectError(PlanSafetensors({{"w", DType::kF32, {2, -1}}}).status(), StatusCode::kInvalidArgument, {"'w'", "negative"});
}

}  // namespace
}  // namespace ax
