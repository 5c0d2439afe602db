// Warpers through ProcessedDistribution: exactly which tokens each keeps on
// hand-built logits, including ties at the boundary (canonical order: logit desc,
// id asc; top-k and top-p cut that order, min-p is an inclusive threshold).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sample/sampler.h"

namespace ax {
namespace {

std::vector<int32_t> Kept(const SamplingParams& p, const std::vector<float>& logits) {
  std::vector<int32_t> ids;
  for (const TokenProb& t : ProcessedDistribution(p, logits.data(), static_cast<int64_t>(logits.size()))) {
    ids.push_back(t.id);
  }
  return ids;
}

using Ids = std::vector<int32_t>;

TEST(WarpersTest, NoWarperKeepsEverythingInCanonicalOrderWithSoftmaxProbs) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 0.0f};
  const auto d = ProcessedDistribution(SamplingParams{}, logits.data(), 5);
  ASSERT_EQ(d.size(), 5u);
  double z = 0.0;
  for (float l : logits) z += std::exp(static_cast<double>(l));
  const Ids order = {1, 3, 0, 4, 2};
  double sum = 0.0;
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d[i].id, order[i]);
    EXPECT_NEAR(d[i].prob, std::exp(static_cast<double>(logits[static_cast<size_t>(order[i])])) / z, 1e-12);
    sum += d[i].prob;
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(WarpersTest, TemperatureScalesLogits) {
  SamplingParams p;
  p.temperature = 0.5;
  const std::vector<float> logits = {1.0f, 0.0f};
  const auto d = ProcessedDistribution(p, logits.data(), 2);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].prob, 1.0 / (1.0 + std::exp(-2.0)), 1e-12);
}

TEST(WarpersTest, TemperatureZeroIsAPointMassOnTheLowestArgmax) {
  SamplingParams p;
  p.temperature = 0.0;
  const auto d = ProcessedDistribution(p, std::vector<float>{1.0f, 3.0f, 3.0f}.data(), 3);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, 1);
  EXPECT_EQ(d[0].prob, 1.0);
}

TEST(WarpersTest, TopKKeepsExactlyKAndTiesAtTheBoundaryKeepLowerIds) {
  SamplingParams p;
  p.top_k = 3;
  // 3 is best; the 2s at ids 2, 3, 4 tie for the last two places: ids 2 and 3 win.
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 2.0f, 2.0f, 0.0f};
  EXPECT_EQ(Kept(p, logits), (Ids{1, 2, 3}));
  p.top_k = 1;
  EXPECT_EQ(Kept(p, logits), (Ids{1}));
  p.top_k = 6;
  EXPECT_EQ(Kept(p, logits), (Ids{1, 2, 3, 4, 0, 5}));
  p.top_k = 1000;  // larger than the vocabulary: everything
  EXPECT_EQ(Kept(p, logits).size(), 6u);
}

TEST(WarpersTest, TopKRenormalisesOverTheKeptSet) {
  SamplingParams p;
  p.top_k = 2;
  const auto d = ProcessedDistribution(p, std::vector<float>{0.0f, 1.0f, -5.0f, 0.0f}.data(), 4);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].id, 1);
  EXPECT_EQ(d[1].id, 0);
  EXPECT_NEAR(d[0].prob, std::exp(1.0) / (std::exp(1.0) + 1.0), 1e-12);
}

TEST(WarpersTest, TopPKeepsTheShortestPrefixReachingP) {
  SamplingParams p;
  const std::vector<float> equal = {0.0f, 0.0f, 0.0f, 0.0f};  // 0.25 each, exactly
  p.top_p = 0.5;  // two tokens reach 0.5 exactly: the boundary is inclusive
  EXPECT_EQ(Kept(p, equal), (Ids{0, 1}));
  p.top_p = 0.5000001;
  EXPECT_EQ(Kept(p, equal), (Ids{0, 1, 2}));
  p.top_p = 0.25;
  EXPECT_EQ(Kept(p, equal), (Ids{0}));
  p.top_p = 0.1;  // the best token is always kept
  EXPECT_EQ(Kept(p, equal), (Ids{0}));
}

