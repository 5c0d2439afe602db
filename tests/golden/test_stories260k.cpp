// stories260K (../shared/models/stories260K) against its reference.json: a float64
// numpy forward cross-checked with llama2.c. Through the public API, so the tokenizer
// (BOS from the post-processor), the paged KV cache and greedy sampling are all on
// the path. Greedy ids are compared up to the first near-tie (margin < 1e-3), which
// f32 arithmetic may legitimately flip (see the model's README).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "ax/engine.h"
#include "model_harness.h"
#include "sampling_routes.h"

namespace ax::testing {
namespace {

std::string StoriesDir() { return std::string(AX_SHARED_DIR) + "/models/stories260K"; }

// An engine on the CPU backend over stories260K (policy "" = the engine's default), at
// --precision f32: its scrambled weights turn the bf16 KV cache's rounding into ~1% of
// the logits, which moves greedy ids off the f32 reference.
EngineConfig StoriesConfig(const std::string& policy = "") {
  EngineConfig cfg;
  cfg.model_dir = StoriesDir();
  cfg.backend = "cpu";
  cfg.threads = 2;
  cfg.precision = "f32";
  if (!policy.empty()) cfg.policy = policy;
  return cfg;
}

class Stories260K : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(StoriesDir() + "/config.json")) GTEST_SKIP() << "no " << StoriesDir();
    ref_ = ReadJson(StoriesDir() + "/reference.json");
  }
  nlohmann::json ref_;
};

TEST_F(Stories260K, GreedyContinuationsMatchReference) {
  auto engine = Engine::Create(StoriesConfig());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  for (const auto& c : ref_["cases"]) {
    GenerateRequest req;
    req.prompt_text = c["prompt"].get<std::string>();
    req.max_tokens = c["greedy_ids"].size();
    req.ignore_eos = true;
    auto r = (*engine)->Generate(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->prompt_tokens, c["prompt_ids"].get<std::vector<int32_t>>()) << c["prompt"];
    const auto want = c["greedy_ids"].get<std::vector<int32_t>>();
    const auto margins = c["step_top1_top2_margin"].get<std::vector<double>>();
    size_t checked = 0;
    while (checked < want.size() && margins[checked] >= 1e-3) ++checked;
    ASSERT_EQ(r->output_tokens.size(), want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.begin() + static_cast<ptrdiff_t>(checked), r->output_tokens.begin()))
        << c["prompt"] << ": first " << checked << " greedy ids differ";
    if (checked == want.size()) {
      EXPECT_EQ(r->output_tokens, want);
    }
    EXPECT_EQ(r->finish_reason, FinishReason::kLength);
  }
}

TEST_F(Stories260K, FirstStepLogitsMatchReference) {
  ModelHarness h(StoriesDir());
  ASSERT_TRUE(h.status().ok()) << h.status().ToString();
  for (const auto& c : ref_["cases"]) {
    const auto ids = c["prompt_ids"].get<std::vector<int32_t>>();
    std::vector<float> logits = h.Chunk(ids, 0, static_cast<int64_t>(ids.size()), false);
    ASSERT_TRUE(h.last_status().ok());
    EXPECT_LT(RowRelativeError(logits.data(), c["first_step_logits"].get<std::vector<double>>()), 1e-4)
        << c["prompt"];
  }
}

// An argmax forward gives each logit row's argmax of what Forward returns (every row of a
// prompt chunk, so ties and near-ties are met on the way).
TEST_F(Stories260K, ArgmaxOutputIsTheArgmaxOfForwardLogits) {
  ModelHarness h(StoriesDir());
  ASSERT_TRUE(h.status().ok()) << h.status().ToString();
  for (const auto& c : ref_["cases"]) {
    const auto ids = c["prompt_ids"].get<std::vector<int32_t>>();
    const int64_t n = static_cast<int64_t>(ids.size());
    const std::vector<float> logits = h.Chunk(ids, 0, n, /*all_logits=*/true);
    ASSERT_TRUE(h.last_status().ok());
    const std::vector<int32_t> got = h.ChunkArgmax(ids, 0, n, /*all_logits=*/true);
    ASSERT_TRUE(h.last_status().ok());
    ASSERT_EQ(static_cast<int64_t>(got.size()), n);
    for (int64_t r = 0; r < n; ++r) EXPECT_EQ(got[r], Argmax(logits.data() + r * h.vocab(), h.vocab())) << "row " << r;
  }
}

