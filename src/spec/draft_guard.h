// DraftGuard: the measured half of "drafting never slows anything down".
//
// The cost model (cost_model.h) predicts a step's time from its row count, but some
// costs of drafting are not a function of rows: a backend that replays a recorded graph
// per batch shape pays for each new shape a draft count creates, and the drafter's
// host work rides on every step. So, per number of decode rows, DraftGuard keeps the
// measured output tokens per second of decode steps that carried drafts and of plain
// ones (moving averages), and suspends drafting at a row count while its drafted steps
// yield fewer tokens per second than its plain ones (drafting must win by kWinMargin:
// switching modes costs, a GPU records new graph shapes, and near break-even the two
// figures are noise apart, so the guard would flip back and forth, paying each time).
// A row count not yet measured both
// ways takes the verdict of the nearest one that is (a batch that lost a request
// behaves like it did). The mode not in use is probed after kProbeEvery steps, then
// half as often each time the verdict holds (up to kMaxProbeEvery), so a stale figure
// (a slow first step, a workload that changed) is corrected without a steady cost; the
// first kWarm steps at a row count run plain for a baseline.
//
// Replayed and eager steps: on a backend that replays recorded forwards, a replayed
// step and an eager one (a shape's first forwards, or a trial) differ by the launch
// overhead, which on a small model is most of a step. So the rates are kept apart by
// whether the forward was replayed, and a verdict compares replayed drafted steps with
// replayed plain ones where both exist, else eager drafted steps with replayed plain
// ones (drafting must win even unrecorded: the steady state of plain steps is
// replayed), else eager with eager (a backend that never replays). Trials of drafting
// (steps before drafting is measured to win at the row count, and probes) run
// unrecorded (trial()), so a shape that may never be used again costs no graph
// instantiation; once drafting wins, its steps are recorded and measured replayed. A
// win measured on eager drafted steps only is confirmed first: kConfirm more drafted
// steps stay trials (a single probe step is noisy: one step may carry 30 accepted
// tokens), so one lucky probe does not pay for a batch of new graph shapes.
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
  static constexpr double kWinMargin = 1.05;  // drafted tokens/s must exceed plain by this factor
  static constexpr int kConfirm = 8;  // eager drafted steps that confirm a win before it is recorded

  // May the next decode step of `rows` decode rows carry drafts (and propose them)?
  // Call once per decode step; it counts the step towards the next probe.
  bool Allow(int64_t rows);
  // Whether the last Allow that returned true was a trial: drafting not (yet) measured
  // to win at that row count (its first drafted steps, a neighbour's verdict, a probe
  // against a plain verdict). The engine stages a trial with BatchMeta::record = false.
  bool trial() const { return trial_; }
  // A finished decode step of `rows` decode rows: whether it carried drafts, whether
  // its forward was replayed from a recording, the tokens it produced and its wall time
  // (drafting and planning included).
  void Observe(int64_t rows, bool drafted, bool replayed, int64_t tokens, double seconds);

 private:
  struct Rate {
    double avg = 0;  // tokens per second, moving average
    int n = 0;
  };
  struct Rates {
    Rate plain[2], drafted[2];  // [replayed]
    int since_probe = 0;
    int probe_every = kProbeEvery;
    bool last_verdict = true;  // drafting won when last asked
    int confirmed = 0;         // drafted steps since drafting last started to win
    int n_plain() const { return plain[0].n + plain[1].n; }
    // 1: drafting wins, 0: plain wins, -1: not measured both ways.
    int Verdict() const;
  };
  Rates& At(int64_t rows);
  bool DraftingWins(int64_t rows) const;
  std::vector<Rates> by_rows_;
  bool trial_ = false;
};

}  // namespace ax
