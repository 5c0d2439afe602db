#include "spec/draft_guard.h"

#include <algorithm>
#include <cstddef>

namespace ax {

int DraftGuard::Rates::Verdict() const {
  const auto wins = [](const Rate& d, const Rate& p) { return d.avg >= kWinMargin * p.avg ? 1 : 0; };
  if (drafted[1].n >= kWarm && plain[1].n >= kWarm) return wins(drafted[1], plain[1]);
  if (drafted[0].n >= kWarm && plain[1].n >= kWarm) return wins(drafted[0], plain[1]);
  if (drafted[0].n >= kWarm && plain[0].n >= kWarm) return wins(drafted[0], plain[0]);
  return -1;
}

DraftGuard::Rates& DraftGuard::At(int64_t rows) {
  const size_t i = static_cast<size_t>(rows < 0 ? 0 : rows);
  if (by_rows_.size() <= i) by_rows_.resize(i + 1);
  return by_rows_[i];
}

// The verdict at `rows`: its own once both modes are measured, else that of the nearest
// row count that has one (a batch that shrinks by a request behaves like its
// neighbour), else try drafting.
bool DraftGuard::DraftingWins(int64_t rows) const {
  const int64_t span = static_cast<int64_t>(by_rows_.size());
  for (int64_t d = 0; d < span; ++d) {
    for (int64_t i : {rows - d, rows + d}) {
      if (i < 0 || i >= span) continue;
      const int v = by_rows_[static_cast<size_t>(i)].Verdict();
      if (v >= 0) return v == 1;
    }
  }
  return true;
}

bool DraftGuard::Allow(int64_t rows) {
  Rates& r = At(rows);
  trial_ = true;
  if (r.n_plain() < kWarm) return false;
  const bool drafting_wins = DraftingWins(rows);
  // Probe the mode not in use now and then, its figure otherwise never refreshed; less
  // often each time the verdict holds (a probe of a losing mode costs), and often again
  // once it changes.
  if (drafting_wins != r.last_verdict) {
    r.last_verdict = drafting_wins;
    r.probe_every = kProbeEvery;
    r.since_probe = 0;
    r.confirmed = 0;
  }
  if (++r.since_probe >= r.probe_every) {
    r.since_probe = 0;
    r.probe_every = std::min(2 * r.probe_every, kMaxProbeEvery);
    return !drafting_wins;
  }
  // Not a trial once drafting is measured to win here (not a neighbour's verdict or a
  // first try), on replayed steps or on kConfirm eager ones since it started to win.
  const bool measured_win = r.Verdict() == 1;
  const bool replayed_win = measured_win && r.drafted[1].n >= kWarm;
  if (drafting_wins && measured_win && !replayed_win && r.confirmed < kConfirm) {
    ++r.confirmed;
    trial_ = true;
  } else {
    trial_ = !measured_win;
  }
  return drafting_wins;
}

void DraftGuard::Observe(int64_t rows, bool drafted, bool replayed, int64_t tokens, double seconds) {
  if (seconds <= 0 || tokens <= 0) return;
  Rates& r = At(rows);
  const double rate = static_cast<double>(tokens) / seconds;
  Rate& m = drafted ? r.drafted[replayed] : r.plain[replayed];
  m.avg = m.n == 0 ? rate : (1 - kAlpha) * m.avg + kAlpha * rate;
  ++m.n;
}

}  // namespace ax
