// The engine's promises on a latent-KV model (a synth GLM-4.7-Flash-like glm4_moe_lite:
// every layer multi-head latent attention over a kLatent cache, a dense first layer,
// noaux_tc-routed experts): a prefix hit is exact and reported, preemption and resume
// give identical outputs, n-gram drafts rolled back on the latent cache give the
// greedy tokens of direct decoding whatever the chunking, and the latent layers take
// kv_lora_rank + qk_rope_head_dim values per token. And on transformers' GLM fixtures
// (tests/fixtures/models/tiny-glm4-moe*): the engine's greedy continuation is
// transformers', n-gram drafting and batching change no token, a repeated prompt is an
// exact, reported prefix hit.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core_harness.h"
#include "model/synth.h"

namespace ax::testing {
namespace {

// A prompt that repeats a 6-token phrase (so the n-gram table proposes drafts).
CoreRequest Phrase(int variant, int64_t max_tokens, double temperature = 0) {
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
  for (int i = 0; i < 5; ++i) reqs.push_back(Phrase(i, 24 + 4 * i, i % 2 ? 0.8 : 0.0));
  return reqs;
}

class LatentKvEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::temp_directory_path() / ("ax_engine_glm_" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir_);
    SynthOptions o;
    o.shape = "tiny-glm4-moe-lite";
    o.dtype = DType::kBF16;
    o.seed = 13;
    o.out_dir = dir_;
    ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // Each of Mixed() alone.
  static std::vector<Output> Alone(DecodePolicy policy) {
    CoreOptions o;
    o.max_seqs = 1;
    o.prefix_caching = false;
    o.policy = policy;
    o.draft_guard = false;
    CoreHarness h(dir_, o);
    std::vector<Output> outs;
    for (CoreRequest& r : Mixed()) outs.push_back(h.RunTogether({std::move(r)})[0]);
    return outs;
  }

  static std::string dir_;
};

std::string LatentKvEngine::dir_;

TEST_F(LatentKvEngine, MemoryIsOneLatentRowPerTokenAndLayer) {
  BackendOptions bo;
  bo.threads = 1;
  auto be = std::move(CreateBackend("cpu", bo).value());
  auto m = Model::Load(dir_, *be);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (const LayerMemory& l : (*m)->memory()) {
    EXPECT_EQ(l.kind, LayerMemoryKind::kLatent);
    EXPECT_EQ(l.ElementsPerToken(), 32 + 8);  // kv_lora_rank + qk_rope_head_dim
  }
  EXPECT_EQ((*m)->KvBytesPerToken(), size_t{4} * 40 * DTypeSize(be->kv_dtype()));
  EXPECT_FALSE((*m)->recurrent());
}

TEST_F(LatentKvEngine, PrefixHitIsExact) {
  CoreRequest a = Phrase(0, 16), b = Phrase(0, 16);
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

TEST_F(LatentKvEngine, PreemptionAndResumeGiveIdenticalOutputs) {
  const auto alone = Alone(DecodePolicy::kNgram);
  CoreOptions o;
  o.num_blocks = 20;  // 80 tokens of latent KV for five requests that need ~250 together
  o.ctx_size = 80;
  CoreHarness h(dir_, o);
  const auto together = h.RunTogether(Mixed());
  EXPECT_GT(h.core().Stats().preemptions, 0);
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_EQ(together[i].tokens, alone[i].tokens) << "request " << i;
  EXPECT_EQ(h.core().Stats().blocks_used, 0);
}

// Greedy ids with n-gram drafts (some rejected: the latent cache rolls back by a moved
// length) equal direct decoding's, with prompts in chunks of 16, 64 and token by token.
TEST_F(LatentKvEngine, DraftRollbackAndChunkingChangeNoGreedyToken) {
  std::vector<std::vector<int32_t>> want;
  for (int64_t chunk : {int64_t{64}, int64_t{16}, int64_t{1}}) {
    for (DecodePolicy policy : {DecodePolicy::kDirect, DecodePolicy::kNgram}) {
      CoreOptions o;
      o.max_batch_tokens = chunk;
      o.policy = policy;
      o.draft_guard = false;
      CoreHarness h(dir_, o);
      std::vector<CoreRequest> reqs;
      for (int i = 0; i < 3; ++i) reqs.push_back(Phrase(i, 120 - 20 * i));
      reqs[0].prompt.resize(41, 7);  // a longer prompt: several chunks
      std::vector<std::vector<int32_t>> got;
      for (const Output& out : h.RunTogether(std::move(reqs))) got.push_back(out.tokens);
      if (want.empty()) want = got;
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(got[i], want[i]) << "request " << i << ", chunk " << chunk << ", ngram "
                                   << (policy == DecodePolicy::kNgram);
      if (policy == DecodePolicy::kNgram && chunk > 1) {  // a 1-token budget leaves no room for drafts
        EXPECT_GT(h.core().Stats().draft_tokens_proposed, 0);
        EXPECT_LT(h.core().Stats().draft_tokens_accepted, h.core().Stats().draft_tokens_proposed);
      }
    }
  }
}

class GlmFixtureEngine : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::ifstream in(dir() + "/reference.json");
    const nlohmann::json j = nlohmann::json::parse(in);
    prompt_ = j["prompt_ids"].get<std::vector<int32_t>>();
    greedy_ = j["greedy_ids"].get<std::vector<int32_t>>();
  }
  std::string dir() const { return std::string(AX_FIXTURES_DIR) + "/models/" + GetParam(); }
  static CoreRequest Greedy(std::vector<int32_t> prompt, int64_t max_tokens) {
    CoreRequest r;
    r.prompt = std::move(prompt);
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = 0;
    return r;
  }
  static CoreOptions F32(DecodePolicy policy, int64_t max_batch_tokens) {
    CoreOptions o;
    o.precision = Precision::kF32;
    o.policy = policy;
    o.draft_guard = false;
    o.max_batch_tokens = max_batch_tokens;
    return o;
  }
  std::vector<int32_t> prompt_, greedy_;
};

