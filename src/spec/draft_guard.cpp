#include "spec/draft_guard.h"

#include <algorithm>
#include <cstddef>

namespace ax {

DraftGuard::Rates& DraftGuard::At(int64_t rows) {
  const size_t i = static_cast<size_t>(rows < 0 ? 0 : rows);
  if (by_rows_.size() <= i) by_rows_.resize(i + 1);
  return by_rows_[i];
}

// The verdict at `rows`: its own once both modes are measured, else that of the nearest
// row count that has one (a batch that shrinks by a request behaves like its
// neighbour), else try drafting.
bool DraftGuard::DraftingWins(int64_t rows) const {
  const auto measured = [this](int64_t i) {
    return i >= 0 && i < static_cast<int64_t>(by_rows_.size()) && by_rows_[static_cast<size_t>(i)].n_plain >= kWarm &&
           by_rows_[static_cast<size_t>(i)].n_drafted >= kWarm;
  };
  const int64_t span = static_cast<int64_t>(by_rows_.size());
  for (int64_t d = 0; d < span; ++d) {
    for (int64_t i : {rows - d, rows + d}) {
      if (measured(i)) return by_rows_[static_cast<size_t>(i)].drafted >= by_rows_[static_cast<size_t>(i)].plain;
    }
  }
  return true;
}

bool DraftGuard::Allow(int64_t rows) {
  Rates& r = At(rows);
  if (r.n_plain < kWarm) return false;
  const bool drafting_wins = DraftingWins(rows);
  // Probe the mode not in use now and then, its figure otherwise never refreshed; less
  // often each time the verdict holds (a probe of a losing mode costs, on a GPU a new
  // graph shape too), and often again once it changes.
  if (drafting_wins != r.last_verdict) {
    r.last_verdict = drafting_wins;
    r.probe_every = kProbeEvery;
    r.since_probe = 0;
  }
  if (++r.since_probe >= r.probe_every) {
    r.since_probe = 0;
    r.probe_every = std::min(2 * r.probe_every, kMaxProbeEvery);
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
