#include "spec/draft_guard.h"

#include <cstddef>

namespace ax {

DraftGuard::Rates& DraftGuard::At(int64_t rows) {
  const size_t i = static_cast<size_t>(rows < 0 ? 0 : rows);
  if (by_rows_.size() <= i) by_rows_.resize(i + 1);
  return by_rows_[i];
}

bool DraftGuard::Allow(int64_t rows) {
  Rates& r = At(rows);
  if (r.n_plain < kWarm) return false;
  if (r.n_drafted < kWarm) return true;
  const bool drafting_wins = r.drafted >= r.plain;
  // Probe the other mode now and then: its figure is otherwise never refreshed.
  if (++r.since_probe >= kProbeEvery) {
    r.since_probe = 0;
    return !drafting_wins;
  }
  return drafting_wins;
}

void DraftGuard::Observe(int64_t rows, bool drafted, int64_t tokens, double seconds) {
  if (seconds <= 0 || tokens <= 0) return;
  Rates& r = At(rows);
  const double rate = static_cast<double>(tokens) / seconds;
  double& avg = drafted ? r.drafted : r.plain;
  int& n = drafted ? r.n_drafted : r.n_plain;
  avg = n == 0 ? rate : (1 - kAlpha) * avg + kAlpha * rate;
  ++n;
}

}  // namespace ax
