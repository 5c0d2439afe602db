#include "sample/weights.h"

#include <cmath>
#include <cstring>

namespace ax {
namespace {

// exp(x) for x in [kExpMin, 0]: x = k·ln2 + r with |r| <= ln2/2, a degree-13 Taylor
// polynomial of e^r (truncation < 1e-17), times 2^k built from its bits.
constexpr double kExpMin = -708.0;  // below: std::exp (a subnormal or 0 weight)

inline double ExpNonPositive(double x) {
  constexpr double kInvLn2 = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer, kept in the low bits
  double kd = x * kInvLn2 + kShift;
  uint64_t kbits;
  std::memcpy(&kbits, &kd, sizeof kd);
  kd -= kShift;
  const double r = (x - kd * kLn2Hi) - kd * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!, then Horner down to 1/0!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int64_t k = static_cast<int64_t>(kbits & 0xfffffffffffffULL) - (int64_t{1} << 51);
  const uint64_t sbits = static_cast<uint64_t>(k + 1023) << 52;
  double s;
  std::memcpy(&s, &sbits, sizeof s);
  return p * s;
}

}  // namespace

double TokenWeight(double x) { return x >= kExpMin ? ExpNonPositive(x) : std::exp(x); }

__attribute__((target_clones("avx2", "default"))) void TokenWeightsOfRow(const float* logits, int64_t n,
                                                                         double max_logit, double inv_t, double* w) {
  for (int64_t i = 0; i < n; ++i) {
    const double x = (static_cast<double>(logits[i]) - max_logit) * inv_t;
    w[i] = ExpNonPositive(x >= kExpMin ? x : 0.0);
  }
  for (int64_t i = 0; i < n; ++i) {  // the rare tail below kExpMin (and -inf)
    const double x = (static_cast<double>(logits[i]) - max_logit) * inv_t;
    if (!(x >= kExpMin)) w[i] = std::exp(x);
  }
}

}  // namespace ax
