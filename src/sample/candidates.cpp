#include "sample/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/check.h"
#include "sample/weights.h"

namespace ax {

namespace {

constexpr int64_t kMinChunk = 32;   // the first chunk a reader sorts; later ones double
constexpr int64_t kHead = 64;       // a walk's sorted head, before it turns to buckets
constexpr int64_t kHeapMax = 1024;  // heap selection for up to this many tokens
// Buckets over x = (max_logit - logit) / T in [0, kRange); x >= kRange (w < 5e-18)
// and -inf logits share the last bucket.
constexpr int kBuckets = 2048;
constexpr double kRange = 40.0;
constexpr double kScale = (kBuckets - 1) / kRange;

int BucketOf(double x) { return x < kRange ? static_cast<int>(x * kScale) : kBuckets - 1; }

}  // namespace

MaxScan ScanMax(const float* logits, int64_t vocab) {
  AX_CHECK(logits != nullptr && vocab > 0);
  // Independent lanes so the compiler can vectorise the max and the NaN test.
  constexpr int kLanes = 16;
  float lane_max[kLanes];
  int lane_nan[kLanes];
  std::fill(lane_max, lane_max + kLanes, logits[0]);
  std::fill(lane_nan, lane_nan + kLanes, 0);
  int64_t i = 0;
  for (; i + kLanes <= vocab; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const float l = logits[i + j];
      lane_max[j] = l > lane_max[j] ? l : lane_max[j];
      lane_nan[j] |= static_cast<int>(l != l);
    }
  }
  float m = logits[0];
  int nan = static_cast<int>(m != m);
  for (int j = 0; j < kLanes; ++j) {
    m = lane_max[j] > m ? lane_max[j] : m;
    nan |= lane_nan[j];
  }
  for (; i < vocab; ++i) {
    m = logits[i] > m ? logits[i] : m;
    nan |= static_cast<int>(logits[i] != logits[i]);
  }
  AX_CHECK_MSG(!nan, "sampler: NaN logit");
  AX_CHECK_MSG(std::isfinite(m), "sampler: the largest logit must be finite");
  int64_t argmax = 0;
  while (logits[argmax] != m) ++argmax;
  return {m, static_cast<int32_t>(argmax)};
}

void CandidateSet::Reset(const float* logits, int64_t vocab, double temperature) {
  AX_CHECK(temperature > 0.0);
  logits_ = logits;
  max_logit_ = ScanMax(logits, vocab).max_logit;
  inv_temperature_ = 1.0 / temperature;
  ids_.resize(static_cast<size_t>(vocab));
  std::iota(ids_.begin(), ids_.end(), 0);
  n_ = vocab;
  all_ = true;
  sorted_ = 0;
  mass_ = -1.0;
  w_ready_ = false;
  bounded_ = undecided_ = false;
}

void CandidateSet::ResetTop(const int32_t* ids, const float* logits, int64_t n, int64_t vocab, double temperature) {
  AX_CHECK(temperature > 0.0 && n >= 1 && n <= vocab && n <= kHeapMax && std::isfinite(logits[0]));
  if (top_logits_.size() < static_cast<size_t>(vocab)) top_logits_.resize(static_cast<size_t>(vocab));
  ids_.assign(ids, ids + n);
  for (int64_t i = 0; i < n; ++i) top_logits_[static_cast<size_t>(ids[i])] = logits[i];
  logits_ = top_logits_.data();
  max_logit_ = logits[0];
  inv_temperature_ = 1.0 / temperature;
  n_ = n;
  all_ = false;
  sorted_ = n;  // given in canonical order, as SelectFront leaves a small TopK
  mass_ = -1.0;
  w_ready_ = false;
  bounded_ = undecided_ = false;
  if (w_.size() < static_cast<size_t>(vocab)) w_.resize(static_cast<size_t>(vocab));
}

void CandidateSet::BoundRowMass(double lo, double hi) {
  AX_CHECK(1.0 <= lo && lo <= hi && !all_);
  bounded_ = true;
  row_mass_lo_ = lo;
  row_mass_hi_ = hi;
}

void CandidateSet::Materialize() {
  if (w_ready_) return;
  if (w_.size() < ids_.size()) w_.resize(ids_.size());
  if (all_) {  // the whole vocabulary: ids are 0..n_-1 in some order
    TokenWeightsOfRow(logits_, n_, max_logit_, inv_temperature_, w_.data());
  } else {
    for (int64_t i = 0; i < n_; ++i) {
      const int32_t id = ids_[static_cast<size_t>(i)];
      w_[static_cast<size_t>(id)] = TokenWeight((static_cast<double>(logits_[id]) - max_logit_) * inv_temperature_);
    }
  }
  w_ready_ = true;
}

double CandidateSet::LogProb(int32_t id) {
  if (bounded_) {  // log(w / row mass): the row's mass is only bounded
    undecided_ = true;
    return 0.0;
  }
  const float l = logits_[id];
  if (std::isinf(l)) return -std::numeric_limits<double>::infinity();
  return (static_cast<double>(l) - max_logit_) * inv_temperature_ - std::log(Mass());
}

