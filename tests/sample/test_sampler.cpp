// Sampler: greedy rules, determinism of the counter-based draw, the sampled
// frequencies against the processed distribution (chi-square over fixed seeds, so the
// test cannot flake), reported logprobs, and a full-size vocabulary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "base/rng.h"
#include "sample/sampler.h"

namespace ax {
namespace {

// Deterministic pseudo-random logits in [-scale, scale).
std::vector<float> RandomLogits(int64_t vocab, uint64_t seed, double scale = 8.0) {
  std::vector<float> v(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) {
    v[static_cast<size_t>(i)] = static_cast<float>((2.0 * CounterUniform(seed, static_cast<uint64_t>(i)) - 1.0) * scale);
  }
  return v;
}

int32_t SampleOnce(const SamplingParams& p, std::vector<float> logits, int64_t index) {
  Sampler s(p, {});
  return s.Sample(logits.data(), static_cast<int64_t>(logits.size()), index).id;
}

// Pearson chi-square of `counts` against `probs` (same order).
double ChiSquare(const std::vector<int64_t>& counts, const std::vector<double>& probs, int64_t n) {
  double chi2 = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = probs[i] * static_cast<double>(n);
    const double d = static_cast<double>(counts[i]) - expected;
    chi2 += d * d / expected;
  }
  return chi2;
}

TEST(SamplerTest, GreedyPicksArgmaxAndTheLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0.0;
  EXPECT_EQ(SampleOnce(p, {0.1f, 2.0f, -3.0f, 1.9f}, 0), 1);
  EXPECT_EQ(SampleOnce(p, {0.1f, 2.0f, -3.0f, 2.0f, 2.0f}, 0), 1);
  EXPECT_EQ(SampleOnce(p, {5.0f, 5.0f}, 0), 0);
}

TEST(SamplerTest, TemperatureZeroIgnoresSeedIndexAndWarpers) {
  const std::vector<float> logits = RandomLogits(1000, 7);
  const auto argmax = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  SamplingParams p;
  p.temperature = 0.0;
  p.top_k = 5;
  p.top_p = 0.3;
  p.min_p = 0.5;
  for (uint64_t seed : {0u, 1u, 99u}) {
    p.seed = seed;
    for (int64_t index = 0; index < 20; ++index) EXPECT_EQ(SampleOnce(p, logits, index), argmax);
  }
}

TEST(SamplerTest, TopKOneIsGreedy) {
  SamplingParams greedy;
  greedy.temperature = 0.0;
  SamplingParams k1;
  k1.top_k = 1;
  k1.temperature = 1.5;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = RandomLogits(257, seed, 2.0);
    logits[100] = logits[200] = 10.0f;  // a tie at the top: both pick 100
    k1.seed = seed;
    EXPECT_EQ(SampleOnce(k1, logits, static_cast<int64_t>(seed)), 100);
    EXPECT_EQ(SampleOnce(greedy, logits, 0), 100);
  }
}

TEST(SamplerTest, SameSeedAndIndexGiveTheSameTokenAcrossSamplers) {
  const std::vector<float> logits(1000, 0.0f);  // uniform: every draw is informative
  SamplingParams p;
  p.seed = 1234;
  Sampler a(p, {});
  Sampler b(p, {});
  std::vector<float> buf = logits;
  // a walks the indices forward, b backward, fresh samplers one at a time: no hidden
  // state may leak between draws.
  std::vector<int32_t> fwd;
  std::vector<int32_t> rev(50);
  for (int64_t index = 0; index < 50; ++index) fwd.push_back(a.Sample(buf.data(), 1000, index).id);
  for (int64_t index = 49; index >= 0; --index) {
    rev[static_cast<size_t>(index)] = b.Sample(buf.data(), 1000, index).id;
  }
  EXPECT_EQ(fwd, rev);
  for (int64_t index = 0; index < 50; ++index) {
    EXPECT_EQ(SampleOnce(p, logits, index), fwd[static_cast<size_t>(index)]);
  }
}