TEST(WarpersTest, TopPTiesAtTheBoundaryKeepLowerIds) {
  SamplingParams p;
  p.top_p = 0.5;
  // probs ~ {0.2, 0.2, 0.2, 0.4}: the 0.4 token plus one 0.2 reach 0.6; the lowest id wins.
  const std::vector<float> logits = {0.0f, 0.0f, 0.0f, std::log(2.0f)};
  EXPECT_EQ(Kept(p, logits), (Ids{3, 0}));
  p.top_p = 0.7;
  EXPECT_EQ(Kept(p, logits), (Ids{3, 0, 1}));
}

TEST(WarpersTest, TopPAppliesAfterTopK) {
  const std::vector<float> equal = {0.0f, 0.0f, 0.0f, 0.0f};
  SamplingParams p;
  p.top_p = 0.5;
  p.top_k = 2;  // kept set {0, 1} renormalised to 0.5 each: 0.5 is reached by one token
  EXPECT_EQ(Kept(p, equal), (Ids{0}));
}

TEST(WarpersTest, MinPIsAnInclusiveThresholdRelativeToTheMax) {
  SamplingParams p;
  // w = p / p_max = exp(l - max): {1, 0.368, 0.050, 1, 0.607}
  const std::vector<float> logits = {0.0f, -1.0f, -3.0f, 0.0f, -0.5f};
  p.min_p = std::exp(-1.2);
  EXPECT_EQ(Kept(p, logits), (Ids{0, 3, 4, 1}));
  p.min_p = 0.5;
  EXPECT_EQ(Kept(p, logits), (Ids{0, 3, 4}));
  p.min_p = 1.0;  // inclusive: everything tied with the max stays
  EXPECT_EQ(Kept(p, logits), (Ids{0, 3}));
  p.min_p = 0.01;
  EXPECT_EQ(Kept(p, logits).size(), 5u);
}

TEST(WarpersTest, MinPNeverSplitsATie) {
  SamplingParams p;
  p.min_p = 0.3;
  const std::vector<float> logits = {-1.0f, 0.0f, -1.0f, -1.0f, -2.0f};
  EXPECT_EQ(Kept(p, logits), (Ids{1, 0, 2, 3}));
  p.min_p = 0.4;
  EXPECT_EQ(Kept(p, logits), (Ids{1}));
}

TEST(WarpersTest, MinPSeesTheTemperature) {
  SamplingParams p;
  p.min_p = std::exp(-1.2);
  p.temperature = 0.5;  // gaps double: token 1 (w = e^-2) drops, token 4 (e^-1) stays
  EXPECT_EQ(Kept(p, std::vector<float>{0.0f, -1.0f, -3.0f, 0.0f, -0.5f}), (Ids{0, 3, 4}));
}

TEST(WarpersTest, AllWarpersTogetherRunInOrder) {
  SamplingParams p;
  p.top_k = 4;
  p.top_p = 0.9;
  p.min_p = 0.2;
  const std::vector<float> logits = {-1.0f, 1.0f, -9.0f, 0.0f, -8.0f, 2.0f};
  // top-k keeps {5, 1, 3, 0}: w = {1, e^-1, e^-2, e^-3}, probs {.644, .237, .087, .032};
  // top-p 0.9 keeps {5, 1, 3} (.968); min-p 0.2 drops id 3 (w = e^-2 = .135).
  EXPECT_EQ(Kept(p, logits), (Ids{5, 1}));
}

TEST(WarpersTest, MaskedTokensAreOmittedAndProbsSumToOne) {
  const float ninf = -std::numeric_limits<float>::infinity();
  const std::vector<float> logits = {ninf, 0.3f, ninf, -0.2f, 1.1f};
  const auto d = ProcessedDistribution(SamplingParams{}, logits.data(), 5);
  ASSERT_EQ(d.size(), 3u);
  double sum = 0.0;
  for (const TokenProb& t : d) sum += t.prob;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(d[0].id, 4);
  EXPECT_EQ(d[2].id, 3);
}

}  // namespace
}  // namespace ax
