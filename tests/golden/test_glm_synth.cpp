// The GLM families on synth checkpoints (f32 weights, an f32 KV cache): the logits of
// every prompt position agree within 1e-5 of the row whether the prompt runs whole, in
// chunks of 3 or 7, or token by token through the latent (or paged) KV cache.
// (Against transformers: tests/fixtures/models/tiny-glm4-moe*, test_fixtures.cpp.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "golden/model_harness.h"
#include "model/synth.h"

namespace ax::testing {
namespace {

class GlmSynth : public ::testing::TestWithParam<const char*> {};

TEST_P(GlmSynth, PrefillModesGiveTheSameLogits) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           (std::string("ax_glm_synth_") + GetParam() + "_" + std::to_string(getpid())))
                              .string();
  SynthOptions o;
  o.shape = GetParam();
  o.dtype = DType::kF32;
  o.seed = 9;
  o.out_dir = dir;
  ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
  std::vector<int32_t> prompt;
  for (int i = 0; i < 41; ++i) prompt.push_back(static_cast<int32_t>((i * 37 + 11) % 256));
  const int64_t n = static_cast<int64_t>(prompt.size());
  ModelHarness whole(dir);
  ASSERT_TRUE(whole.status().ok()) << whole.status().ToString();
  const std::vector<float> want = whole.Chunk(prompt, 0, n, /*all_logits=*/true);
  ASSERT_TRUE(whole.last_status().ok()) << whole.last_status().ToString();
  for (int64_t chunk : {1, 3, 7}) {
    ModelHarness h(dir);
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t end = std::min(n, begin + chunk);
      const std::vector<float> got = h.Chunk(prompt, begin, end, /*all_logits=*/true);
      ASSERT_TRUE(h.last_status().ok()) << h.last_status().ToString();
      for (int64_t t = begin; t < end; ++t) {
        const std::vector<double> ref(want.begin() + t * h.vocab(), want.begin() + (t + 1) * h.vocab());
        EXPECT_LT(RowRelativeError(got.data() + (t - begin) * h.vocab(), ref), 1e-5)
            << GetParam() << " chunk " << chunk << " position " << t;
      }
    }
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GlmSynth, ::testing::Values("tiny-glm4-moe-lite", "tiny-glm4-moe"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace ax::testing