TEST(SamplerTest, DifferentIndicesAndSeedsGiveDifferentTokens) {
  const std::vector<float> logits(1000, 0.0f);
  SamplingParams p;
  p.seed = 42;
  std::set<int32_t> by_index;
  for (int64_t index = 0; index < 100; ++index) by_index.insert(SampleOnce(p, logits, index));
  EXPECT_GE(by_index.size(), 90u);  // 100 uniform draws over 1000: ~95 distinct
  std::set<int32_t> by_seed;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    p.seed = seed;
    by_seed.insert(SampleOnce(p, logits, 5));
  }
  EXPECT_GE(by_seed.size(), 90u);
}

// Samples `n` indices with each of several fixed seeds and compares the counts with the
// processed distribution. df = 4 or fewer; P(chi2_4 > 30) ~ 5e-6, and the seeds are fixed.
void ExpectMatchesDistribution(const SamplingParams& base, const std::vector<float>& logits) {
  const auto dist = ProcessedDistribution(base, logits.data(), static_cast<int64_t>(logits.size()));
  std::vector<double> probs(logits.size(), 0.0);
  for (const TokenProb& t : dist) probs[static_cast<size_t>(t.id)] = t.prob;
  constexpr int64_t kN = 20000;
  for (uint64_t seed : {1u, 2u, 3u, 1000u, 0xdeadbeefu}) {
    SamplingParams p = base;
    p.seed = seed;
    Sampler s(p, {});
    std::vector<float> buf = logits;
    std::vector<int64_t> counts(logits.size(), 0);
    for (int64_t index = 0; index < kN; ++index) ++counts[static_cast<size_t>(s.Sample(buf.data(), static_cast<int64_t>(buf.size()), index).id)];
    std::vector<int64_t> kept_counts;
    std::vector<double> kept_probs;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (probs[i] > 0.0) {
        kept_counts.push_back(counts[i]);
        kept_probs.push_back(probs[i]);
      } else {
        EXPECT_EQ(counts[i], 0) << "token " << i << " was cut by a warper but sampled";
      }
    }
    EXPECT_LT(ChiSquare(kept_counts, kept_probs, kN), 30.0) << "seed " << seed;
  }
}

TEST(SamplerTest, TemperatureOneMatchesSoftmax) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f};
  // The processed distribution at T = 1 with no warper is the plain softmax.
  const auto dist = ProcessedDistribution(SamplingParams{}, logits.data(), 5);
  double z = 0.0;
  for (float l : logits) z += std::exp(static_cast<double>(l));
  for (const TokenProb& t : dist) {
    EXPECT_NEAR(t.prob, std::exp(static_cast<double>(logits[static_cast<size_t>(t.id)])) / z, 1e-12);
  }
  ExpectMatchesDistribution(SamplingParams{}, logits);
}

TEST(SamplerTest, WarpedSamplingMatchesTheProcessedDistribution) {
  SamplingParams p;
  p.temperature = 0.7;
  p.top_k = 4;
  p.top_p = 0.95;
  ExpectMatchesDistribution(p, {0.0f, 1.5f, -0.5f, 1.0f, 0.9f, -3.0f, 0.2f});
}

TEST(SamplerTest, LogprobsSumToOneOverTheProcessedDistribution) {
  SamplingParams p;
  p.temperature = 0.8;
  p.logprobs = true;
  p.top_logprobs = 20;
  p.seed = 3;
  const std::vector<float> logits = {0.3f, -1.0f, 2.0f, 0.3f, 1.1f, -0.4f, 0.0f, 0.9f};
  std::vector<float> buf = logits;
  Sampler s(p, {});
  const SampledToken t = s.Sample(buf.data(), 8, 0);
  ASSERT_EQ(t.top.size(), 8u);  // every token survives, all listed
  double lse = 0.0;
  for (const auto& [id, lp] : t.top) lse += std::exp(static_cast<double>(lp));
  EXPECT_NEAR(std::log(lse), 0.0, 1e-6);
  for (size_t i = 1; i < t.top.size(); ++i) {
    const auto& a = t.top[i - 1];
    const auto& b = t.top[i];
    EXPECT_TRUE(a.second > b.second || (a.second == b.second && a.first < b.first));
  }
  // Ties (ids 0 and 3) are listed by id.
  const auto it0 = std::find_if(t.top.begin(), t.top.end(), [](const auto& e) { return e.first == 0; });
  ASSERT_NE(it0, t.top.end());
  EXPECT_EQ((it0 + 1)->first, 3);
  // The chosen token's logprob is its entry in the processed distribution.
  const auto dist = ProcessedDistribution(p, logits.data(), 8);
  const auto d = std::find_if(dist.begin(), dist.end(), [&](const TokenProb& e) { return e.id == t.id; });
  ASSERT_NE(d, dist.end());
  EXPECT_NEAR(t.logprob, std::log(d->prob), 1e-6);
}

