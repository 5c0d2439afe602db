#include "spec/cost_model.h"

#include <algorithm>
#include <cmath>

namespace ax {

void StepCostModel::Observe(int64_t tokens, double seconds) {
  if (tokens <= 0 || !(seconds > 0)) return;
  const double x = static_cast<double>(tokens);
  sw_ = lambda_ * sw_ + 1;
  sx_ = lambda_ * sx_ + x;
  sy_ = lambda_ * sy_ + seconds;
  sxx_ = lambda_ * sxx_ + x * x;
  sxy_ = lambda_ * sxy_ + x * seconds;
  ++count_;
}

double StepCostModel::slope() const {
  const double den = sw_ * sxx_ - sx_ * sx_;
  if (count_ < 2 || std::abs(den) < 1e-12 * std::max(1.0, sw_ * sxx_)) return -1;  // not identifiable yet
  return std::max(0.0, (sw_ * sxy_ - sx_ * sy_) / den);
}

double StepCostModel::intercept() const {
  if (count_ == 0) return -1;
  const double b = slope();
  if (b < 0) return sy_ / sw_;  // one distinct size seen: all of it is the intercept
  return std::max(0.0, (sy_ - b * sx_) / sw_);
}

double StepCostModel::Predict(int64_t tokens) const {
  const double x = static_cast<double>(tokens);
  if (count_ == 0) return 1.0 + 0.05 * x;  // prior: memory-bound, relative units
  const double a = intercept();
  double b = slope();
  // With a single step size seen, assume a memory-bound step: 5% of it per token.
  if (b < 0) b = 0.05 * a;
  return std::max(1e-9, a + b * x);
}

std::vector<int> PlanDraftLengths(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                                  const std::vector<DraftCandidate>& candidates) {
  std::vector<int> k(candidates.size(), 0);
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
  return k;
}

}  // namespace ax
