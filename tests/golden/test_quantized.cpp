// MLX affine-quantized checkpoints made by QuantizeCheckpoint (the quantize command)
// from the tiny fixtures and a synthetic Gemma 3, against the same checkpoint
// dequantized to f32 by this test (codes read bit by bit, independently of
// tensor/quant.h): logits within 1e-4 of the row's scale at every position (whole
// prompt, chunks, one token at a time), 24 greedy ids equal. Plus the load errors a
// damaged quantized checkpoint gives.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/quantize.h"
#include "model/safetensors.h"
#include "model/synth.h"
#include "model_harness.h"

namespace ax::testing {
namespace {
namespace fs = std::filesystem;

float SideValue(const TensorEntry& e, int64_t i) {
  float v = 0;
  ConvertToF32(e.dtype, static_cast<const char*>(e.data) + i * DTypeSize(e.dtype), &v, 1);
  return v;
}

// Writes `out` = `in` with every quantized module replaced by its f32 dequantization
// and config.json without the quantization section.
void Dequantize(const std::string& in, const std::string& out) {
  fs::create_directories(out);
  WeightStore store = WeightStore::OpenDir(in).value();
  nlohmann::json config = ReadJson(in + "/config.json");
  const int default_bits = config["quantization"]["bits"], group_default = config["quantization"]["group_size"];
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, e] : store.tensors()) {
    if (name.ends_with(".scales") || name.ends_with(".biases")) continue;
    const std::string module = name.ends_with(".weight") ? name.substr(0, name.size() - 7) : name;
    const TensorEntry* scales = store.Find(module + ".scales");
    if (scales == nullptr) {
      const auto* p = static_cast<const uint8_t*>(e.data);
      tensors.push_back({name, e.dtype, e.shape, std::vector<uint8_t>(p, p + e.nbytes)});
      continue;
    }
    const TensorEntry& biases = *store.Find(module + ".biases");
    int bits = default_bits, group = group_default;
    if (config["quantization"].contains(module)) {
      bits = config["quantization"][module]["bits"];
      group = config["quantization"][module]["group_size"];
    }
    const int64_t packed_cols = e.shape[e.shape.ndim - 1], cols = packed_cols * 32 / bits;
    const int64_t rows = e.shape.numel() / packed_cols, groups = cols / group;
    Shape shape = e.shape;
    shape.dims[shape.ndim - 1] = cols;
    std::vector<float> w(static_cast<size_t>(rows * cols));
    const auto* bytes = static_cast<const uint8_t*>(e.data);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < cols; ++j) {
        uint32_t code = 0;
        for (int b = 0; b < bits; ++b) {
          const int64_t bit = r * packed_cols * 32 + j * bits + b;
          code |= ((bytes[bit / 8] >> (bit % 8)) & 1u) << b;
        }
        const int64_t g = r * groups + j / group;
        w[r * cols + j] = std::fma(SideValue(*scales, g), static_cast<float>(code), SideValue(biases, g));
      }
    }
    std::vector<uint8_t> raw(w.size() * 4);
    std::memcpy(raw.data(), w.data(), raw.size());
    tensors.push_back({name, DType::kF32, shape, std::move(raw)});
  }
  ASSERT_TRUE(WriteSafetensors(out + "/model.safetensors", tensors).ok());
  config.erase("quantization");
  config.erase("quantization_config");
  std::ofstream(out + "/config.json") << config.dump(2);
}

struct Case {
  std::string name;     // test name
  std::string fixture;  // tests/fixtures/models/<fixture>, or "synth:<shape>"
  int bits, group;
  std::string keep;
};

class QuantizedTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    root_ = fs::temp_directory_path() / ("ax_quantized_" + c.name + "_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    std::string source = std::string(AX_FIXTURES_DIR) + "/models/" + c.fixture;
    if (c.fixture.starts_with("synth:")) {
      source = (root_ / "float").string();
      SynthOptions s;
      s.shape = c.fixture.substr(6);
      s.out_dir = source;
      s.dtype = DType::kBF16;
      ASSERT_TRUE(WriteSynthModel(s).ok());
    }
    QuantizeOptions q;
    q.in_dir = source;
    q.out_dir = quantized();
    q.bits = c.bits;
    q.group_size = c.group;
    q.rules = ParseQuantizeRules(c.keep).value();
    const Status s = QuantizeCheckpoint(q);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Dequantize(quantized(), dequantized());
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string quantized() const { return (root_ / "q").string(); }
  std::string dequantized() const { return (root_ / "d").string(); }

  // Logits of the dequantized model for every position of `prompt`, as doubles.
  std::vector<std::vector<double>> Reference(const std::vector<int32_t>& prompt) {
    ModelHarness ref(dequantized());
    EXPECT_TRUE(ref.status().ok()) << ref.status().ToString();
    const std::vector<float> l = ref.Chunk(prompt, 0, static_cast<int64_t>(prompt.size()), true);
    std::vector<std::vector<double>> rows;
    for (size_t t = 0; t < prompt.size(); ++t)
      rows.emplace_back(l.begin() + t * ref.vocab(), l.begin() + (t + 1) * ref.vocab());
    return rows;
  }

  fs::path root_;
};

const std::vector<int32_t> kPrompt = {1, 17, 42, 99, 3, 250, 7, 7, 128, 64, 5, 31};

