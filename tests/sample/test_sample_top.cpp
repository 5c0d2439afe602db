// Sampler::SampleTop on a row's k best tokens (what a device top-k returns) gives
// exactly what Sample gives on the whole row: the same id, logprob and top logprobs,
// for every warper combination it accepts, with ties at the k-th place. So does
// SampleTopMass (the candidates plus the row's mass within an error) whenever it
// decides, and it decides most rows of a peaked distribution.
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

// sum_j exp((row[j] - max) / T), as a backend's RowMass computes it.
double RowMass(const std::vector<float>& row, double temperature) {
  const double best = *std::max_element(row.begin(), row.end());
  double mass = 0.0;
  for (float x : row) mass += std::exp((static_cast<double>(x) - best) / temperature);
  return mass;
}

TEST(SampleTopTest, SampleTopMassEqualsSampleWhenItDecides) {
  constexpr int64_t kVocab = 5000, kTop = 64;
  constexpr double kRelError = 1e-5;
  std::mt19937 rng(5);
  std::vector<float> row(kVocab);
  int decided = 0, total = 0, decided_peaked = 0, total_peaked = 0;
  for (int r = 0; r < 24; ++r) {
    // Peaked rows (a few strong tokens over a wide tail) and flat ones.
    const bool peaked = r % 2 == 0;
    std::normal_distribution<float> nd(0.0f, peaked ? 1.0f : 0.3f);
    for (float& x : row) x = nd(rng);
    if (peaked)
      for (int j = 0; j < 12; ++j) row[static_cast<size_t>(rng() % kVocab)] += 9.0f + static_cast<float>(j % 4);
    if (r % 4 == 1) row[9] = -INFINITY;
    std::vector<int32_t> ids;
    std::vector<float> vals;
    HostTop(row, kTop, &ids, &vals);
    for (double temperature : {0.5, 1.0}) {
      // The device's mass differs from the host's within the error bound.
      std::uniform_real_distribution<double> err(-0.9 * kRelError, 0.9 * kRelError);
      const double mass = RowMass(row, temperature) * (1.0 + err(rng));
      for (double top_p : {1.0, 0.95, 0.8}) {
        for (double min_p : {0.0, 0.02}) {
          SamplingParams p;
          p.temperature = temperature;
          p.top_p = top_p;
          p.min_p = min_p;
          p.logprobs = top_p < 1.0 || min_p > 0.0;
          p.top_logprobs = p.logprobs ? 3 : 0;
          p.seed = static_cast<uint64_t>(r * 100 + 7);
          Sampler full(p, {}), top(p, {});
          ASSERT_TRUE(top.MassSuffices());
          for (int64_t index = 0; index < 6; ++index) {
            std::vector<float> copy = row;
            const SampledToken a = full.Sample(copy.data(), kVocab, index);
            const auto b = top.SampleTopMass(ids.data(), vals.data(), kTop, kVocab, mass, kRelError, index);
            ++total;
            total_peaked += peaked;
            if (!b.has_value()) continue;
            ++decided;
            decided_peaked += peaked;
            ASSERT_EQ(a.id, b->id) << "row " << r << " T " << temperature << " top_p " << top_p << " min_p " << min_p;
            EXPECT_EQ(a.logprob, b->logprob);
            EXPECT_EQ(a.top, b->top);
          }
        }
      }
    }
  }
  // Most peaked rows are decided by their candidates; flat rows mostly are not.
  EXPECT_GT(decided_peaked, total_peaked * 8 / 10) << decided_peaked << " of " << total_peaked;
  EXPECT_LT(decided - decided_peaked, (total - total_peaked) / 2);
}

// A mass error wide enough to move the top-p cut leaves the row undecided rather than
// guessing: the cut of [0.5, 0.3, 0.2 ...] at top-p 0.8 lies exactly on the second token.
TEST(SampleTopTest, SampleTopMassRefusesACutTheMassErrorCouldMove) {
  constexpr int64_t kVocab = 200, kTop = 64;
  std::vector<float> row(kVocab, -INFINITY);
  row[3] = std::log(0.5f);
  row[4] = std::log(0.3f);
  row[5] = std::log(0.2f);
  std::vector<int32_t> ids;
  std::vector<float> vals;
  HostTop(row, kTop, &ids, &vals);
  SamplingParams p;
  p.temperature = 1.0;
  p.top_p = 0.8;
  Sampler s(p, {});
  const double mass = RowMass(row, 1.0);
  EXPECT_FALSE(s.SampleTopMass(ids.data(), vals.data(), kTop, kVocab, mass, 0.01, 0).has_value());
  // Candidates whose weights reach zero inside them hold the whole row: always decided.
  EXPECT_TRUE(s.SampleTopMass(ids.data(), vals.data(), kTop, kVocab, mass, 0.0, 0).has_value());
  p.top_p = 0.9;
  Sampler wide(p, {});
  EXPECT_TRUE(wide.SampleTopMass(ids.data(), vals.data(), kTop, kVocab, mass, 0.01, 0).has_value());
}

