// Choosing draft lengths so drafting never slows anything down.
//
// StepCostModel learns the time of a forward as a function of the tokens in it,
// T(n) ≈ a + b·n, by exponentially-weighted least squares over measured steps (on a
// memory-bound decode a is the weight read and b the per-token compute; the fit tracks
// whatever the backend really does, including the GEMV→GEMM switch).
//
// PlanDraftLengths picks, per step, a draft length for every candidate request to
// maximise expected tokens out per second of the whole batch:
//   expected tokens of a request with k drafts and acceptance rate α:
//     E(k) = 1 + α + α² + … + α^k     (each draft survives only if all before it did)
//   batch throughput = Σ E_i(k_i) / T(base_tokens + Σ k_i)
// Greedy marginal search: repeatedly add one draft where it raises the throughput
// most; stop when no addition helps. k = 0 for everyone is always a candidate, so the
// plan is never predicted slower than direct decoding.
//
// Example: T(n) = 40 ms + 1 ms·n, one request, α = 0.8: k = 0 → 1/41 tok/ms; k = 4 →
// (1+.8+.64+.51+.41)/45 = 3.36/45, 3.1× better. With α = 0.1 the second draft already
// costs more than it brings.
#pragma once

#include <cstdint>
#include <vector>

namespace ax {

class StepCostModel {
 public:
  explicit StepCostModel(double forgetting = 0.98) : lambda_(forgetting) {}
  void Observe(int64_t tokens, double seconds);
  // Predicted seconds for a forward of `tokens` tokens (a prior before any data).
  double Predict(int64_t tokens) const;
  int64_t observations() const { return count_; }
  double intercept() const;
  double slope() const;

 private:
  double lambda_;
  double sw_ = 0, sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0;
  int64_t count_ = 0;
};

struct DraftCandidate {
  double acceptance = 0;  // estimated per-draft acceptance rate α
  int max_k = 0;          // drafts available from the table (≤ configured maximum)
};

// base_tokens: tokens already in the step (every decode's own token, prefill chunks).
// base_outputs: tokens the step yields without drafts (one per decoding request).
std::vector<int> PlanDraftLengths(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                                  const std::vector<DraftCandidate>& candidates);

}  // namespace ax
