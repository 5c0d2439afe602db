// The sampler's fast paths (heap selection, sorted head, logit buckets) against a
// brute-force reference: full canonical sort, linear inverse-CDF walk. Vocabularies are
// large and flat so that draws land deep past the sorted head, and logits are
// quantised so that ties are everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "base/rng.h"
#include "sample/sampler.h"

namespace ax {
namespace {

std::vector<float> FlatTiedLogits(int64_t vocab, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) {
    // Steps of 1/16 over [-4, 4): ~128 distinct values, so every value is shared.
    v[static_cast<size_t>(i)] = std::floor(static_cast<float>(CounterUniform(seed, static_cast<uint64_t>(i))) * 128.0f) / 16.0f - 4.0f;
  }
  return v;
}

// Reference: the processed distribution by brute force (weights in canonical order).
struct Reference {
  std::vector<int32_t> order;  // canonical, after the cuts
  std::vector<double> w;       // weights, same order
};

Reference Brute(const std::vector<float>& logits, const SamplingParams& p) {
  Reference r;
  r.order.resize(logits.size());
  std::iota(r.order.begin(), r.order.end(), 0);
  std::sort(r.order.begin(), r.order.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
           (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
  });
  if (p.top_k > 0 && p.top_k < static_cast<int64_t>(r.order.size())) r.order.resize(static_cast<size_t>(p.top_k));
  const double max = logits[static_cast<size_t>(r.order[0])];
  for (int32_t id : r.order) r.w.push_back(std::exp((logits[static_cast<size_t>(id)] - max) / p.temperature));
  if (p.top_p < 1.0) {
    const double target = p.top_p * std::accumulate(r.w.begin(), r.w.end(), 0.0);
    double acc = 0.0;
    size_t keep = r.w.size();
    for (size_t i = 0; i < r.w.size(); ++i) {
      acc += r.w[i];
      if (acc >= target) {
        keep = i + 1;
        break;
      }
    }
    r.order.resize(keep);
    r.w.resize(keep);
  }
  if (p.min_p > 0.0) {
    const auto keep = static_cast<size_t>(std::count_if(r.w.begin(), r.w.end(), [&](double w) { return w >= p.min_p; }));
    r.order.resize(keep);
    r.w.resize(keep);
  }
  return r;
}

int32_t BruteDraw(const Reference& r, double u) {
  const double target = u * std::accumulate(r.w.begin(), r.w.end(), 0.0);
  double acc = 0.0;
  for (size_t i = 0; i < r.w.size(); ++i) {
    acc += r.w[i];
    if (target < acc) return r.order[i];
  }
  return r.order.back();
}

void ExpectMatchesBrute(const SamplingParams& p, int64_t vocab, uint64_t logit_seed) {
  const std::vector<float> logits = FlatTiedLogits(vocab, logit_seed);
  const Reference ref = Brute(logits, p);
  // The kept set, in order (ProcessedDistribution omits probabilities that underflow to 0).
  const auto dist = ProcessedDistribution(p, logits.data(), vocab);
  const double z = std::accumulate(ref.w.begin(), ref.w.end(), 0.0);
  const auto positive =
      static_cast<size_t>(std::count_if(ref.w.begin(), ref.w.end(), [z](double w) { return w / z > 0.0; }));
  ASSERT_EQ(dist.size(), positive);
  for (size_t i = 0; i < dist.size(); ++i) ASSERT_EQ(dist[i].id, ref.order[i]) << "position " << i;
  // The draws.
  Sampler s(p, {});
  std::vector<float> buf = logits;
  int64_t deep = 0;
  for (int64_t index = 0; index < 400; ++index) {
    const int32_t id = s.Sample(buf.data(), vocab, index).id;
    const int32_t want = BruteDraw(ref, CounterUniform(p.seed, static_cast<uint64_t>(index)));
    ASSERT_EQ(id, want) << "index " << index;
    const auto pos = std::find(ref.order.begin(), ref.order.end(), id) - ref.order.begin();
    deep += pos >= 64;
  }
  // Where most of the mass lies past the sorted head, the bucket walk was exercised.
  const double tail = ref.w.size() > 64 ? std::accumulate(ref.w.begin() + 64, ref.w.end(), 0.0) / z : 0.0;
  if (tail > 0.5) {
    EXPECT_GT(deep, 100);
  }
}

TEST(WalkTest, PlainSamplingIsTheCanonicalInverseCdf) {
  SamplingParams p;
  p.seed = 17;
  ExpectMatchesBrute(p, 5000, 1);
}

TEST(WalkTest, TemperatureAndLargeTopK) {
  SamplingParams p;
  p.seed = 18;
  p.temperature = 1.7;
  p.top_k = 2500;  // beyond the heap selection: nth_element
  ExpectMatchesBrute(p, 6000, 2);
}

TEST(WalkTest, SmallTopK) {
  SamplingParams p;
  p.seed = 19;
  p.top_k = 300;  // heap selection
  ExpectMatchesBrute(p, 7000, 3);
}

TEST(WalkTest, TopPCutsDeep) {
  SamplingParams p;
  p.seed = 20;
  p.top_p = 0.8;
  ExpectMatchesBrute(p, 8000, 4);
  p.temperature = 0.3;
  p.top_p = 0.95;
  ExpectMatchesBrute(p, 8000, 5);
}

TEST(WalkTest, MinPOverTheFullVocabularyAndAfterTheOtherCuts) {
  SamplingParams p;
  p.seed = 22;
  p.min_p = 0.05;  // keeps logits >= max - 3: about 3/8 of the vocabulary
  ExpectMatchesBrute(p, 8000, 7);
  p.min_p = 0.5;
  p.top_k = 4000;
  p.top_p = 0.9;
  ExpectMatchesBrute(p, 8000, 8);
}

TEST(WalkTest, LowTemperatureUnderflowsTheTail) {
  SamplingParams p;
  p.seed = 21;
  p.temperature = 0.01;  // gaps of 1/16 become 6.25: most weights are ~0 or exactly 0
  ExpectMatchesBrute(p, 4000, 6);
}

}  // namespace
}  // namespace ax
