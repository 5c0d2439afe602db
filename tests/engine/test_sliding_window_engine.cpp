// The engine's promises on a model with sliding-window layers (a synth Gemma 3: window
// 8 on 5 of 6 layers, softcapped logits; contexts run far past the window):
//  (a) n-gram speculation gives the greedy tokens of direct decoding;
//  (b) requests batched together give the tokens each gives alone (greedy and sampled);
//  (c) a prefix hit gives the outputs of a cold run, and the hit is reported;
//  (d) preemption and resume give identical outputs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core_harness.h"
#include "model/synth.h"

namespace ax::testing {
namespace {

class SlidingWindowEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::temp_directory_path() / ("ax_engine_tiny_gemma3_" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir_);
    SynthOptions o;
    o.shape = "tiny-gemma3";
    o.dtype = DType::kBF16;
    o.seed = 11;
    o.out_dir = dir_;
    ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // A prompt that repeats a 6-token phrase (so the n-gram table proposes drafts).
  static CoreRequest Ids(int variant, int64_t max_tokens, double temperature = 0) {
    CoreRequest r;
    for (int i = 0; i < 20 + variant; ++i) r.prompt.push_back(static_cast<int32_t>(3 + (i % 6) * 17 + variant));
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = temperature;
    r.sampling.top_p = temperature > 0 ? 0.9 : 1.0;
    r.sampling.seed = 5 + static_cast<uint64_t>(variant);
    return r;
  }

  static std::vector<Output> Run(CoreHarness& h, std::vector<CoreRequest> reqs) {
    std::vector<std::shared_ptr<StreamImpl>> streams;
    for (CoreRequest& r : reqs) streams.push_back(h.Submit(std::move(r)));
    h.RunUntilIdle();
    std::vector<Output> outs;
    for (auto& s : streams) outs.push_back(CoreHarness::Collect(*s));
    return outs;
  }

  static std::vector<CoreRequest> Mixed() {
    std::vector<CoreRequest> reqs;
    for (int i = 0; i < 5; ++i) reqs.push_back(Ids(i, 24 + 4 * i, i % 2 ? 0.8 : 0.0));
    return reqs;
  }

  static std::vector<Output> Alone(DecodePolicy policy) {
    CoreOptions o;
    o.max_seqs = 1;
    o.prefix_caching = false;
    o.policy = policy;
    o.draft_guard = false;  // what is asserted is what drafting does, not its speed
    CoreHarness h(dir_, o);
    std::vector<Output> outs;
    for (CoreRequest& r : Mixed()) outs.push_back(Run(h, {std::move(r)})[0]);
    return outs;
  }

  static std::string dir_;
};

std::string SlidingWindowEngine::dir_;

TEST_F(SlidingWindowEngine, NgramEqualsDirectAndBatchedEqualsAlone) {
  const auto direct = Alone(DecodePolicy::kDirect);
  const auto ngram = Alone(DecodePolicy::kNgram);
  CoreHarness h(dir_, CoreOptions{});
  const auto together = Run(h, Mixed());
  int64_t proposed = 0;
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(ngram[i].tokens, direct[i].tokens) << "request " << i;
    EXPECT_EQ(together[i].tokens, direct[i].tokens) << "request " << i;
    proposed += ngram[i].metrics.draft_tokens_proposed;
  }
  EXPECT_GT(proposed, 0);  // drafts were verified through the windowed layers
}

TEST_F(SlidingWindowEngine, PrefixHitIsExact) {
  CoreRequest a = Ids(0, 16), b = Ids(0, 16);
  for (int i = 0; i < 9; ++i) b.prompt.push_back(static_cast<int32_t>(200 + i));
  CoreOptions off;
  off.prefix_caching = false;
  CoreHarness ref(dir_, off);
  const auto want_a = Run(ref, {a});
  const auto want_b = Run(ref, {b});
  CoreHarness h(dir_, CoreOptions{});
  const auto got_a = Run(h, {a});
  const auto got_b = Run(h, {b});
  EXPECT_EQ(got_a[0].tokens, want_a[0].tokens);
  EXPECT_EQ(got_b[0].tokens, want_b[0].tokens);
  EXPECT_EQ(got_b[0].metrics.prefix_hit_tokens, static_cast<int64_t>(a.prompt.size()) / 4 * 4);
}

TEST_F(SlidingWindowEngine, PreemptionAndResumeGiveIdenticalOutputs) {
  const auto alone = Alone(DecodePolicy::kNgram);
  CoreOptions o;
  o.num_blocks = 20;  // 80 tokens of KV for five requests that need ~250 together
  o.ctx_size = 80;
  CoreHarness h(dir_, o);
  const auto together = Run(h, Mixed());
  EXPECT_GT(h.core().Stats().preemptions, 0);
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_EQ(together[i].tokens, alone[i].tokens) << "request " << i;
  EXPECT_EQ(h.core().Stats().blocks_used, 0);
}

}  // namespace
}  // namespace ax::testing