// PenaltyEntries applied with PenalisedLogit (what a backend does where the logits
// are) give ApplyPenalties' bits; then the candidates of the penalised row give what
// Sample gives on the raw row, for greedy, top-k and top-p requests.
TEST(SampleTopTest, PenaltyEntriesThenCandidatesEqualSample) {
  constexpr int64_t kVocab = 4000, kTop = 64;
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> row(kVocab);
  for (float& x : row) x = nd(rng);
  for (int j = 0; j < 8; ++j) row[static_cast<size_t>(j * 37)] += 12.0f;  // strong tokens, some penalised
  const std::vector<int32_t> prompt = {0, 37, 74, 5, 5, 900};
  for (int setting = 0; setting < 3; ++setting) {
    SamplingParams p;
    p.temperature = setting == 0 ? 0.0 : 0.8;
    p.top_k = setting == 1 ? 30 : 0;
    p.top_p = setting == 2 ? 0.9 : 1.0;
    p.repetition_penalty = 1.3;
    p.frequency_penalty = 0.4;
    p.presence_penalty = 0.7;
    p.logprobs = setting != 0;
    p.seed = 11;
    Sampler full(p, prompt), top(p, prompt);
    for (int32_t id : {37, 111, 111, 3000}) {
      full.Accept(id);
      top.Accept(id);
    }
    std::vector<LogitPenalty> entries;
    top.PenaltyEntries({}, &entries);
    EXPECT_EQ(entries.size(), top.max_penalty_entries(0));
    std::vector<float> want = row, got = row;
    full.ApplyPenalties(want.data(), kVocab);
    for (const LogitPenalty& e : entries) {
      got[static_cast<size_t>(e.id)] = PenalisedLogit(got[static_cast<size_t>(e.id)], top.repetition_factor(),
                                                      top.presence(), e);
    }
    ASSERT_EQ(got, want);
    std::vector<int32_t> ids;
    std::vector<float> vals;
    HostTop(got, kTop, &ids, &vals);
    for (int64_t index = 4; index < 10; ++index) {
      std::vector<float> copy = row;
      const SampledToken a = full.Sample(copy.data(), kVocab, index);
      SampledToken b;
      if (setting == 0) {
        ASSERT_TRUE(top.ArgmaxSuffices(true) && !top.ArgmaxSuffices());
        b.id = ids[0];
      } else if (setting == 1) {
        ASSERT_TRUE(top.TopSuffices(kTop, true) && !top.TopSuffices(kTop));
        b = top.SampleTop(ids.data(), vals.data(), kTop, kVocab, index);
      } else {
        ASSERT_TRUE(top.MassSuffices(true) && !top.MassSuffices());
        double mass = 0.0;
        for (float x : got) mass += std::exp((static_cast<double>(x) - vals[0]) / p.temperature);
        const auto m = top.SampleTopMass(ids.data(), vals.data(), kTop, kVocab, mass, 1e-5, index);
        ASSERT_TRUE(m.has_value());
        b = *m;
      }
      EXPECT_EQ(a.id, b.id) << "setting " << setting << " index " << index;
      if (setting != 0) {
        EXPECT_EQ(a.logprob, b.logprob);
        EXPECT_EQ(a.top, b.top);
      }
      EXPECT_EQ(a.id, top.SamplePenalised(got.data(), kVocab, index).id);
    }
  }
}

// PenaltyEntries with pending tokens (a draft row's drafts before it) lists what
// PenaltyEntries lists after those tokens are Accepted: counts raised, new tokens
// appended in first-occurrence order.
TEST(SampleTopTest, PenaltyEntriesWithPendingEqualAcceptingThem) {
  SamplingParams p;
  p.temperature = 0.8;
  p.repetition_penalty = 1.2;
  p.frequency_penalty = 0.3;
  p.presence_penalty = 0.1;
  const std::vector<int32_t> prompt = {4, 9, 4}, generated = {9, 11}, pending = {11, 30, 4, 30, 52};
  Sampler s(p, prompt);
  for (int32_t id : generated) s.Accept(id);
  for (size_t n = 0; n <= pending.size(); ++n) {
    Sampler accepted(p, prompt);  // the same, then the first n pending tokens accepted
    for (int32_t id : generated) accepted.Accept(id);
    for (size_t j = 0; j < n; ++j) accepted.Accept(pending[j]);
    std::vector<LogitPenalty> want, got;
    accepted.PenaltyEntries({}, &want);
    s.PenaltyEntries(std::span<const int32_t>(pending.data(), n), &got);
    ASSERT_EQ(got.size(), want.size()) << n;
    EXPECT_LE(got.size(), s.max_penalty_entries(n));
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, want[i].id) << n << " " << i;
      EXPECT_EQ(got[i].generated, want[i].generated) << n << " " << i;
      EXPECT_EQ(got[i].frequency_term, want[i].frequency_term) << n << " " << i;
    }
  }
}

TEST(SampleTopTest, MassSufficesWithoutTopKAndPenalties) {
  SamplingParams p;
  p.temperature = 0.7;
  p.top_p = 0.9;
  EXPECT_TRUE(Sampler(p, {}).MassSuffices());
  p.logprobs = true;
  EXPECT_TRUE(Sampler(p, {}).MassSuffices());
  p.top_p = 1.0;  // temperature alone: logprobs need the row's exact mass
  EXPECT_FALSE(Sampler(p, {}).MassSuffices());
  p.logprobs = false;
  EXPECT_TRUE(Sampler(p, {}).MassSuffices());
  p.top_k = 20;  // TopSuffices
  EXPECT_FALSE(Sampler(p, {}).MassSuffices());
  p.top_k = 0;
  p.repetition_penalty = 1.1;
  EXPECT_FALSE(Sampler(p, {}).MassSuffices());
  p.repetition_penalty = 1.0;
  p.temperature = 0.0;
  EXPECT_FALSE(Sampler(p, {}).MassSuffices());
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
