// Sampler::SampleTop on a row's k best tokens (what a device top-k returns) gives
// exactly what Sample gives on the whole row: the same id, logprob and top logprobs,
// for every warper combination it accepts, with ties at the k-th place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "sample/sampler.h"

namespace ax {
namespace {

// The n best of a row in canonical order (logit descending, id ascending).
void HostTop(const std::vector<float>& row, int64_t n, std::vector<int32_t>* ids, std::vector<float>* vals) {
  std::vector<int32_t> order(row.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + n, order.end(),
                    [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
  ids->assign(order.begin(), order.begin() + n);
  vals->clear();
  for (int32_t id : *ids) vals->push_back(row[static_cast<size_t>(id)]);
}

TEST(SampleTopTest, EqualsSampleOnTheWholeRow) {
  constexpr int64_t kVocab = 3000, kTop = 64;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 2.5f);
  std::vector<float> row(kVocab);
  int checked = 0;
  for (int r = 0; r < 12; ++r) {
    for (float& x : row) x = nd(rng);
    if (r % 3 == 1) {  // ties around the cut: a run of equal logits
      std::vector<float> sorted = row;
      std::sort(sorted.begin(), sorted.end(), std::greater<float>());
      for (float& x : row)
        if (x <= sorted[30] && x >= sorted[50]) x = sorted[40];
    }
    if (r % 3 == 2) row[7] = -INFINITY;
    std::vector<int32_t> ids;
    std::vector<float> vals;
    HostTop(row, kTop, &ids, &vals);
    for (int64_t top_k : {1, 5, 40, 64}) {
      for (double top_p : {1.0, 0.9, 0.5}) {
        for (double temperature : {0.3, 1.0, 1.7}) {
          SamplingParams p;
          p.temperature = temperature;
          p.top_k = top_k;
          p.top_p = top_p;
          p.min_p = top_k == 40 ? 0.05 : 0.0;
          p.logprobs = true;
          p.top_logprobs = 5;
          p.seed = static_cast<uint64_t>(r * 1000 + top_k);
          Sampler full(p, {}), top(p, {});
          ASSERT_TRUE(top.TopSuffices(kTop));
          for (int64_t index = 0; index < 8; ++index) {
            std::vector<float> copy = row;
            const SampledToken a = full.Sample(copy.data(), kVocab, index);
            const SampledToken b = top.SampleTop(ids.data(), vals.data(), kTop, kVocab, index);
            ASSERT_EQ(a.id, b.id) << "row " << r << " top_k " << top_k << " top_p " << top_p << " T " << temperature;
            EXPECT_EQ(a.logprob, b.logprob);
            EXPECT_EQ(a.top, b.top);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 12 * 4 * 3 * 3 * 8);
}

TEST(SampleTopTest, SufficesOnlyForTopKWithinTheCandidatesAndNoPenalty) {
  SamplingParams p;
  p.temperature = 0.7;
  p.top_k = 20;
  EXPECT_TRUE(Sampler(p, {}).TopSuffices(64));
  EXPECT_FALSE(Sampler(p, {}).TopSuffices(16));  // the cut needs more than the candidates
  p.top_k = 0;                                      // top-p alone may need the whole row
  EXPECT_FALSE(Sampler(p, {}).TopSuffices(64));
  p.top_k = 20;
  p.presence_penalty = 0.5;  // lowers candidates: tokens outside them may enter the top k
  EXPECT_FALSE(Sampler(p, {}).TopSuffices(64));
  p.presence_penalty = 0.0;
  p.temperature = 0.0;  // greedy: ArgmaxSuffices
  EXPECT_FALSE(Sampler(p, {}).TopSuffices(64));
}

}  // namespace
}  // namespace ax
