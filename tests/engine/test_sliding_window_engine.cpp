// The engine's promises on synth models of the layer kinds the demo model lacks:
//  (a) n-gram speculation gives the greedy tokens of direct decoding;
//  (b) requests batched together give the tokens each gives alone (greedy and sampled);
// on a model with sliding-window layers (a synth Gemma 3: window 8 on 5 of 6 layers,
// softcapped logits) and on one with sparse MoE layers (a synth Qwen3-MoE: 8 experts,
// top 2, one dense layer); and on the sliding-window model, whose contexts run far past
// the window:
//  (c) a prefix hit gives the outputs of a cold run, and the hit is reported;
//  (d) preemption and resume give identical outputs;
//  (e) the windowed layers' KV groups give back the blocks behind the window: outputs
//      equal those of keeping every block, their blocks in use follow the window, and
//      a prefix whose window blocks are gone is a reported miss.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core_harness.h"
#include "model/synth.h"

namespace ax::testing {
namespace {

// A fresh synth model of `shape` under the temp dir.
std::string WriteSynth(const std::string& shape, uint64_t seed) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("ax_engine_" + shape + "_" + std::to_string(getpid()))).string();
  std::filesystem::remove_all(dir);
  SynthOptions o;
  o.shape = shape;
  o.dtype = DType::kBF16;
  o.seed = seed;
  o.out_dir = dir;
  EXPECT_TRUE(WriteSynthModel(o, nullptr).ok());
  return dir;
}

// A prompt that repeats a 6-token phrase (so the n-gram table proposes drafts).
CoreRequest Ids(int variant, int64_t max_tokens, double temperature = 0) {
  CoreRequest r;
  for (int i = 0; i < 20 + variant; ++i) r.prompt.push_back(static_cast<int32_t>(3 + (i % 6) * 17 + variant));
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  r.sampling.temperature = temperature;
  r.sampling.top_p = temperature > 0 ? 0.9 : 1.0;
  r.sampling.seed = 5 + static_cast<uint64_t>(variant);
  return r;
}


std::vector<CoreRequest> Mixed() {
  std::vector<CoreRequest> reqs;
  for (int i = 0; i < 5; ++i) reqs.push_back(Ids(i, 24 + 4 * i, i % 2 ? 0.8 : 0.0));
  return reqs;
}

// Each of Mixed() run alone on the model in `dir`.
std::vector<Output> AloneOn(const std::string& dir, DecodePolicy policy) {
  CoreOptions o;
  o.max_seqs = 1;
  o.prefix_caching = false;
  o.policy = policy;
  o.draft_guard = false;  // what is asserted is what drafting does, not its speed
  CoreHarness h(dir, o);
  std::vector<Output> outs;
  for (CoreRequest& r : Mixed()) outs.push_back(h.RunTogether({std::move(r)})[0]);
  return outs;
}

class SynthEngine : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthEngine, NgramEqualsDirectAndBatchedEqualsAlone) {
  const std::string dir = WriteSynth(GetParam(), 11);
  const auto direct = AloneOn(dir, DecodePolicy::kDirect);
  const auto ngram = AloneOn(dir, DecodePolicy::kNgram);
  std::vector<Output> together;
  {
    CoreHarness h(dir, CoreOptions{});
    together = h.RunTogether(Mixed());
  }
  int64_t proposed = 0;
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(ngram[i].tokens, direct[i].tokens) << "request " << i;
    EXPECT_EQ(together[i].tokens, direct[i].tokens) << "request " << i;
    proposed += ngram[i].metrics.draft_tokens_proposed;
  }
  EXPECT_GT(proposed, 0);  // drafts were verified through the model's layers
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SynthEngine,
                         ::testing::Values("tiny-gemma3", "tiny-qwen3-moe", "tiny-glm4-moe", "tiny-glm4-moe-lite"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

class SlidingWindowEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = WriteSynth("tiny-gemma3", 11); }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::vector<Output> Alone(DecodePolicy policy) { return AloneOn(dir_, policy); }

  static std::string dir_;
};

std::string SlidingWindowEngine::dir_;

TEST_F(SlidingWindowEngine, PrefixHitIsExact) {
  CoreRequest a = Ids(0, 16), b = Ids(0, 16);
  for (int i = 0; i < 9; ++i) b.prompt.push_back(static_cast<int32_t>(200 + i));
  CoreOptions off;
  off.prefix_caching = false;
  CoreHarness ref(dir_, off);
  const auto want_a = ref.RunTogether({a});
  const auto want_b = ref.RunTogether({b});
  CoreHarness h(dir_, CoreOptions{});
  const auto got_a = h.RunTogether({a});
  const auto got_b = h.RunTogether({b});
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
  const auto together = h.RunTogether(Mixed());
  EXPECT_GT(h.core().Stats().preemptions, 0);
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_EQ(together[i].tokens, alone[i].tokens) << "request " << i;
  EXPECT_EQ(h.core().Stats().blocks_used, 0);
}

