// Choosing draft lengths so drafting never slows anything down.
//
// StepCostModel learns T(n), the time of a decode step with n generated rows (steps
// with prompt rows are not observed: they run another kernel), from measured steps:
// an exponential moving average per size bucket (n = 1..64 each its own bucket, then
// powers of two). No straight-line fit: real curves have steps (a GEMV→GEMM switch,
// cache spills), and one cold first step must not poison the estimate of a size that
// is rarely seen. A size seen fewer than twice is not trusted: it is interpolated
// between trusted neighbours, or, above the largest trusted size, extrapolated along
// the slope of the two largest trusted sizes (at least +2% a token, a memory-bound
// step) — so an untried draft length on a memory-bound step looks cheap and gets tried
// and measured, while on a compute-bound step it does not. A trusted larger size caps
// every smaller one (a step never costs more than a larger one).
//
// PlanDraftLengths picks, per step, a draft length for every candidate request to
// maximise expected tokens out per second of the whole batch:
//   expected tokens of a request with k drafts and acceptance rate α:
//     E(k) = 1 + α + α² + … + α^k     (each draft survives only if all before it did)
//   batch throughput = Σ E_i(k_i) / T(base_tokens + Σ k_i)
// Greedy search: repeatedly add the run of drafts (to one request) that raises the
// throughput most; stop when no addition raises it by 3% or more. k = 0 for everyone is always a candidate, so the
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
  explicit StepCostModel(double ema_weight = 0.2) : weight_(ema_weight) { Rebuild(); }
  void Observe(int64_t tokens, double seconds);
  // Predicted seconds for a forward of `tokens` tokens (relative units before any data).
  double Predict(int64_t tokens) const;
  int64_t observations() const { return count_; }

 private:
  static constexpr int kBuckets = 64 + 16;
  static int Bucket(int64_t tokens);
  static int64_t BucketSize(int b);  // representative token count of a bucket
  // Refreshes the per-bucket neighbours, caps and slope after an observation, so that
  // Predict (called for every candidate run while planning) is O(1).
  void Rebuild();
  struct Cell {
    double seconds = 0;
    int64_t count = 0;
    int64_t last_seen = 0;  // observation number of the latest update
  };
  // A size not measured for this many observations is trusted no more (re-explored):
  // one slow measurement must not keep a draft length off for good.
  static constexpr int64_t kStaleAfter = 256;
  bool Trusted(int b) const { return cells_[b].count >= 2 && count_ - cells_[b].last_seen < kStaleAfter; }
  double weight_;
  Cell cells_[kBuckets];
  int64_t count_ = 0;
  // Rebuilt per observation: the nearest trusted bucket below / above each bucket (-1:
  // none), the smallest trusted time above it (a step never costs more than a larger
  // one), and the slope past the largest trusted bucket.
  int lo_[kBuckets], hi_[kBuckets];
  double cap_[kBuckets], eff_[kBuckets];
  double top_slope_ = 0;
};

struct DraftCandidate {
  double acceptance = 0;  // estimated per-draft acceptance rate α
  int max_k = 0;          // drafts available from the table (≤ configured maximum)
};

// base_tokens: tokens already in the step (every decode's own token, prefill chunks).
// base_outputs: tokens the step yields without drafts (one per decoding request).
std::vector<int> PlanDraftLengths(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                                  const std::vector<DraftCandidate>& candidates, int64_t shape_quantum = 1);
// The same, writing into `k` (resized to candidates.size()): no allocation once `k`
// has the capacity (the engine calls this every step). With shape_quantum q > 1 the
// step's tokens (base_tokens + drafts) are cut to a multiple of q by dropping the
// drafts least likely to survive, and the plan is kept only if it still clears the
// hurdle: a backend that replays a recorded graph per step shape then sees a handful of
// shapes instead of one per draft count.
void PlanDraftLengthsInto(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                          const std::vector<DraftCandidate>& candidates, std::vector<int>* k,
                          int64_t shape_quantum = 1);

}  // namespace ax
