// SamplingParams::Validate: the ranges of the OpenAI API (temperature, penalties,
// top_logprobs) and of vLLM (top_k, min_p, repetition_penalty).
#include <cmath>
#include <cstdio>
#include <string>

#include "sample/sampler.h"

namespace ax {

namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// Written so that NaN fails: !(lo <= v && v <= hi).
Status InRange(const char* field, double v, double lo, double hi, bool lo_open, const char* range) {
  const bool ok = (lo_open ? v > lo : v >= lo) && v <= hi;
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(field) + " must be in " + range + ", got " + Num(v));
}

}  // namespace

Status SamplingParams::Validate() const {
  AX_RETURN_IF_ERROR(InRange("temperature", temperature, 0.0, 2.0, false, "[0, 2]"));
  if (top_k < 0) {
    return InvalidArgument("top_k must be >= 0 (0 disables it), got " + std::to_string(top_k));
  }
  AX_RETURN_IF_ERROR(InRange("top_p", top_p, 0.0, 1.0, true, "(0, 1]"));
  AX_RETURN_IF_ERROR(InRange("min_p", min_p, 0.0, 1.0, false, "[0, 1]"));
  if (!(repetition_penalty > 0.0 && std::isfinite(repetition_penalty))) {
    return InvalidArgument("repetition_penalty must be > 0 and finite, got " + Num(repetition_penalty));
  }
  AX_RETURN_IF_ERROR(InRange("presence_penalty", presence_penalty, -2.0, 2.0, false, "[-2, 2]"));
  AX_RETURN_IF_ERROR(InRange("frequency_penalty", frequency_penalty, -2.0, 2.0, false, "[-2, 2]"));
  if (top_logprobs < 0 || top_logprobs > 20) {
    return InvalidArgument("top_logprobs must be in [0, 20], got " + std::to_string(top_logprobs));
  }
  if (top_logprobs > 0 && !logprobs) {
    return InvalidArgument("top_logprobs requires logprobs = true, got top_logprobs " +
                           std::to_string(top_logprobs) + " with logprobs = false");
  }
  return Status::Ok();
}

}  // namespace ax