double CandidateSet::Mass() {
  if (mass_ < 0.0) {
    Materialize();
    double s = 0.0;
    for (int64_t i = 0; i < n_; ++i) s += w_[static_cast<size_t>(ids_[static_cast<size_t>(i)])];
    mass_ = s;  // >= 1: the best token (w = 1) is always kept
  }
  return mass_;
}

void CandidateSet::SelectFront(int64_t m) {
  const int64_t k = m - sorted_;
  const int64_t rest = n_ - sorted_;
  if (k <= 0) return;
  auto cmp = [this](int32_t a, int32_t b) { return Better(a, b); };
  if (k < rest && k <= kHeapMax && rest >= 8 * k) {
    // One pass with a k-entry heap whose top is the worst token kept so far.
    auto worst_on_top = [this](const auto& a, const auto& b) { return Better(a.first, b.first); };
    heap_.clear();
    int64_t pos = sorted_;
    for (; pos < n_ && static_cast<int64_t>(heap_.size()) < k; ++pos) {
      heap_.emplace_back(ids_[static_cast<size_t>(pos)], pos);
      std::push_heap(heap_.begin(), heap_.end(), worst_on_top);
    }
    // Blocks whose best logit is below the worst one kept cannot contribute: a cheap
    // max over the block first, and the heap comparisons only where it reaches.
    constexpr int64_t kBlock = 32;
    while (pos < n_) {
      const int64_t end = std::min(pos + kBlock, n_);
      float best = -std::numeric_limits<float>::infinity();
      for (int64_t q = pos; q < end; ++q) {
        const float l = logits_[ids_[static_cast<size_t>(q)]];
        best = l > best ? l : best;
      }
      if (best < logits_[heap_.front().first]) {
        pos = end;
        continue;
      }
      for (; pos < end; ++pos) {
        const int32_t id = ids_[static_cast<size_t>(pos)];
        if (Better(id, heap_.front().first)) {
          std::pop_heap(heap_.begin(), heap_.end(), worst_on_top);
          heap_.back() = {id, pos};
          std::push_heap(heap_.begin(), heap_.end(), worst_on_top);
        }
      }
    }
    // Move the chosen to [sorted_, m) in ascending position order: each chosen
    // position is >= its target, so a swap never displaces a chosen one not yet moved.
    std::sort(heap_.begin(), heap_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    for (int64_t i = 0; i < k; ++i) {
      std::swap(ids_[static_cast<size_t>(sorted_ + i)], ids_[static_cast<size_t>(heap_[static_cast<size_t>(i)].second)]);
    }
  } else if (k < rest) {
    std::nth_element(ids_.begin() + sorted_, ids_.begin() + m, ids_.begin() + n_, cmp);
  }
  std::sort(ids_.begin() + sorted_, ids_.begin() + m, cmp);
  sorted_ = m;
}

void CandidateSet::EnsureSorted(int64_t m) {
  if (m <= sorted_) return;
  AX_CHECK(m <= n_);
  int64_t end = std::max({m, 2 * sorted_, kMinChunk});
  if (2 * end >= n_) end = n_;  // most of the set: one sort of the rest
  SelectFront(end);
}

void CandidateSet::Truncate(int64_t m) {
  if (m >= n_) return;
  AX_CHECK(m >= 1);
  if (m - sorted_ > kHeapMax) {
    std::nth_element(ids_.begin() + sorted_, ids_.begin() + m, ids_.begin() + n_,
                     [this](int32_t a, int32_t b) { return Better(a, b); });
  } else {
    SelectFront(m);  // small: select and sort in one go
  }
  n_ = m;
  all_ = false;
  sorted_ = std::min(sorted_, m);
  mass_ = -1.0;
}

CandidateSet::Crossing CandidateSet::Walk(double target, bool inclusive) {
  Materialize();
  EnsureSorted(std::min(n_, kHead));
  double acc = 0.0;
  Crossing last{ids_[0], 0};
  for (int64_t pos = 0; pos < sorted_; ++pos) {
    const int32_t id = ids_[static_cast<size_t>(pos)];
    const double w = w_[static_cast<size_t>(id)];
    if (w <= 0.0) return last;  // w is non-increasing: the rest weigh nothing
    acc += w;
    last = {id, pos};
    if (inclusive ? acc >= target : target < acc) return last;
  }
  return sorted_ == n_ ? last : WalkBuckets(acc, target, inclusive);
}

// The walk past the sorted head [0, sorted_), which carried weight `acc`.
CandidateSet::Crossing CandidateSet::WalkBuckets(double acc, double target, bool inclusive) {
  auto bucket = [this](int32_t id) {
    return BucketOf((max_logit_ - static_cast<double>(logits_[id])) * inv_temperature_);
  };
  bucket_mass_.assign(kBuckets, 0.0);
  bucket_count_.assign(kBuckets, 0);
  for (int64_t pos = sorted_; pos < n_; ++pos) {
    const int32_t id = ids_[static_cast<size_t>(pos)];
    const int b = bucket(id);
    bucket_mass_[static_cast<size_t>(b)] += w_[static_cast<size_t>(id)];
    ++bucket_count_[static_cast<size_t>(b)];
  }
  // The bucket holding the crossing, else (rounding) the last one with weight.
  int chosen = -1;
  double chosen_acc = acc;
  int64_t chosen_begin = sorted_;
  int64_t begin = sorted_;
  for (int b = 0; b < kBuckets; ++b) {
    const double m = bucket_mass_[static_cast<size_t>(b)];
    if (m > 0.0) {
      chosen = b;
      chosen_acc = acc;
      chosen_begin = begin;
      if (inclusive ? acc + m >= target : target < acc + m) break;
    }
    acc += m;
    begin += bucket_count_[static_cast<size_t>(b)];
  }
  if (chosen < 0) return {ids_[static_cast<size_t>(sorted_ - 1)], sorted_ - 1};
  bucket_ids_.clear();
  for (int64_t pos = sorted_; pos < n_; ++pos) {
    const int32_t id = ids_[static_cast<size_t>(pos)];
    if (bucket(id) == chosen) bucket_ids_.push_back(id);
  }
  std::sort(bucket_ids_.begin(), bucket_ids_.end(), [this](int32_t a, int32_t b) { return Better(a, b); });
  acc = chosen_acc;
  Crossing last{bucket_ids_[0], chosen_begin};
  for (size_t j = 0; j < bucket_ids_.size(); ++j) {
    const int32_t id = bucket_ids_[j];
    const double w = w_[static_cast<size_t>(id)];
    if (w <= 0.0) break;
    acc += w;
    last = {id, chosen_begin + static_cast<int64_t>(j)};
    if (inclusive ? acc >= target : target < acc) break;
  }
  return last;
}

// The candidates are the row's canonical head and Walk sums its head in that order, so
// the running weights below are Walk's, bit for bit; only the target is uncertain.
// Walk's target is fl(f * mass) for the row's mass in [lo, hi], which lies in
// [fl(f * lo), fl(f * hi)] (rounding is monotone), and the stop moves monotonically
// with the target: one stop for both ends is the stop for every mass between.
int64_t CandidateSet::WalkBounded(double t_lo, double t_hi, bool inclusive) {
  Materialize();
  const auto crossed = [inclusive](double acc, double t) { return inclusive ? acc >= t : t < acc; };
  double acc = 0.0;
  int64_t lo_stop = -1;
  for (int64_t pos = 0; pos < n_; ++pos) {
    const double w = w_[static_cast<size_t>(ids_[static_cast<size_t>(pos)])];
    // Weightless from here on, in the whole row too: Walk stops at the last weighted
    // token when no target was reached before.
    if (w <= 0.0) return lo_stop < 0 ? pos - 1 : -1;
    acc += w;
    if (lo_stop < 0 && crossed(acc, t_lo)) lo_stop = pos;
    if (crossed(acc, t_hi)) return lo_stop == pos ? pos : -1;
  }
  return -1;
}

void CandidateSet::CutBounded(int64_t pos) {
  if (pos < 0) {
    undecided_ = true;
    return;
  }
  bounded_ = false;
  Truncate(pos + 1);
}

void CandidateSet::TopK(int64_t k) {
  if (k > 0) Truncate(k);
}

void CandidateSet::TopP(double top_p) {
  if (undecided_) return;
  if (bounded_) {
    CutBounded(WalkBounded(top_p * row_mass_lo_, top_p * row_mass_hi_, true));
    return;
  }
  Truncate(Walk(top_p * Mass(), true).pos + 1);
}

void CandidateSet::MinP(double min_p) {
  if (undecided_) return;
  // w is non-increasing along the canonical order, so the kept set is a prefix;
  // counting it needs no order.
  Materialize();
  int64_t keep = 0;
  for (int64_t i = 0; i < n_; ++i) keep += w_[static_cast<size_t>(ids_[static_cast<size_t>(i)])] >= min_p;
  if (bounded_) {  // every candidate kept: the cut may lie past them
    CutBounded(keep < n_ ? keep - 1 : -1);
    return;
  }
  Truncate(keep);
}

int32_t CandidateSet::Draw(double u) {
  AX_CHECK(u >= 0.0 && u < 1.0);
  if (undecided_) return -1;
  if (bounded_) {
    const int64_t pos = WalkBounded(u * row_mass_lo_, u * row_mass_hi_, false);
    if (pos < 0) {
      undecided_ = true;
      return -1;
    }
    return ids_[static_cast<size_t>(pos)];
  }
  return Walk(u * Mass(), false).id;
}

}  // namespace ax
