// CandidateSet (internal to sample/): the tokens still in play after the warpers,
// kept as a prefix of an id array that is lazily sorted in canonical order
// (logit descending, id ascending).
//
//   ids_: [ sorted prefix | kept, unsorted, all rank after the prefix | cut away ]
//          0          sorted_                                      n_          vocab
//
// Every warper computes how many tokens of the canonical order it keeps and calls
// Truncate(m), which selects the m best without sorting them (a heap pass for small m,
// nth_element otherwise). Readers sort only as far as they read.
//
// Walks (the top-p cut, the draw) look for the first canonical position where the
// running weight crosses a target. They walk a small sorted head first (LM
// distributions are peaked, so that usually ends it); past the head, one pass buckets
// the rest by logit (buckets are contiguous runs of the canonical order, because the
// bucket index is monotone in the logit), finds the bucket holding the crossing, and
// sorts just that bucket. So every step is O(vocab) plus small sorts, and no walk
// sorts the whole vocabulary. Partial sums are taken bucket by bucket; the result is
// the same inverse CDF up to rounding of those sums, and still a pure function of the
// inputs.
//
// Weights: w(id) = exp((logit[id] - max_logit) / T) in double (a polynomial within
// 2 ulp of std::exp, vectorised over a whole row), so the best token has w = 1 and the
// processed probability is w / Mass(). They are computed once per Reset,
// for the tokens still kept when a warper or walk first needs them (top-k needs none).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ax {

struct MaxScan {
  float max_logit;
  int32_t argmax;  // lowest id holding max_logit
};

// REQUIRES: vocab > 0; no NaN logit; the max is finite (AX_CHECKed).
MaxScan ScanMax(const float* logits, int64_t vocab);

class CandidateSet {
 public:
  // Starts with the whole vocabulary. REQUIRES: temperature > 0, as for ScanMax.
  void Reset(const float* logits, int64_t vocab, double temperature);
  // Starts with only the n best tokens of a row, given in canonical order (ids with
  // their logits, e.g. a device top-k): the same state as Reset followed by TopK(m) for
  // any m <= n <= kHeapMax, so every later warper and draw gives the same result.
  // REQUIRES: 1 <= n; ids distinct and < vocab; temperature > 0; logits[0] finite.
  void ResetTop(const int32_t* ids, const float* logits, int64_t n, int64_t vocab, double temperature);
  // After ResetTop with n < vocab: the whole row's Mass (every token's w, not only the
  // candidates') lies in [lo, hi]. TopP, MinP and Draw then cut where the whole row
  // would, using the candidates alone, when no mass in [lo, hi] moves the cut and it
  // falls inside them; otherwise they set undecided() and the caller must sample the
  // whole row. Once TopP or MinP has cut, the kept set is exact again (its Mass is
  // the candidates'); until then LogProb needs the row's mass and is undecided.
  // REQUIRES: 1 <= lo <= hi (the best token alone weighs 1).
  void BoundRowMass(double lo, double hi);
  bool undecided() const { return undecided_; }

  int64_t size() const { return n_; }
  // The id at canonical position `pos`. REQUIRES: pos < size().
  int32_t At(int64_t pos) {
    EnsureSorted(pos + 1);
    return ids_[static_cast<size_t>(pos)];
  }
  void SortAll() { EnsureSorted(n_); }
  // REQUIRES: id is kept.
  double Weight(int32_t id) {
    Materialize();
    return w_[static_cast<size_t>(id)];
  }
  // log(w(id) / Mass()); -inf for a token of logit -inf.
  double LogProb(int32_t id);
  // Sum of the kept weights (cached until the next Truncate).
  double Mass();

  // Warpers; each keeps a prefix of the canonical order.
  void TopK(int64_t k);      // exactly min(k, size) tokens
  void TopP(double top_p);   // shortest prefix whose probability mass >= top_p
  void MinP(double min_p);   // every token with w >= min_p (w of the best is 1)

  // Inverse CDF: the first canonical position whose cumulative weight exceeds
  // u * Mass(). Zero weights are never drawn. REQUIRES: 0 <= u < 1. Returns the id.
  int32_t Draw(double u);

 private:
  struct Crossing {
    int32_t id;
    int64_t pos;  // canonical position of id
  };
  // First canonical position where the running weight reaches `target` (acc >= target
  // when inclusive, acc > target otherwise); the last positive-weight token when
  // rounding leaves the total short of target.
  Crossing Walk(double target, bool inclusive);
  Crossing WalkBuckets(double acc, double target, bool inclusive);
  // Where Walk(t, inclusive) stops for every t in [t_lo, t_hi], from the candidates of
  // a bounded row; -1 when it depends on t or falls past them.
  int64_t WalkBounded(double t_lo, double t_hi, bool inclusive);
  // Keeps the canonical prefix [0, pos] of a bounded row (exact from then on), or
  // marks the set undecided when pos < 0.
  void CutBounded(int64_t pos);
  void Materialize();
  void EnsureSorted(int64_t m);
  void SelectFront(int64_t m);  // [sorted_, m) := the best of [sorted_, n_), sorted
  void Truncate(int64_t m);
  bool Better(int32_t a, int32_t b) const {
    return logits_[a] > logits_[b] || (logits_[a] == logits_[b] && a < b);
  }

  const float* logits_ = nullptr;
  std::vector<float> top_logits_;  // [vocab] by id, for ResetTop (only its ids written)
  double max_logit_ = 0.0;
  double inv_temperature_ = 1.0;
  std::vector<int32_t> ids_;  // capacity kept across Resets
  std::vector<double> w_;     // [vocab] by id; valid for kept ids once w_ready_
  bool w_ready_ = false;
  int64_t n_ = 0;
  bool all_ = false;  // the kept set is the whole vocabulary [0, n_) (Reset, no cut yet)
  int64_t sorted_ = 0;
  double mass_ = -1.0;  // < 0: not computed
  // A bounded row (BoundRowMass): the kept set is the row's best candidates and the
  // row's mass lies in [row_mass_lo_, row_mass_hi_].
  bool bounded_ = false;
  bool undecided_ = false;
  double row_mass_lo_ = 0.0, row_mass_hi_ = 0.0;
  // Scratch, reused across steps.
  std::vector<std::pair<int32_t, int64_t>> heap_;  // {id, position}
  std::vector<double> bucket_mass_;
  std::vector<int64_t> bucket_count_;
  std::vector<int32_t> bucket_ids_;
};

}  // namespace ax