// Greedy ids with the windowed blocks given back equal those with every block kept:
// long generations far past the window, prompts in chunks (and token by token), n-gram
// drafts rolled back across block boundaries behind the window, requests batched.
TEST_F(SlidingWindowEngine, ReleasingWindowBlocksChangesNoOutput) {
  struct Case {
    int64_t max_batch_tokens;
    DecodePolicy policy;
  };
  for (const Case& c :
       {Case{16, DecodePolicy::kNgram}, Case{64, DecodePolicy::kDirect}, Case{1, DecodePolicy::kDirect}}) {
    std::vector<std::vector<int32_t>> outs[2];
    int64_t proposed = 0, accepted = 0;
    for (bool release : {false, true}) {
      CoreOptions o;
      o.max_batch_tokens = c.max_batch_tokens;
      o.policy = c.policy;
      o.draft_guard = false;
      o.release_window_blocks = release;
      CoreHarness h(dir_, o);
      std::vector<CoreRequest> reqs;
      for (int i = 0; i < 3; ++i) reqs.push_back(Ids(i, 140 - 20 * i));
      reqs[0].prompt.resize(41, 7);  // a longer prompt: several chunks
      for (const Output& out : h.RunTogether(std::move(reqs))) outs[release].push_back(out.tokens);
      if (release) {
        EXPECT_GT(h.core().Stats().window_blocks_total, 0);
        EXPECT_EQ(h.core().Stats().blocks_used, 0);
        proposed = h.core().Stats().draft_tokens_proposed;
        accepted = h.core().Stats().draft_tokens_accepted;
      } else {
        EXPECT_EQ(h.core().Stats().window_blocks_total, 0);  // one group: every block kept
      }
    }
    ASSERT_EQ(outs[0].size(), 3u);
    for (size_t i = 0; i < outs[0].size(); ++i) {
      EXPECT_EQ(outs[1][i], outs[0][i]) << "request " << i << ", chunk " << c.max_batch_tokens;
      EXPECT_EQ(outs[1][i].size(), static_cast<size_t>(140 - 20 * i));
    }
    if (c.policy == DecodePolicy::kNgram) {
      EXPECT_GT(proposed, 0);
      EXPECT_LT(accepted, proposed);  // some drafts were rejected and rolled back
    }
  }
}

// One request decoding far past the window: the windowed group holds ceil(8 / 4) + 1
// blocks after every step, the full group the whole context.
TEST_F(SlidingWindowEngine, WindowBlocksInUseFollowTheWindowNotTheContext) {
  CoreOptions o;
  o.policy = DecodePolicy::kDirect;
  CoreHarness h(dir_, o);
  auto stream = h.Submit(Ids(0, 200));
  int64_t steps = 0;
  while (h.core().HasWork()) {
    ASSERT_TRUE(h.core().Step().ok());
    const EngineStats s = h.core().Stats();
    if (!h.core().HasWork()) break;
    ++steps;
    const int64_t computed = 20 + steps - 1;  // the prompt in one step, then a token a step
    EXPECT_LE(s.window_blocks_used, 3) << "step " << steps;
    EXPECT_EQ(s.blocks_used - s.window_blocks_used, (computed + 3) / 4) << "step " << steps;
  }
  EXPECT_EQ(CoreHarness::Collect(*stream).tokens.size(), 200u);
  // Peaks (after each step's allocation): the prompt's forward writes all 5 of its
  // window blocks; the last forward (position 218) holds 55 full blocks and 3 window
  // blocks.
  const EngineStats s = h.core().Stats();
  EXPECT_EQ(s.blocks_used, 0);
  EXPECT_EQ(s.window_blocks_used_peak, 5);
  EXPECT_EQ(s.blocks_used_peak, (20 + 200 - 1 + 3) / 4 + 3);
  // Kept: the windowed layers hold the whole context too (one group for all).
  o.release_window_blocks = false;
  CoreHarness kept(dir_, o);
  kept.RunTogether({Ids(0, 200)});
  EXPECT_EQ(kept.core().Stats().blocks_used_peak, (20 + 200 - 1 + 3) / 4);
  EXPECT_EQ(kept.core().Stats().window_blocks_used_peak, 0);
}

// A prefix whose full-layer blocks are cached but whose window blocks were reused
// since: reported as a miss (the request computes its whole prompt), with the output
// of a cold run.
TEST_F(SlidingWindowEngine, PrefixWithEvictedWindowBlocksIsAMiss) {
  CoreRequest a = Ids(0, 40), b = Ids(0, 16);
  for (int i = 0; i < 9; ++i) b.prompt.push_back(static_cast<int32_t>(200 + i));
  CoreOptions off;
  off.prefix_caching = false;
  CoreHarness ref(dir_, off);
  const auto want_b = ref.RunTogether({b});
  CoreOptions o;
  o.max_seqs = 1;
  o.max_batch_tokens = 8;  // window pool: 1 * (2 + 2) + 2 = 6 blocks, recycled by a's 40 tokens
  CoreHarness h(dir_, o);
  h.RunTogether({a});
  // More cached blocks than the window pool has: the full layers' prefix is cached.
  EXPECT_GT(h.core().Stats().blocks_cached, h.core().Stats().window_blocks_total);
  const auto got_b = h.RunTogether({b});
  EXPECT_EQ(got_b[0].tokens, want_b[0].tokens);
  EXPECT_EQ(got_b[0].metrics.prefix_hit_tokens, 0);
  EXPECT_EQ(h.core().Stats().prefix_hit_tokens, 0);
  EXPECT_EQ(h.core().Stats().window_blocks_total, 6);
}

}  // namespace
}  // namespace ax::testing
