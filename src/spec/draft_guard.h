// DraftGuard: the measured half of "drafting never slows anything down".
//
// The cost model (cost_model.h) predicts a step's time from its row count, but some
// costs of drafting are not a function of rows: a backend that replays a recorded graph
// per batch shape pays for each new shape a draft count creates, and the drafter's
// host work rides on every step. So, per number of decode rows, DraftGuard keeps the
// measured output tokens per second of decode steps that carried drafts and of plain
// ones (moving averages), and suspends drafting at a row count while its drafted steps
// yield fewer tokens per second than its plain ones. A row count not yet measured both
// ways takes the verdict of the nearest one that is (a batch that lost a request
// behaves like it did). The mode not in use is probed after kProbeEvery steps, then
// half as often each time the verdict holds (up to kMaxProbeEvery), so a stale figure
// (a slow first step, a workload that changed) is corrected without a steady cost; the
// first kWarm steps at a row count run plain for a baseline.
//
// Thread-safety: none (the engine thread owns it). Memory: one record per row count.
#pragma once

#include <cstdint>
#include <vector>

namespace ax {

class DraftGuard {
 public:
  static constexpr int kWarm = 2;         // plain steps at a row count before any drafting
  static constexpr int kProbeEvery = 32;     // steps to the first probe of the mode not in use
  static constexpr int kMaxProbeEvery = 512;
  static constexpr double kAlpha = 0.25;  // moving-average weight of a new step

  // May the next decode step of `rows` decode rows carry drafts (and propose them)?
  // Call once per decode step; it counts the step towards the next probe.
  bool Allow(int64_t rows);
  // A finished decode step of `rows` decode rows: whether it carried drafts, the
  // tokens it produced and its wall time (drafting and planning included).
  void Observe(int64_t rows, bool drafted, int64_t tokens, double seconds);

 private:
  struct Rates {
    double plain = 0, drafted = 0;  // tokens per second, moving averages
    int n_plain = 0, n_drafted = 0;
    int since_probe = 0;
    int probe_every = kProbeEvery;
    bool last_verdict = true;  // drafting won when last asked
  };
  Rates& At(int64_t rows);
  bool DraftingWins(int64_t rows) const;
  std::vector<Rates> by_rows_;
};

}  // namespace ax