TEST(SamplerTest, TopLogprobsListOnlySurvivingTokens) {
  SamplingParams p;
  p.logprobs = true;
  p.top_logprobs = 5;
  p.top_k = 3;
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
  std::vector<float> buf = logits;
  Sampler s(p, {});
  const SampledToken t = s.Sample(buf.data(), 6, 0);
  ASSERT_EQ(t.top.size(), 3u);
  EXPECT_EQ(t.top[0].first, 5);
  EXPECT_EQ(t.top[2].first, 3);
  double lse = 0.0;
  for (const auto& [id, lp] : t.top) lse += std::exp(static_cast<double>(lp));
  EXPECT_NEAR(std::log(lse), 0.0, 1e-6);
  EXPECT_TRUE(t.id >= 3 && t.id <= 5);
}

TEST(SamplerTest, GreedyLogprobIsLogSoftmaxOfPenalisedLogitsAtTemperatureOne) {
  SamplingParams p;
  p.temperature = 0.0;
  p.logprobs = true;
  p.top_logprobs = 2;
  p.presence_penalty = 1.0;
  Sampler s(p, {});
  s.Accept(0);
  std::vector<float> buf = {3.0f, 2.5f, 1.0f};  // penalised: {2, 2.5, 1}
  const SampledToken t = s.Sample(buf.data(), 3, 1);
  EXPECT_EQ(t.id, 1);
  const double z = std::exp(2.0) + std::exp(2.5) + std::exp(1.0);
  EXPECT_NEAR(t.logprob, 2.5 - std::log(z), 1e-6);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].first, 1);
  EXPECT_EQ(t.top[1].first, 0);
  EXPECT_NEAR(t.top[1].second, 2.0 - std::log(z), 1e-6);
}

TEST(SamplerTest, NoLogprobsRequestedReportsNone) {
  std::vector<float> buf = {1.0f, 2.0f};
  Sampler s(SamplingParams{}, {});
  const SampledToken t = s.Sample(buf.data(), 2, 0);
  EXPECT_EQ(t.logprob, 0.0f);
  EXPECT_TRUE(t.top.empty());
}

TEST(SamplerTest, FullSizeVocabulary) {
  constexpr int64_t kVocab = 151936;
  const std::vector<float> logits = RandomLogits(kVocab, 11);
  SamplingParams p;
  p.top_k = 50;
  p.logprobs = true;
  p.top_logprobs = 20;
  p.repetition_penalty = 1.1;
  const std::vector<int32_t> prompt = {1, 5, 150000};
  Sampler s(p, prompt);
  for (int64_t index = 0; index < 32; ++index) {
    std::vector<float> buf = logits;
    const SampledToken t = s.Sample(buf.data(), kVocab, index);
    ASSERT_GE(t.id, 0);
    ASSERT_LT(t.id, kVocab);
    // The token is among the 50 best penalised logits (buf holds them now).
    std::vector<float> sorted = buf;
    std::nth_element(sorted.begin(), sorted.begin() + 49, sorted.end(), std::greater<>());
    EXPECT_GE(buf[static_cast<size_t>(t.id)], sorted[49]);
    EXPECT_EQ(t.top.size(), 20u);
    EXPECT_LE(t.logprob, 0.0f);
    s.Accept(t.id);
  }
  // The other shapes of the walk: top-p alone, min-p alone, nothing at all.
  for (int variant = 0; variant < 3; ++variant) {
    SamplingParams q;
    q.top_p = variant == 0 ? 0.9 : 1.0;
    q.min_p = variant == 1 ? 0.05 : 0.0;
    std::vector<float> buf = logits;
    const int32_t id = Sampler(q, {}).Sample(buf.data(), kVocab, 0).id;
    EXPECT_TRUE(id >= 0 && id < kVocab);
  }
}

}  // namespace
}  // namespace ax
