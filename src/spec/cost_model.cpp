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
  Rebuild();
}

void StepCostModel::Rebuild() {
  // From the top: the smallest trusted time above each bucket caps it (a step never
  // costs more than a larger one: readings are noisy upwards, e.g. a preempted core,
  // and a size the planner then avoids would otherwise keep its slow reading until it
  // goes stale); eff_ is a trusted bucket's time under that cap.
  int next = -1;
  double cap = INFINITY;
  for (int b = kBuckets - 1; b >= 0; --b) {
    hi_[b] = next;
    cap_[b] = cap;
    if (Trusted(b)) {
      eff_[b] = std::min(cells_[b].seconds, cap);
      next = b;
      cap = eff_[b];
    }
  }
  int last = -1;
  for (int b = 0; b < kBuckets; ++b) {
    lo_[b] = last;
    if (Trusted(b)) last = b;
  }
  // Past the largest trusted size: the slope between the two largest trusted sizes (a
  // compute-bound step grows fast), never flatter than a memory-bound step (+2% a token).
  top_slope_ = 0;
  if (last >= 0) {
    top_slope_ = 0.02 * eff_[last];
    if (lo_[last] >= 0) {
      const int i = lo_[last];
      top_slope_ = std::max(top_slope_, (eff_[last] - eff_[i]) / static_cast<double>(BucketSize(last) - BucketSize(i)));
    }
  }
}

// A trusted size is its own average (capped); an untried one is interpolated between
// trusted neighbours or extrapolated past the largest.
double StepCostModel::Predict(int64_t tokens) const {
  const int b = Bucket(tokens);
  if (Trusted(b)) return eff_[b];
  const int lo = lo_[b], hi = hi_[b];
  const double n = static_cast<double>(tokens);
  double t;
  if (lo >= 0) {
    const double nl = static_cast<double>(BucketSize(lo));
    t = hi < 0 ? eff_[lo] + top_slope_ * (n - nl)
               : eff_[lo] + (eff_[hi] - eff_[lo]) * (n - nl) / (static_cast<double>(BucketSize(hi)) - nl);
  } else if (hi >= 0) {
    t = eff_[hi];
  } else {
    return 1.0 + 0.02 * n;  // prior: memory-bound, relative units
  }
  return std::min(t, cap_[b]);
}

std::vector<int> PlanDraftLengths(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                                  const std::vector<DraftCandidate>& candidates, int64_t shape_quantum) {
  std::vector<int> k;
  PlanDraftLengthsInto(cost, base_tokens, base_outputs, candidates, &k, shape_quantum);
  return k;
}

void PlanDraftLengthsInto(const StepCostModel& cost, int64_t base_tokens, int64_t base_outputs,
                          const std::vector<DraftCandidate>& candidates, std::vector<int>* k_out,
                          int64_t shape_quantum) {
  std::vector<int>& k = *k_out;
  k.assign(candidates.size(), 0);
  if (candidates.empty()) return;
  double outputs = static_cast<double>(std::max<int64_t>(base_outputs, 1));
  int64_t tokens = std::max<int64_t>(base_tokens, 1);
  double best = outputs / cost.Predict(tokens);
  // A run must raise the predicted rate by kMinGain: step times are measured with
  // noise, and a draft whose predicted gain is within it is as likely to slow the step
  // as to speed it (measured: stories260K at concurrency 8, where drafts are accepted
  // ~40% of the time, went from 0.96x to 0.97x of direct with a 2% hurdle).
  constexpr double kMinGain = 0.03;
  // Each round adds the run of j more drafts to one request that raises the rate most;
  // runs rather than single drafts, so that a step cost that is not convex in the
  // token count (a GPU kernel changing at 9 rows, a noisy reading) does not stop the
  // search one draft short of a better length.
  for (;;) {
    int pick = -1, pick_j = 0;
    double pick_rate = best, pick_gain = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      const double alpha = std::clamp(candidates[i].acceptance, 0.0, 1.0);
      double gain = 0, survive = std::pow(alpha, k[i]);
      for (int j = 1; k[i] + j <= candidates[i].max_k; ++j) {
        survive *= alpha;  // draft k + j survives with probability α^(k+j)
        gain += survive;
        const double rate = (outputs + gain) / cost.Predict(tokens + j);
        if (rate > pick_rate * (1 + kMinGain)) {
          pick_rate = rate;
          pick = static_cast<int>(i);
          pick_j = j;
          pick_gain = gain;
        }
      }
    }
    if (pick < 0) break;
    outputs += pick_gain;
    k[pick] += pick_j;
    tokens += pick_j;
    best = pick_rate;
  }
  if (shape_quantum <= 1 || tokens % shape_quantum == 0) return;
  // Cut to a multiple of the quantum: drop, one at a time, the deepest draft of the
  // request whose next survival α^k is lowest (the draft worth least).
  const double direct = static_cast<double>(std::max<int64_t>(base_outputs, 1)) /
                        cost.Predict(std::max<int64_t>(base_tokens, 1));
  while (tokens % shape_quantum != 0) {
    int drop = -1;
    double least = 2.0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (k[i] == 0) continue;
      const double survive = std::pow(std::clamp(candidates[i].acceptance, 0.0, 1.0), k[i]);
      if (survive < least) {
        least = survive;
        drop = static_cast<int>(i);
      }
    }
    if (drop < 0) break;  // no drafts left: tokens is base_tokens again
    outputs -= least;
    --k[drop];
    --tokens;
  }
  if (outputs / cost.Predict(tokens) <= direct * (1 + kMinGain)) std::fill(k.begin(), k.end(), 0);
}

}  // namespace ax
