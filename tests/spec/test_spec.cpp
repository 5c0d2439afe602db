// n-gram drafter, cost model and draft verification (unit level).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "spec/cost_model.h"
#include "spec/ngram_drafter.h"
#include "spec/verify.h"

namespace ax {
namespace {

std::vector<int32_t> Propose(const NgramDrafter& d, int k) {
  std::vector<int32_t> out(static_cast<size_t>(k));
  out.resize(static_cast<size_t>(d.Propose(k, out.data())));
  return out;
}

TEST(NgramDrafter, WorkedExampleFromTheHeader) {
  NgramDrafter d(3);
  const std::vector<int32_t> h = {1, 2, 3, 4, 1, 2};  // a b c d a b
  d.Extend(h.data(), h.size());
  EXPECT_EQ(Propose(d, 3), (std::vector<int32_t>{3, 4, 1}));
}

TEST(NgramDrafter, LongestContextWinsOverBigram) {
  NgramDrafter d(3);
  // After (7 8) comes 9; after a lone 8 most recently comes 5.
  const std::vector<int32_t> h = {7, 8, 9, 6, 8, 5, 7, 8};
  d.Extend(h.data(), h.size());
  EXPECT_EQ(Propose(d, 1), (std::vector<int32_t>{9}));
}

TEST(NgramDrafter, NoMatchProposesNothingAndMostRecentOccurrenceWins) {
  NgramDrafter d(2);
  EXPECT_TRUE(Propose(d, 4).empty());
  const std::vector<int32_t> h = {1, 2, 1, 3, 1};
  d.Extend(h.data(), h.size());
  EXPECT_EQ(Propose(d, 1), (std::vector<int32_t>{3}));
  d.Push(42);
  EXPECT_TRUE(Propose(d, 2).empty());  // 42 never seen before
}

TEST(NgramDrafter, ManyTokensWithoutReserveStayCorrect) {
  NgramDrafter d(4);
  std::vector<int32_t> h;
  for (int i = 0; i < 5000; ++i) h.push_back((i * 7919) % 1000);
  d.Extend(h.data(), h.size());
  // The sequence is periodic with period 1000: the continuation repeats.
  const auto p = Propose(d, 4);
  ASSERT_EQ(p.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(p[static_cast<size_t>(i)], ((5000 + i) * 7919) % 1000);
}

TEST(StepCostModel, LearnsPerSizeAndInterpolates) {
  StepCostModel m;
  for (int i = 0; i < 50; ++i) {
    m.Observe(1, 0.040);
    m.Observe(5, 0.044);
    m.Observe(200, 0.240);
  }
  EXPECT_NEAR(m.Predict(1), 0.040, 1e-9);
  EXPECT_NEAR(m.Predict(5), 0.044, 1e-9);
  EXPECT_NEAR(m.Predict(3), 0.042, 1e-9);  // between 1 and 5
  EXPECT_GT(m.Predict(100), 0.044);
  EXPECT_LT(m.Predict(100), 0.240);
}

TEST(StepCostModel, ExtrapolatesAlongTheMeasuredSlope) {
  StepCostModel compute_bound, memory_bound;
  for (int i = 0; i < 4; ++i) {
    compute_bound.Observe(1, 0.001);
    compute_bound.Observe(8, 0.008);
    memory_bound.Observe(1, 0.040);
    memory_bound.Observe(8, 0.041);
  }
  EXPECT_NEAR(compute_bound.Predict(40), 0.040, 1e-9);
  EXPECT_NEAR(memory_bound.Predict(40), 0.041 + 0.02 * 0.041 * 32, 1e-9);
}

TEST(StepCostModel, ASizeNotMeasuredForLongIsReExplored) {
  StepCostModel m;
  m.Observe(5, 0.500);
  m.Observe(5, 0.500);  // trusted, and slow
  for (int i = 0; i < 300; ++i) m.Observe(1, 0.004);
  EXPECT_LT(m.Predict(5), 0.005);  // stale: extrapolated again, so it gets tried
  m.Observe(5, 0.0045);
  m.Observe(5, 0.0045);
  EXPECT_NEAR(m.Predict(5), 0.0045, 1e-9);  // restarted from fresh measurements
}

TEST(StepCostModel, OneColdStepDoesNotPoisonAnUntriedSize) {
  StepCostModel m;
  m.Observe(5, 0.500);  // first forward: page faults, cold caches
  for (int i = 0; i < 20; ++i) m.Observe(1, 0.004);
  // Size 5 seen once is not trusted: extrapolated as memory-bound from size 1.
  EXPECT_LT(m.Predict(5), 0.005);
  m.Observe(5, 0.0045);
  EXPECT_NEAR(m.Predict(5), 0.2 * 0.0045 + 0.8 * 0.5, 1e-9);  // now trusted, still decaying
}

TEST(StepCostModel, ALargerMeasuredSizeCapsASlowReading) {
  StepCostModel m;
  for (int i = 0; i < 4; ++i) {
    m.Observe(1, 0.010);
    m.Observe(3, 0.030);  // a slow reading (say, a preempted core) that stuck
    m.Observe(4, 0.014);
  }
  EXPECT_NEAR(m.Predict(3), 0.014, 1e-12);  // never more than the larger size
  EXPECT_NEAR(m.Predict(2), 0.012, 1e-12);  // interpolated between 1 and the capped 3
  EXPECT_NEAR(m.Predict(4), 0.014, 1e-12);
}

TEST(PlanDraftLengths, FindsALongerRunPastACostlyStep) {
  // T(2) jumps, T(3..4) barely grow (a kernel that changes at two rows): one draft
  // loses, three win. A one-draft-at-a-time search would stop at zero.
  StepCostModel m;
  for (int i = 0; i < 4; ++i) {
    m.Observe(1, 0.010);
    m.Observe(2, 0.019);
    m.Observe(3, 0.0195);
    m.Observe(4, 0.020);
  }
  EXPECT_EQ(PlanDraftLengths(m, 1, 1, {{0.8, 3}}), (std::vector<int>{3}));
}

TEST(PlanDraftLengths, AGainWithinMeasurementNoiseIsNotTaken) {
  // Eight decodes; one more row costs 2%, and a draft accepted 20% of the time
  // would add 2.5% more tokens: predicted +0.5%, under the 3% hurdle.
  StepCostModel m;
  for (int i = 0; i < 4; ++i) {
    m.Observe(8, 0.100);
    m.Observe(9, 0.102);
  }
  EXPECT_EQ(PlanDraftLengths(m, 8, 8, {{0.2, 1}}), (std::vector<int>{0}));
  EXPECT_EQ(PlanDraftLengths(m, 8, 8, {{0.9, 1}}), (std::vector<int>{1}));  // +9%: taken
}

TEST(PlanDraftLengths, DraftsWhenAcceptanceIsHighAndNotWhenLow) {
  StepCostModel m;
  for (int i = 0; i < 20; ++i) {
    m.Observe(1, 0.040);
    m.Observe(101, 0.140);
  }
  EXPECT_EQ(PlanDraftLengths(m, 1, 1, {{0.9, 4}}), (std::vector<int>{4}));
  EXPECT_EQ(PlanDraftLengths(m, 1, 1, {{0.0, 4}}), (std::vector<int>{0}));
  // A compute-bound step (every token costs as much as the fixed part) never drafts
  // below certainty.
  StepCostModel c;
  for (int i = 0; i < 20; ++i) {
    c.Observe(1, 0.010);
    c.Observe(11, 0.110);
  }
  EXPECT_EQ(PlanDraftLengths(c, 8, 8, {{0.6, 4}, {0.6, 4}}), (std::vector<int>{0, 0}));
}

TEST(PlanDraftLengths, AShapeQuantumCutsTheStepToAMultipleDroppingTheLeastLikelyDrafts) {
  // A step that costs little more per row: four decodes all draft; with quantum 4 the
  // step's tokens land on a multiple of 4, the drafts dropped from the request with the
  // lowest acceptance.
  StepCostModel m;
  for (int i = 0; i < 20; ++i) {
    m.Observe(4, 0.010);
    m.Observe(24, 0.012);
  }
  const std::vector<DraftCandidate> c = {{0.95, 4}, {0.9, 3}, {0.5, 2}, {0.95, 4}};
  const std::vector<int> free_plan = PlanDraftLengths(m, 4, 4, c);
  const int free_total = free_plan[0] + free_plan[1] + free_plan[2] + free_plan[3];
  ASSERT_NE((4 + free_total) % 4, 0);  // 4+4+3+2+4 = 17 rows without a quantum
  const std::vector<int> cut = PlanDraftLengths(m, 4, 4, c, /*shape_quantum=*/4);
  const int total = cut[0] + cut[1] + cut[2] + cut[3];
  EXPECT_EQ((4 + total) % 4, 0);
  EXPECT_EQ(total, 12);
  EXPECT_EQ(cut[2], 1);  // the α = 0.5 request lost its deepest draft (worth 0.25)
  // A cut that leaves no gain over the hurdle drafts nothing.
  StepCostModel steep;
  for (int i = 0; i < 20; ++i) {
    steep.Observe(8, 0.010);
    steep.Observe(9, 0.0101);
    steep.Observe(16, 0.020);
  }
  EXPECT_EQ(PlanDraftLengths(steep, 8, 8, {{0.9, 1}}, 8), (std::vector<int>{0}));
}

// Under sampling, a draft-verified token must be distributed exactly as a direct
// sample: check the empirical distribution over many (seed, index) draws.
TEST(SampleWithDraft, OutputDistributionEqualsDirectSampling) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f};
  double z = 0;
  for (float l : logits) z += std::exp(l);
  for (int32_t draft : {0, 2, 4}) {
    std::map<int32_t, int> counts;
    const int n = 40000;
    for (int s = 0; s < n; ++s) {
      SamplingParams p;
      p.temperature = 1.0;
      p.seed = static_cast<uint64_t>(s);
      Sampler sampler(p, {});
      std::vector<float> l = logits;
      counts[SampleWithDraft(sampler, l.data(), 5, 0, draft).id]++;
    }
    double chi2 = 0;
    for (int32_t id = 0; id < 5; ++id) {
      const double expect = n * std::exp(logits[static_cast<size_t>(id)]) / z;
      chi2 += (counts[id] - expect) * (counts[id] - expect) / expect;
    }
    EXPECT_LT(chi2, 20.5) << "draft " << draft;  // 4 dof, p ≈ 0.0004
  }
}

// Acceptance probability of a draft d must be p(d) (the speculative-sampling rule).
TEST(SampleWithDraft, AcceptanceRateIsTheDraftsProbability) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f};
  double z = 0;
  for (float l : logits) z += std::exp(l);
  const int n = 40000;
  for (int32_t draft : {0, 3}) {
    int accepted = 0;
    for (int s = 0; s < n; ++s) {
      SamplingParams p;
      p.temperature = 1.0;
      p.seed = static_cast<uint64_t>(s);
      Sampler sampler(p, {});
      std::vector<float> l = logits;
      accepted += SampleWithDraft(sampler, l.data(), 5, 3, draft).draft_accepted;
    }
    const double pd = std::exp(logits[static_cast<size_t>(draft)]) / z;
    EXPECT_NEAR(static_cast<double>(accepted) / n, pd, 4 * std::sqrt(pd * (1 - pd) / n)) << draft;
  }
}

// Coupled to the direct draw: with or without a draft, the same (seed, index, logits)
// give the same token.
TEST(SampleWithDraft, TokenDoesNotDependOnTheDraft) {
  const std::vector<float> logits = {0.3f, 1.0f, 0.5f, 0.9f};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SamplingParams p;
    p.temperature = 0.9;
    p.top_p = 0.95;
    p.seed = seed;
    Sampler a(p, {}), b(p, {});
    std::vector<float> la = logits, lb = logits;
    EXPECT_EQ(SampleWithDraft(a, la.data(), 4, 11, -1).id, SampleWithDraft(b, lb.data(), 4, 11, 2).id);
  }
}

TEST(SampleWithDraft, GreedyAcceptsExactlyTheArgmax) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p, {});
  std::vector<float> l = {0.1f, 3.0f, 0.2f};
  EXPECT_TRUE(SampleWithDraft(s, l.data(), 3, 0, 1).draft_accepted);
  l = {0.1f, 3.0f, 0.2f};
  const VerifiedToken t = SampleWithDraft(s, l.data(), 3, 0, 2);
  EXPECT_FALSE(t.draft_accepted);
  EXPECT_EQ(t.id, 1);
}

}  // namespace
}  // namespace ax
