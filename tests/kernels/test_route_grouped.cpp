// The group-limited sigmoid router with a selection bias (RouteParams' choice_bias:
// DeepSeek-V3 / GLM noaux_tc): the worked example of kernels/params.h, the bias choosing
// experts without weighting them, and a brute-force check of the group rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernel_test_util.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

// Logits whose sigmoids are `probs`.
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p / (1.0 - p))));
  return l;
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(RouteGroupedTest, WorkedExample) {
  // Unbiased scores 0.5 everywhere; the bias alone makes b = [.9 .1 | .5 .5 | .8 .3 | .2 .2].
  const std::vector<float> logits(8, 0.0f);
  const std::vector<float> bias = {0.4f, -0.4f, 0.0f, 0.0f, 0.3f, -0.2f, -0.3f, -0.3f};
  std::vector<int32_t> ids(2);
  std::vector<float> w(2);
  RouteParams p{logits.data(), 1, 8, 2, false, false, nullptr, 1.0f, ids.data(), w.data()};
  p.choice_bias = bias.data();
  p.n_group = 4;
  p.topk_group = 2;
  ref::Route(p);
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 4}));
  EXPECT_FLOAT_EQ(w[0], 0.5f);  // the unbiased score, not 0.9
  EXPECT_FLOAT_EQ(w[1], 0.5f);
  p.normalize = true;
  p.scale = 2.5f;
  ref::Route(p);
  EXPECT_NEAR(w[0], 0.5 / (1.0 + 1e-20) * 2.5, 1e-6);
}

TEST(RouteGroupedTest, BiasChoosesButDoesNotWeight) {
  // Expert 3 has the lowest score but a bias that makes it the best choice.
  const std::vector<float> logits = LogitsOf({0.6, 0.7, 0.8, 0.1});
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 1.0f};
  std::vector<int32_t> ids(2);
  std::vector<float> w(2);
  RouteParams p{logits.data(), 1, 4, 2, false, true, nullptr, 1.8f, ids.data(), w.data()};
  p.choice_bias = bias.data();
  ref::Route(p);
  EXPECT_EQ(ids, (std::vector<int32_t>{3, 2}));
  EXPECT_NEAR(w[0], 0.1 / 0.9 * 1.8, 1e-6);
  EXPECT_NEAR(w[1], 0.8 / 0.9 * 1.8, 1e-6);
}

// masked_zero (transformers' glm4_moe / DeepSeek-V3): the other groups' experts score 0
// for the choice, so a kept expert whose biased score is negative loses to them (the
// lowest id first), and k may exceed the kept groups' experts.
TEST(RouteGroupedTest, MaskedZeroScoresTheOtherGroupsZero) {
  const std::vector<float> logits(8, 0.0f);  // unbiased scores 0.5
  // b = [.9 -.1 | .2 .2 | .3 .3 | .1 .1]: group 0 scores 0.8, the best; keep it alone.
  const std::vector<float> bias = {0.4f, -0.6f, -0.3f, -0.3f, -0.2f, -0.2f, -0.4f, -0.4f};
  std::vector<int32_t> ids(2);
  std::vector<float> w(2);
  RouteParams p{logits.data(), 1, 8, 2, false, false, nullptr, 1.0f, ids.data(), w.data()};
  p.choice_bias = bias.data();
  p.n_group = 4;
  p.topk_group = 1;
  ref::Route(p);
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 1}));  // excluded groups: expert 1 (b -0.1) is second
  p.masked_zero = true;
  ref::Route(p);
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 2}));  // expert 2 scores 0 > -0.1: the lowest such id
  EXPECT_FLOAT_EQ(w[1], 0.5f);                   // weighted by its unbiased score
}

// Every row of random logits and biases against a direct reading of the rule: the
// chosen experts lie in the topk_group best groups (by the sum of their two best biased
// scores) and are the best biased scores there.
TEST(RouteGroupedTest, ChoosesWithinTheBestGroups) {
  const int E = 12, G = 4, per = E / G, TG = 2, k = 3, n = 50;
  const std::vector<float> logits = testing::RandomF32(static_cast<size_t>(n * E), 7, -3.0f, 3.0f);
  const std::vector<float> bias = testing::RandomF32(E, 8, -0.3f, 0.3f);
  std::vector<int32_t> ids(static_cast<size_t>(n * k));
  std::vector<float> w(ids.size());
  RouteParams p{logits.data(), n, E, k, false, true, nullptr, 2.0f, ids.data(), w.data()};
  p.choice_bias = bias.data();
  p.n_group = G;
  p.topk_group = TG;
  ref::Route(p);
  for (int r = 0; r < n; ++r) {
    std::vector<double> b(E), s(E);
    for (int e = 0; e < E; ++e) {
      s[e] = Sigmoid(logits[static_cast<size_t>(r * E + e)]);
      b[e] = s[e] + bias[static_cast<size_t>(e)];
    }
    std::vector<double> gs(G);
    for (int g = 0; g < G; ++g) {
      std::vector<double> m(b.begin() + g * per, b.begin() + (g + 1) * per);
      std::sort(m.rbegin(), m.rend());
      gs[g] = m[0] + m[1];
    }
    std::vector<int> order(G);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int x, int y) { return gs[x] > gs[y]; });
    std::vector<int> allowed;
    for (int e = 0; e < E; ++e)
      if (e / per == order[0] || e / per == order[1]) allowed.push_back(e);
    std::sort(allowed.begin(), allowed.end(), [&](int x, int y) { return b[x] > b[y]; });
    double sum = 0;
    for (int j = 0; j < k; ++j) sum += s[allowed[j]];
    for (int j = 0; j < k; ++j) {
      EXPECT_EQ(ids[static_cast<size_t>(r * k + j)], allowed[j]) << "row " << r;
      EXPECT_NEAR(w[static_cast<size_t>(r * k + j)], s[allowed[j]] / sum * 2.0, 1e-6) << "row " << r;
    }
  }
}

}  // namespace
}  // namespace ax::kernels
