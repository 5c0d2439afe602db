// DraftGuard: drafting at a row count is allowed after a plain baseline, suspended while
// drafted steps measure fewer tokens per second than plain ones, follows the nearest
// measured row count before it has figures of its own, probes the other mode at
// growing intervals, and compares replayed forwards with replayed ones.
#include <gtest/gtest.h>

#include "spec/draft_guard.h"

namespace ax {
namespace {

// kWarm eager plain steps of `rows` rows, `seconds` each: the baseline before any
// drafting, during which Allow says no.
void PlainBaseline(DraftGuard& g, int64_t rows, double seconds) {
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_FALSE(g.Allow(rows));
    g.Observe(rows, false, false, rows, seconds);
  }
}

// n eager drafted steps that Allow lets through as trials, `tokens` in `seconds` each.
void DraftedTrials(DraftGuard& g, int64_t rows, int n, int64_t tokens, double seconds) {
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(g.Allow(rows)) << i;
    EXPECT_TRUE(g.trial()) << i;
    g.Observe(rows, true, false, tokens, seconds);
  }
}

TEST(DraftGuard, PlainBaselineFirstThenTheFasterMode) {
  DraftGuard g;
  PlainBaseline(g, 4, 0.001);        // 4000 tok/s plain
  DraftedTrials(g, 4, 2, 6, 0.0025);  // no drafted figure yet: try; 2400 tok/s drafted
  int allowed = 0;
  for (int i = 0; i < 3 * DraftGuard::kProbeEvery; ++i) {
    const bool allow = g.Allow(4);
    allowed += allow;
    EXPECT_TRUE(!allow || g.trial());  // a probe against the plain verdict is a trial
  }
  EXPECT_EQ(allowed, 2);  // suspended, probed after kProbeEvery steps, then after twice that
  // A row count with no figures of its own runs plain first, then follows the nearest
  // measured one instead of trying drafts again.
  PlainBaseline(g, 3, 0.001);
  EXPECT_FALSE(g.Allow(3));
}

TEST(DraftGuard, DraftingThatWinsStaysOnAndPlainIsProbed) {
  DraftGuard g;
  PlainBaseline(g, 1, 0.001);                         // 1000 tok/s plain
  DraftedTrials(g, 1, DraftGuard::kWarm, 4, 0.0015);  // not measured yet: one-off steps; 2667 tok/s
  int plain = 0;
  for (int i = 0; i < 3 * DraftGuard::kProbeEvery; ++i) {
    const bool allow = g.Allow(1);
    plain += !allow;
    // Drafting measured to win (on eager steps: kConfirm more trials first): steady steps.
    EXPECT_TRUE(!allow || g.trial() == (i < DraftGuard::kConfirm)) << i;
  }
  EXPECT_EQ(plain, 2);
  // A plain probe that now measures faster (the workload stopped repeating) flips it.
  for (int i = 0; i < 8; ++i) g.Observe(1, false, false, 1, 0.0002);
  EXPECT_FALSE(g.Allow(1));
}

// Near break-even the guard stays plain: drafting must win by kWinMargin.
TEST(DraftGuard, DraftingMustWinByTheMargin) {
  DraftGuard g;
  PlainBaseline(g, 2, 0.001);                        // 2000 tok/s plain
  DraftedTrials(g, 2, DraftGuard::kWarm, 206, 0.1);  // 2060 tok/s drafted: 3% ahead
  EXPECT_FALSE(g.Allow(2));
}

// On a graph-replaying backend: plain steps measured eager (their shape's first
// forwards) and replayed, drafting tried eager (unrecorded trials). Eager drafted steps
// must beat replayed plain ones, over kConfirm more trials; then drafting's steps are
// recorded (no longer trials), and replayed drafted steps are compared with replayed
// plain ones.
TEST(DraftGuard, DraftingMustBeatReplayedPlainSteps) {
  for (const double drafted_eager_s : {0.0005, 0.00025}) {  // 30000 and 60000 tok/s
    DraftGuard g;
    PlainBaseline(g, 8, 0.0004);  // eager plain: 20000 tok/s
    for (int i = 0; i < DraftGuard::kWarm; ++i) g.Observe(8, false, true, 8, 0.0002);  // replayed: 40000 tok/s
    DraftedTrials(g, 8, DraftGuard::kWarm, 15, drafted_eager_s);
    if (drafted_eager_s > 0.0004) {
      EXPECT_FALSE(g.Allow(8));  // ahead of eager plain steps, behind replayed ones
      continue;
    }
    // A win on eager steps only: kConfirm more drafted steps stay trials, then recorded.
    DraftedTrials(g, 8, DraftGuard::kConfirm, 15, drafted_eager_s);
    EXPECT_TRUE(g.Allow(8));
    EXPECT_FALSE(g.trial());
    for (int i = 0; i < DraftGuard::kWarm; ++i) g.Observe(8, true, true, 15, 0.0002);  // replayed: 75000 tok/s
    EXPECT_TRUE(g.Allow(8));
    // Replayed drafted steps that fall below replayed plain ones suspend drafting,
    // whatever the eager figures say.
    for (int i = 0; i < 8; ++i) g.Observe(8, true, true, 9, 0.0003);  // 30000 tok/s
    EXPECT_FALSE(g.Allow(8));
  }
}

}  // namespace
}  // namespace ax
