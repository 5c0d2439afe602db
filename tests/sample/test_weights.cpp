// The sampler's token weights: within 2 ulp of std::exp over the whole range, exact at
// the ends, and the vectorised row pass gives the same bits as one weight at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "sample/weights.h"

namespace ax {
namespace {

TEST(TokenWeightTest, WithinTwoUlpOfStdExp) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-745.0, 0.0);
  std::vector<double> xs = {0.0, -0.0, -1e-300, -0.34657359, -0.34657360, -1.0, -20.5, -700.0, -707.99, -708.0,
                            -708.01, -744.0, -746.0};
  for (int i = 0; i < 200000; ++i) xs.push_back(u(rng));
  double worst = 0;
  for (double x : xs) {
    const double want = std::exp(x), got = TokenWeight(x);
    if (want == 0.0) {
      EXPECT_EQ(got, 0.0) << x;
      continue;
    }
    worst = std::max(worst, std::abs(got - want) / want);
  }
  EXPECT_LE(worst, 2.5 * std::numeric_limits<double>::epsilon() / 2) << "worst relative error " << worst;
  EXPECT_EQ(TokenWeight(0.0), 1.0);
  EXPECT_EQ(TokenWeight(-std::numeric_limits<double>::infinity()), 0.0);
}

TEST(TokenWeightTest, RowPassEqualsOneAtATime) {
  std::mt19937 rng(6);
  std::normal_distribution<float> nd(0.0f, 30.0f);
  for (int64_t n : {1, 7, 64, 1001}) {
    std::vector<float> logits(static_cast<size_t>(n));
    for (float& l : logits) l = nd(rng);
    logits[0] = -std::numeric_limits<float>::infinity();
    double max_logit = -1e30;
    for (float l : logits) max_logit = std::max(max_logit, static_cast<double>(l));
    const double inv_t = 1.0 / 0.7;
    std::vector<double> w(static_cast<size_t>(n));
    TokenWeightsOfRow(logits.data(), n, max_logit, inv_t, w.data());
    for (int64_t i = 0; i < n; ++i) {
      const double x = (static_cast<double>(logits[static_cast<size_t>(i)]) - max_logit) * inv_t;
      EXPECT_EQ(w[static_cast<size_t>(i)], TokenWeight(x)) << "n " << n << " i " << i;
    }
  }
}

}  // namespace
}  // namespace ax