TEST_P(QuantizedTest, LogitsMatchTheDequantizedModel) {
  const auto want = Reference(kPrompt);
  const int64_t n = static_cast<int64_t>(kPrompt.size());
  for (int64_t chunk : {n, int64_t{1}, int64_t{5}}) {
    ModelHarness h(quantized());
    ASSERT_TRUE(h.status().ok()) << h.status().ToString();
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t end = std::min(n, begin + chunk);
      const std::vector<float> got = h.Chunk(kPrompt, begin, end, true);
      ASSERT_TRUE(h.last_status().ok()) << h.last_status().ToString();
      for (int64_t t = begin; t < end; ++t)
        EXPECT_LT(RowRelativeError(got.data() + (t - begin) * h.vocab(), want[t]), 1e-4)
            << "chunk " << chunk << " position " << t;
    }
  }
}

TEST_P(QuantizedTest, GreedyIdsMatchTheDequantizedModel) {
  std::vector<std::vector<int32_t>> ids;
  for (const std::string& dir : {quantized(), dequantized()}) {
    ModelHarness h(dir);
    ASSERT_TRUE(h.status().ok()) << h.status().ToString();
    std::vector<int32_t> seq = kPrompt, got;
    std::vector<float> logits = h.Chunk(seq, 0, static_cast<int64_t>(seq.size()), false);
    for (int i = 0; i < 24; ++i) {
      got.push_back(Argmax(logits.data(), h.vocab()));
      seq.push_back(got.back());
      logits = h.Chunk(seq, static_cast<int64_t>(seq.size()) - 1, static_cast<int64_t>(seq.size()), false);
    }
    ids.push_back(got);
  }
  EXPECT_EQ(ids[0], ids[1]);
}

INSTANTIATE_TEST_SUITE_P(
    Affine, QuantizedTest,
    ::testing::Values(Case{"qwen3_4bit_g32", "tiny-qwen3", 4, 32, ""},
                      Case{"qwen3_bf16_3bit_g64_mixed", "tiny-qwen3-bf16", 3, 64, "v_proj=6,down_proj=8,lm_head=float"},
                      Case{"llama_8bit_g64", "tiny-llama", 8, 64, ""},  // down_proj (160 wide) stays float
                      Case{"llama_f16_5bit_g32", "tiny-llama-f16", 5, 32, "layers\\.0\\.=2"},
                      Case{"gemma3_6bit_g32", "synth:tiny-gemma3", 6, 32, ""},
                      // stacked experts (experts.gate_up_proj [E, 2I, H], no ".weight")
                      Case{"gemma4_moe_4bit_g32", "tiny-gemma4-moe", 4, 32, ""},
                      Case{"gemma4_ple_5bit_g32", "tiny-gemma4-ple", 5, 32, ""},
                      // one tensor per expert, the router at 8 bits (as mlx-lm keeps it)
                      Case{"qwen3_moe_4bit_g32", "synth:tiny-qwen3-moe", 4, 32, "mlp\\.gate$=8"}),
    [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// Damaged checkpoints fail at load, naming the tensor and what was expected.
class QuantizedErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ax_quantized_errors_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    QuantizeOptions q;
    q.in_dir = std::string(AX_FIXTURES_DIR) + "/models/tiny-qwen3";
    q.out_dir = (root_ / "q").string();
    ASSERT_TRUE(QuantizeCheckpoint(q).ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  // The load error after `edit` rewrote the quantized tensors.
  std::string LoadErrorAfter(const std::function<void(std::vector<TensorToWrite>&)>& edit) {
    const std::string dir = (root_ / "q").string();
    std::vector<TensorToWrite> tensors;
    {
      WeightStore store = WeightStore::OpenDir(dir).value();
      for (const auto& [name, e] : store.tensors()) {
        const auto* p = static_cast<const uint8_t*>(e.data);
        tensors.push_back({name, e.dtype, e.shape, std::vector<uint8_t>(p, p + e.nbytes)});
      }
    }
    edit(tensors);
    EXPECT_TRUE(WriteSafetensors(dir + "/model.safetensors", tensors).ok());
    ModelHarness h(dir);
    return h.status().ok() ? "" : h.status().message();
  }
  fs::path root_;
};

TEST_F(QuantizedErrors, MisShapedScalesNameTheTensorAndShape) {
  const std::string name = "model.layers.1.self_attn.o_proj.scales";
  const std::string err = LoadErrorAfter([&](std::vector<TensorToWrite>& ts) {
    for (TensorToWrite& t : ts)
      if (t.name == name) {
        t.shape = Shape{t.shape[0] / 2, t.shape[1] * 2};
      }
  });
  EXPECT_NE(err.find(name), std::string::npos) << err;
  EXPECT_NE(err.find("expected [64, 2]"), std::string::npos) << err;
}

TEST_F(QuantizedErrors, MissingBiasesNameTheTensor) {
  const std::string name = "model.layers.0.mlp.up_proj.biases";
  const std::string err = LoadErrorAfter([&](std::vector<TensorToWrite>& ts) {
    std::erase_if(ts, [&](const TensorToWrite& t) { return t.name == name; });
  });
  EXPECT_NE(err.find(name), std::string::npos) << err;
  EXPECT_NE(err.find("not found"), std::string::npos) << err;
}

TEST_F(QuantizedErrors, CodesOfTheWrongWidthNameTheTensor) {
  const std::string name = "model.layers.0.self_attn.q_proj.weight";
  const std::string err = LoadErrorAfter([&](std::vector<TensorToWrite>& ts) {
    for (TensorToWrite& t : ts)
      if (t.name == name) {  // 8-bit-wide rows under a 4-bit config
        t.shape = Shape{t.shape[0] / 2, t.shape[1] * 2};
      }
  });
  EXPECT_NE(err.find(name), std::string::npos) << err;
  EXPECT_NE(err.find("expected [128, 8]"), std::string::npos) << err;
}

}  // namespace
}  // namespace ax::testing
