#include "spec/cost_model.h"

#include <algorithm>
#include <cmath>

namespace ax {

int StepCostModel::Bucket(int64_t tokens) {
  if (tokens <= 64) return static_cast<int>(std::max<int64_t>(tokens, 1)) - 1;
  int b = 64;
  for (int64_t lim = 128; tokens > lim && b < kBuckets - 1; lim *= 2) ++b;
  return b;
}

int64_t StepCostModel::BucketSize(int b) { return b < 64 ? b + 1 : int64_t{96} << (b - 64); }

void StepCostModel::Observe(int64_t tokens, double seconds) {
  if (tokens <= 0 || !(seconds > 0)) return;
  Cell& c = cells_[Bucket(tokens)];
  ++count_;
  // A stale estimate restarts from the new measurement.
  const bool restart = c.count == 0 || count_ - c.last_seen > kStaleAfter;
  c.seconds = restart ? seconds : (1 - weight_) * c.seconds + weight_ * seconds;
  c.count = restart ? 1 : c.count + 1;
  c.last_seen = count_;
}

double StepCostModel::Predict(int64_t tokens) const {
  const int b = Bucket(tokens);
  if (Trusted(b)) return cells_[b].seconds;
  int lo = -1, hi = -1;
  for (int i = b - 1; i >= 0 && lo < 0; --i)
    if (Trusted(i)) lo = i;
  for (int i = b + 1; i < kBuckets && hi < 0; ++i)
    if (Trusted(i)) hi = i;
  const double n = static_cast<double>(tokens);
  if (lo >= 0) {
    const double nl = static_cast<double>(BucketSize(lo));
    const double t_lo = cells_[lo].seconds;
    if (hi < 0) {
      // Above the largest trusted size: continue the slope between the two largest
      // trusted sizes (a compute-bound step grows fast), never flatter than a
      // memory-bound step (+2% a token).
      double slope = 0.02 * t_lo;
      for (int i = lo - 1; i >= 0; --i) {
        if (!Trusted(i)) continue;
        const double ni = static_cast<double>(BucketSize(i));
        slope = std::max(slope, (t_lo - cells_[i].seconds) / (nl - ni));
        break;
      }
      return t_lo + slope * (n - nl);
    }
    const double nh = static_cast<double>(BucketSize(hi));
    return t_lo + (cells_[hi].seconds - t_lo) * (n - nl) / (nh - nl);
  }
  if (hi >= 0) return cells_[hi].seconds;
  return 1.0 + 0.02 * n;  // prior: memory-bound, relative units
}

std::vector<int> PlanDraftLengths(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                                  const std::vector<DraftCandidate>& candidates) {
  std::vector<int> k;
  PlanDraftLengthsInto(cost, base_tokens, base_outputs, candidates, &k);
  return k;
}

void PlanDraftLengthsInto(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                          const std::vector<DraftCandidate>& candidates, std::vector<int>* k_out) {
  std::vector<int>& k = *k_out;
  k.assign(candidates.size(), 0);
  if (candidates.empty()) return;
  double outputs = static_cast<double>(std::max<int64_t>(base_outputs, 1));
  int64_t tokens = std::max<int64_t>(base_tokens, 1);
  double best = outputs / cost.Predict(tokens);
  for (;;) {
    int pick = -1;
    double pick_rate = best;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (k[i] >= candidates[i].max_k) continue;
      // One more draft for request i survives with probability α^(k+1).
      const double gain = std::pow(std::clamp(candidates[i].acceptance, 0.0, 1.0), k[i] + 1);
      const double rate = (outputs + gain) / cost.Predict(tokens + 1);
      if (rate > pick_rate * (1 + 1e-9)) {
        pick_rate = rate;
        pick = static_cast<int>(i);
      }
    }
    if (pick < 0) break;
    outputs += std::pow(std::clamp(candidates[pick].acceptance, 0.0, 1.0), k[pick] + 1);
    ++k[pick];
    ++tokens;
    best = pick_rate;
  }
}

}  // namespace ax
