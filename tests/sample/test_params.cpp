// SamplingParams::Validate: every out-of-range field is rejected with its name.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "sample/sampler.h"

namespace ax {
namespace {

std::string Error(const SamplingParams& p) {
  Status s = p.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

TEST(SamplingParamsTest, DefaultsAndBoundariesAreValid) {
  EXPECT_TRUE(SamplingParams{}.Validate().ok());
  SamplingParams p;
  p.temperature = 0.0;
  p.top_p = 1.0;
  p.min_p = 1.0;
  p.presence_penalty = -2.0;
  p.frequency_penalty = 2.0;
  p.top_logprobs = 20;
  p.logprobs = true;
  p.top_k = 1 << 30;
  EXPECT_TRUE(p.Validate().ok());
  p.temperature = 2.0;
  p.min_p = 0.0;
  p.repetition_penalty = 0.01;
  EXPECT_TRUE(p.Validate().ok());
}

TEST(SamplingParamsTest, ErrorsNameTheFieldAndTheValue) {
  SamplingParams p;
  p.temperature = 3.0;
  EXPECT_EQ(Error(p), "temperature must be in [0, 2], got 3");
  p = {};
  p.temperature = -0.5;
  EXPECT_EQ(Error(p), "temperature must be in [0, 2], got -0.5");
  p = {};
  p.top_k = -1;
  EXPECT_EQ(Error(p), "top_k must be >= 0 (0 disables it), got -1");
  p = {};
  p.top_p = 0.0;
  EXPECT_EQ(Error(p), "top_p must be in (0, 1], got 0");
  p.top_p = 1.5;
  EXPECT_EQ(Error(p), "top_p must be in (0, 1], got 1.5");
  p = {};
  p.min_p = -0.1;
  EXPECT_EQ(Error(p), "min_p must be in [0, 1], got -0.1");
  p = {};
  p.repetition_penalty = 0.0;
  EXPECT_EQ(Error(p), "repetition_penalty must be > 0 and finite, got 0");
  p = {};
  p.presence_penalty = 2.5;
  EXPECT_EQ(Error(p), "presence_penalty must be in [-2, 2], got 2.5");
  p = {};
  p.frequency_penalty = -3.0;
  EXPECT_EQ(Error(p), "frequency_penalty must be in [-2, 2], got -3");
  p = {};
  p.logprobs = true;
  p.top_logprobs = 21;
  EXPECT_EQ(Error(p), "top_logprobs must be in [0, 20], got 21");
  p.top_logprobs = -1;
  EXPECT_EQ(Error(p), "top_logprobs must be in [0, 20], got -1");
  p = {};
  p.top_logprobs = 5;
  EXPECT_EQ(Error(p), "top_logprobs requires logprobs = true, got top_logprobs 5 with logprobs = false");
}

TEST(SamplingParamsTest, NanAndInfinityFail) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  SamplingParams p;
  p.temperature = nan;
  EXPECT_NE(Error(p).find("temperature"), std::string::npos);
  p = {};
  p.top_p = nan;
  EXPECT_NE(Error(p).find("top_p"), std::string::npos);
  p = {};
  p.min_p = nan;
  EXPECT_NE(Error(p).find("min_p"), std::string::npos);
  p = {};
  p.repetition_penalty = inf;
  EXPECT_NE(Error(p).find("repetition_penalty"), std::string::npos);
  p = {};
  p.presence_penalty = nan;
  EXPECT_NE(Error(p).find("presence_penalty"), std::string::npos);
  p = {};
  p.frequency_penalty = inf;
  EXPECT_NE(Error(p).find("frequency_penalty"), std::string::npos);
}

}  // namespace
}  // namespace ax
