// Penalties: HF's repetition formula over prompt + output, OpenAI's presence and
// frequency over generated tokens only; applied in place, once per distinct token.
#include <gtest/gtest.h>

#include <vector>

#include "sample/sampler.h"

namespace ax {
namespace {

// transformers RepetitionPenaltyLogitsProcessor: where(score < 0, score * p, score / p).
float HfRepetition(float logit, float penalty) {
  return logit < 0 ? logit * penalty : logit / penalty;
}

TEST(PenaltiesTest, RepetitionMatchesHfOnPositiveAndNegativeLogits) {
  SamplingParams p;
  p.repetition_penalty = 1.3;
  const std::vector<int32_t> prompt = {1, 2, 2, 4, 1};  // repeats count once
  Sampler s(p, prompt);
  std::vector<float> logits = {0.7f, 2.5f, -1.75f, 3.0f, 0.0f, -0.2f};
  const std::vector<float> orig = logits;
  s.ApplyPenalties(logits.data(), 6);
  const float r = 1.3f;
  EXPECT_EQ(logits[0], orig[0]);
  EXPECT_EQ(logits[1], HfRepetition(orig[1], r));  // positive: divided
  EXPECT_EQ(logits[2], HfRepetition(orig[2], r));  // negative: multiplied
  EXPECT_EQ(logits[3], orig[3]);
  EXPECT_EQ(logits[4], 0.0f);                      // zero stays zero
  EXPECT_EQ(logits[5], orig[5]);
  EXPECT_FLOAT_EQ(logits[1], 2.5f / 1.3f);
  EXPECT_FLOAT_EQ(logits[2], -1.75f * 1.3f);
}

TEST(PenaltiesTest, RepetitionCountsGeneratedTokensToo) {
  SamplingParams p;
  p.repetition_penalty = 2.0;
  Sampler s(p, std::vector<int32_t>{0});
  s.Accept(2);
  s.Accept(2);
  std::vector<float> logits = {4.0f, 4.0f, -4.0f};
  s.ApplyPenalties(logits.data(), 3);
  EXPECT_EQ(logits, (std::vector<float>{2.0f, 4.0f, -8.0f}));  // once per token, not per count
}

TEST(PenaltiesTest, PresenceAndFrequencyMatchOpenAiOverOutputOnly) {
  SamplingParams p;
  p.presence_penalty = 0.25;
  p.frequency_penalty = 0.5;
  Sampler s(p, std::vector<int32_t>{0, 3});  // prompt: ignored by these penalties
  for (int32_t id : {1, 1, 1, 2, 3}) s.Accept(id);
  std::vector<float> logits = {1.0f, 1.0f, -1.0f, 0.5f, 2.0f};
  s.ApplyPenalties(logits.data(), 5);
  // OpenAI: mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence
  EXPECT_EQ(logits[0], 1.0f);
  EXPECT_FLOAT_EQ(logits[1], 1.0f - 3 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[2], -1.0f - 1 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[3], 0.5f - 1 * 0.5f - 0.25f);
  EXPECT_EQ(logits[4], 2.0f);
  EXPECT_EQ(s.num_generated(), 5);
}

TEST(PenaltiesTest, NegativePenaltiesEncourageRepeats) {
  SamplingParams p;
  p.presence_penalty = -1.0;
  p.frequency_penalty = -0.5;
  Sampler s(p, {});
  s.Accept(0);
  s.Accept(0);
  std::vector<float> logits = {0.0f, 0.0f};
  s.ApplyPenalties(logits.data(), 2);
  EXPECT_FLOAT_EQ(logits[0], 2.0f);
  EXPECT_EQ(logits[1], 0.0f);
}

TEST(PenaltiesTest, RepetitionComesBeforeFrequencyAndPresence) {
  SamplingParams p;
  p.repetition_penalty = 2.0;
  p.frequency_penalty = 1.0;
  p.presence_penalty = 0.5;
  Sampler s(p, {});
  s.Accept(0);
  std::vector<float> logits = {3.0f};
  s.ApplyPenalties(logits.data(), 1);
  EXPECT_FLOAT_EQ(logits[0], 3.0f / 2.0f - 1.0f - 0.5f);
}

TEST(PenaltiesTest, SampleWritesThePenalisedLogitsInPlace) {
  SamplingParams p;
  p.temperature = 0.0;
  p.repetition_penalty = 4.0;
  Sampler s(p, std::vector<int32_t>{0});
  std::vector<float> logits = {2.0f, 1.0f, 0.0f};
  // Token 0 would win, but its penalised logit 0.5 loses to token 1.
  EXPECT_EQ(s.Sample(logits.data(), 3, 0).id, 1);
  EXPECT_EQ(logits, (std::vector<float>{0.5f, 1.0f, 0.0f}));
}

TEST(PenaltiesTest, NoPenaltyLeavesLogitsUntouched) {
  Sampler s(SamplingParams{}, std::vector<int32_t>{0, 1});
  s.Accept(1);
  std::vector<float> logits = {2.0f, -1.0f};
  s.ApplyPenalties(logits.data(), 2);
  EXPECT_EQ(logits, (std::vector<float>{2.0f, -1.0f}));
  EXPECT_EQ(s.num_generated(), 1);
}

}  // namespace
}  // namespace ax