// The prompt in chunks of 7, then decoding (drafted or not): transformers' 24 ids.
TEST_P(GlmFixtureEngine, GreedyContinuationMatchesTransformers) {
  for (DecodePolicy policy : {DecodePolicy::kDirect, DecodePolicy::kNgram}) {
    CoreHarness h(dir(), F32(policy, 7));
    EXPECT_EQ(h.RunTogether({Greedy(prompt_, static_cast<int64_t>(greedy_.size()))})[0].tokens, greedy_);
  }
}

// Greedy n-gram = direct, alone and batched, with a repetitive prompt among them (its
// drafts verified, most rejected, through the latent or paged cache).
TEST_P(GlmFixtureEngine, NgramAndBatchingChangeNoToken) {
  std::vector<int32_t> repeated;
  for (int r = 0; r < 4; ++r) repeated.insert(repeated.end(), prompt_.begin(), prompt_.begin() + 10);
  const std::vector<CoreRequest> reqs = {Greedy(prompt_, 24), Greedy({prompt_.begin() + 5, prompt_.end()}, 24),
                                         Greedy(repeated, 24)};
  std::vector<Output> direct;
  for (const CoreRequest& r : reqs) {
    CoreHarness h(dir(), F32(DecodePolicy::kDirect, 64));
    direct.push_back(h.RunTogether({r})[0]);
  }
  CoreHarness h(dir(), F32(DecodePolicy::kNgram, 64));
  const auto together = h.RunTogether(reqs);
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(together[i].tokens, direct[i].tokens) << "request " << i;
  EXPECT_GT(h.core().Stats().draft_tokens_proposed, 0);
}

TEST_P(GlmFixtureEngine, RepeatedPromptIsAnExactHit) {
  CoreHarness h(dir(), F32(DecodePolicy::kDirect, 64));
  const auto first = h.RunTogether({Greedy(prompt_, 8)});
  const auto second = h.RunTogether({Greedy(prompt_, 8)});
  EXPECT_EQ(second[0].tokens, first[0].tokens);
  EXPECT_GT(second[0].metrics.prefix_hit_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GlmFixtureEngine,
                         ::testing::Values("tiny-glm4-moe-lite", "tiny-glm4-moe-lite-grouped", "tiny-glm4-moe"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name = p.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace ax::testing