// A top-k forward gives each logit row's best k ids and logits of what Forward returns, in
// canonical order (logit descending, id ascending), and with masses each row's
// sum of exp((logit - max) / T) within Backend::kRowMassRelError.
TEST_F(Stories260K, TopOutputIsTheCanonicalTopOfForwardLogits) {
  ModelHarness h(StoriesDir());
  ASSERT_TRUE(h.status().ok()) << h.status().ToString();
  constexpr int kK = 64;
  const auto ids = ref_["cases"][0]["prompt_ids"].get<std::vector<int32_t>>();
  const int64_t n = static_cast<int64_t>(ids.size());
  const std::vector<float> logits = h.Chunk(ids, 0, n, /*all_logits=*/true);
  ASSERT_TRUE(h.last_status().ok());
  std::vector<int32_t> top_ids(static_cast<size_t>(n * kK), -1);
  std::vector<float> top_vals(static_cast<size_t>(n * kK));
  std::vector<float> inv_t(static_cast<size_t>(n)), mass(static_cast<size_t>(n), -1.0f);
  for (int64_t r = 0; r < n; ++r) inv_t[static_cast<size_t>(r)] = 1.0f / (0.3f + 0.1f * static_cast<float>(r % 12));
  ASSERT_TRUE(h.ChunkTop(ids, 0, n, kK, top_ids.data(), top_vals.data(), inv_t.data(), mass.data()).ok());
  for (int64_t r = 0; r < n; ++r) {
    const float* row = logits.data() + r * h.vocab();
    const double best = *std::max_element(row, row + h.vocab());
    double want = 0.0;
    for (int64_t j = 0; j < h.vocab(); ++j) want += std::exp((row[j] - best) * inv_t[static_cast<size_t>(r)]);
    EXPECT_NEAR(mass[static_cast<size_t>(r)], want, want * Backend::kRowMassRelError) << "row " << r;
    std::vector<int32_t> order(static_cast<size_t>(h.vocab()));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + kK, order.end(),
                      [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    for (int i = 0; i < kK; ++i) {
      ASSERT_EQ(top_ids[static_cast<size_t>(r * kK + i)], order[static_cast<size_t>(i)])
          << "row " << r << " rank " << i;
      EXPECT_EQ(top_vals[static_cast<size_t>(r * kK + i)], row[order[static_cast<size_t>(i)]]);
    }
  }
}

// A top-k sampled request's steps read back candidates (a top-k forward) when every request
// in the step allows it, and logits when one does not (top_k 100, above the 64
// candidates): the same seeded tokens and logprobs either way.
TEST_F(Stories260K, TopKSamplingGivesTheSameTokensFromCandidatesAsFromLogits) {
  GenerateRequest req;
  req.prompt_text = "Once upon a time";
  req.max_tokens = 40;
  req.ignore_eos = true;
  req.sampling.temperature = 0.9;
  req.sampling.top_k = 20;
  req.sampling.top_p = 0.9;
  req.sampling.seed = 77;
  req.sampling.logprobs = true;
  req.sampling.top_logprobs = 3;
  // Outlives the first: every step of the first reads logits.
  const GenerateRequest wide = testing::HostRouteNeighbour("The little dog was happy", 60);
  const EngineStats alone = testing::ExpectSameAloneAndBeside(StoriesConfig("direct"), req, wide, "top-k");
  EXPECT_EQ(alone.steps_reading_logits, 0);
}

// Top-p / min-p sampled requests (no top-k) are decided from the candidates and each
// row's mass when these suffice (SampleTopMass), and from logits otherwise: the same
// seeded tokens and logprobs as a run where a neighbour with top_k 100 makes every step
// read logits, and most steps of the first run read no logits.
TEST_F(Stories260K, TopPSamplingGivesTheSameTokensFromCandidatesAndMassAsFromLogits) {
  for (int setting = 0; setting < 2; ++setting) {
    GenerateRequest req;
    req.prompt_text = "Once upon a time";
    req.max_tokens = 40;
    req.ignore_eos = true;
    req.sampling.temperature = setting == 0 ? 0.5 : 0.8;
    req.sampling.top_p = setting == 0 ? 0.8 : 1.0;
    req.sampling.min_p = setting == 0 ? 0.0 : 0.1;
    req.sampling.seed = 78;
    req.sampling.logprobs = true;
    req.sampling.top_logprobs = 2;
    const GenerateRequest wide = testing::HostRouteNeighbour("The little dog was happy", 60);
    const std::string label = "setting " + std::to_string(setting);
    const EngineStats alone = testing::ExpectSameAloneAndBeside(StoriesConfig("direct"), req, wide, label);
    EXPECT_LT(alone.steps_reading_logits * 2, alone.steps) << label;
  }
}

// Penalised requests (greedy, top-k, top-p) take ids or candidates of logits the
// backend penalised (Backend::ApplyPenalties): the same tokens and logprobs as a run
// where a neighbour with top_k 100 (more than the candidates) makes every step read
// logits and the host apply the penalties; and most steps of the first run read none.
TEST_F(Stories260K, PenalisedSamplingOnTheBackendEqualsTheHost) {
  for (int setting = 0; setting < 3; ++setting) {
    GenerateRequest req;
    req.prompt_text = "Once upon a time";
    req.max_tokens = 40;
    req.ignore_eos = true;
    req.sampling.temperature = setting == 0 ? 0.0 : (setting == 1 ? 0.7 : 0.3);
    req.sampling.top_k = setting == 1 ? 20 : 0;
    req.sampling.top_p = setting == 2 ? 0.8 : 1.0;
    req.sampling.repetition_penalty = setting == 1 ? 1.0 : 1.3;
    req.sampling.frequency_penalty = setting == 0 ? 0.0 : 0.6;
    req.sampling.presence_penalty = setting == 2 ? 0.4 : 0.0;
    req.sampling.seed = 31;
    req.sampling.logprobs = setting != 0;
    const GenerateRequest wide = testing::HostRouteNeighbour("The little dog was happy", 60);
    const std::string label = "setting " + std::to_string(setting);
    const EngineStats alone = testing::ExpectSameAloneAndBeside(StoriesConfig("direct"), req, wide, label);
    EXPECT_LT(alone.steps_reading_logits * 2, alone.steps) << label;
  }
}

TEST_F(Stories260K, SameSeedGivesSameSampledTokens) {
  auto engine = Engine::Create(StoriesConfig());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  GenerateRequest req;
  req.prompt_text = "Once upon a time";
  req.max_tokens = 32;
  req.ignore_eos = true;
  req.sampling.temperature = 0.9;
  req.sampling.top_p = 0.95;
  req.sampling.seed = 1234;
  auto a = (*engine)->Generate(req);
  auto b = (*engine)->Generate(req);
  req.sampling.seed = 99;
  auto c = (*engine)->Generate(req);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->output_tokens, b->output_tokens);
  EXPECT_NE(a->output_tokens, c->output_tokens);
}

TEST_F(Stories260K, StreamedTextEqualsFinalText) {
  auto engine = Engine::Create(StoriesConfig());
  ASSERT_TRUE(engine.ok());
  GenerateRequest req;
  req.prompt_text = "The little dog was happy";
  req.max_tokens = 64;
  req.ignore_eos = true;
  std::string streamed;
  auto r = (*engine)->Generate(req, [&](const TokenEvent& e) { streamed += e.text_delta; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(streamed, r->text);
  auto decoded = (*engine)->Detokenize(r->output_tokens);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, r->text);
}

TEST_F(Stories260K, PromptLongerThanContextIsAClearError) {
  EngineConfig cfg = StoriesConfig();
  cfg.ctx_size = 8;
  auto engine = Engine::Create(cfg);
  ASSERT_TRUE(engine.ok());
  GenerateRequest req;
  req.prompt_tokens = std::vector<int32_t>(20, 5);
  auto r = (*engine)->Generate(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("context"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace ax::testing
