// n-gram speculation end to end: lossless under greedy decoding (identical tokens to
// direct decoding, alone and batched), real acceptance on text that repeats, and the
// telemetry the benchmark and server report.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core_harness.h"

namespace ax::testing {
namespace {

std::string Demo() { return std::string(AX_SOURCE_DIR) + "/models/ax-demo-qwen3"; }
std::string Stories() { return std::string(AX_SHARED_DIR) + "/models/stories260K"; }

// A prompt that asks the model to continue a block it has seen: the table predicts well.
const char* kRepeat =
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
    "def add(a, b):\n";

std::vector<Output> RunPolicy(const std::string& dir, DecodePolicy policy, const std::vector<std::string>& prompts,
                        int64_t max_tokens, double temperature = 0, bool draft_guard = true) {
  CoreOptions o;
  o.policy = policy;
  o.draft_guard = draft_guard;
  o.ctx_size = 512;
  CoreHarness h(dir, o);
  std::vector<std::shared_ptr<StreamImpl>> streams;
  for (size_t i = 0; i < prompts.size(); ++i)
    streams.push_back(h.Submit(h.Request(prompts[i], max_tokens, temperature, 7 + i)));
  h.RunUntilIdle();
  std::vector<Output> outs;
  for (auto& s : streams) outs.push_back(CoreHarness::Collect(*s));
  return outs;
}

TEST(SpecEngine, GreedyNgramEqualsDirectOnTheDemoModel) {
  const std::vector<std::string> prompts = {kRepeat, "The json module provides", "And the king said unto",
                                            "import os\nimport sys\n\n\ndef main():\n"};
  const auto direct = RunPolicy(Demo(), DecodePolicy::kDirect, prompts, 64);
  const auto ngram = RunPolicy(Demo(), DecodePolicy::kNgram, prompts, 64);
  int64_t proposed = 0, accepted = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(ngram[i].tokens, direct[i].tokens) << "prompt " << i;
    EXPECT_EQ(ngram[i].text, direct[i].text) << "prompt " << i;
    EXPECT_EQ(direct[i].metrics.draft_tokens_proposed, 0);
    EXPECT_EQ(ngram[i].metrics.policy, "ngram");
    proposed += ngram[i].metrics.draft_tokens_proposed;
    accepted += ngram[i].metrics.draft_tokens_accepted;
  }
  EXPECT_LE(accepted, proposed);
  // Alone, the repeated block is predicted: drafts are proposed and most are accepted,
  // so fewer forwards than tokens. (Batched with three others on this CPU a drafted
  // step costs more than its extra tokens, and the DraftGuard may keep the batch plain.)
  // What is asserted is acceptance, so the guard, which decides from wall-clock time,
  // is off: on a loaded machine its measurements may suspend drafting.
  const auto alone = RunPolicy(Demo(), DecodePolicy::kNgram, {kRepeat}, 64, 0, /*draft_guard=*/false);
  EXPECT_EQ(alone[0].tokens, direct[0].tokens);
  EXPECT_GT(alone[0].metrics.draft_tokens_accepted, 16);
  EXPECT_GT(alone[0].metrics.tokens_per_forward(), 1.5);
}

// Token budgets smaller than a drafted row set plus the other requests' prompt chunks,
// on token ids of a fixture in f32, one request repeating its opening: a chunked prompt
// can leave its last row alone for a step, which is a prompt row, not a decode row to
// draft from. The tokens stay those of direct decoding.
TEST(SpecEngine, GreedyNgramEqualsDirectUnderSmallTokenBudgetsOnIds) {
  const std::string dir = std::string(AX_FIXTURES_DIR) + "/models/tiny-qwen3";
  std::ifstream in(dir + "/reference.json");
  const auto prompt = nlohmann::json::parse(in)["prompt_ids"].get<std::vector<int32_t>>();
  std::vector<int32_t> repeated;
  for (int r = 0; r < 4; ++r) repeated.insert(repeated.end(), prompt.begin(), prompt.begin() + 10);
  auto greedy = [](std::vector<int32_t> ids) {
    CoreRequest r;
    r.prompt = std::move(ids);
    r.max_tokens = 24;
    r.ignore_eos = true;
    return r;
  };
  const std::vector<CoreRequest> reqs = {greedy(prompt), greedy({prompt.begin() + 5, prompt.end()}), greedy(repeated)};
  int64_t proposed = 0;
  for (int64_t budget : {6, 7, 9}) {
    std::vector<std::vector<int32_t>> got[2];
    for (DecodePolicy policy : {DecodePolicy::kDirect, DecodePolicy::kNgram}) {
      CoreOptions o;
      o.precision = Precision::kF32;
      o.policy = policy;
      o.draft_guard = false;
      o.max_batch_tokens = budget;
      CoreHarness h(dir, o);
      for (const Output& out : h.RunTogether(reqs)) got[policy == DecodePolicy::kNgram].push_back(out.tokens);
      if (policy == DecodePolicy::kNgram) proposed += h.core().Stats().draft_tokens_proposed;
    }
    EXPECT_EQ(got[1], got[0]) << "budget " << budget;
  }
  EXPECT_GT(proposed, 0);
}

TEST(SpecEngine, GreedyNgramEqualsDirectOnStories260K) {
  if (!std::filesystem::exists(Stories() + "/config.json")) GTEST_SKIP();
  const std::vector<std::string> prompts = {"Once upon a time", "Lily and Timmy went to the park",
                                            "The little dog was happy", "One day, a big red ball"};
  const auto direct = RunPolicy(Stories(), DecodePolicy::kDirect, prompts, 64);
  const auto ngram = RunPolicy(Stories(), DecodePolicy::kNgram, prompts, 64);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(ngram[i].tokens, direct[i].tokens) << "prompt " << i;
}

// Verification is coupled to the direct draw, so seeded sampling gives the same
// tokens with drafting on or off, and on every run.
TEST(SpecEngine, SeededSamplingIsReproducibleAndPolicyIndependent) {
  const std::vector<std::string> prompts = {kRepeat, "And the king said unto"};
  const auto a = RunPolicy(Demo(), DecodePolicy::kNgram, prompts, 48, 0.7);
  const auto b = RunPolicy(Demo(), DecodePolicy::kNgram, prompts, 48, 0.7);
  const auto direct = RunPolicy(Demo(), DecodePolicy::kDirect, prompts, 48, 0.7);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << i;
    EXPECT_EQ(a[i].tokens, direct[i].tokens) << i;
    EXPECT_EQ(a[i].tokens.size(), 48u);
  }
  EXPECT_GT(a[0].metrics.draft_tokens_accepted, 0);
}

TEST(SpecEngine, GateClosesWhenTheTableKeepsMissing) {
  // stories260K's scrambled weights write noise: the table's guesses mostly miss, so
  // the acceptance estimate falls below the threshold and drafting stops.
  if (!std::filesystem::exists(Stories() + "/config.json")) GTEST_SKIP();
  const auto out = RunPolicy(Stories(), DecodePolicy::kNgram, {"Lily and Timmy went to the park"}, 200);
  const RequestMetrics& m = out[0].metrics;
  EXPECT_LT(m.draft_tokens_proposed, 200);
  if (m.draft_tokens_proposed > 0) {
    EXPECT_LE(m.acceptance_rate(), 1.0);
  }
  EXPECT_LE(m.draft_tokens_accepted, m.draft_tokens_proposed);
}

}  // namespace
}  // namespace ax::testing
