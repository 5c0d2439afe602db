// Token weights of the sampler (internal to sample/): w = e^x for x = (logit - max) / T
// <= 0, in double. A polynomial within 2 ulp of std::exp, written as plain arithmetic so
// that a whole row's loop vectorises (weights.cpp is built for it), and the vector and
// scalar forms give the same bits on any machine (ISO C++ mode: no FMA contraction).
#pragma once

#include <cstdint>

namespace ax {

// e^x for x <= 0 (x = -inf: 0).
double TokenWeight(double x);

// w[i] = TokenWeight((logits[i] - max_logit) * inv_t) for every i < n: one pass over a
// row (an AVX2 clone where the processor has it).
void TokenWeightsOfRow(const float* logits, int64_t n, double max_logit, double inv_t, double* w);

}  // namespace ax
