#include <gtest/gtest.h>

#include "kv/kv_manager.h"
#include "kv/kv_plan.h"

namespace ax {
namespace {

TEST(BlockPool, AllocatesInLruOrderAndEvictsHashes) {
  BlockPool pool(3, 4);
  EXPECT_EQ(pool.FreeListForTest(), (std::vector<int32_t>{0, 1, 2}));
  int32_t a = *pool.Allocate(), b = *pool.Allocate();
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  pool.SetHash(a, 77);
  pool.Release(b);
  pool.Release(a);  // MRU end, still cached
  EXPECT_EQ(pool.FreeListForTest(), (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(pool.num_cached_free(), 1);
  EXPECT_EQ(*pool.TakeCached(77), 0);
  EXPECT_EQ(pool.ref_count(0), 1);
  pool.Release(0);
  // Allocating everything evicts the cached block last.
  EXPECT_EQ(*pool.Allocate(), 2);
  EXPECT_EQ(*pool.Allocate(), 1);
  EXPECT_EQ(*pool.Allocate(), 0);
  EXPECT_FALSE(pool.TakeCached(77).has_value());
  EXPECT_FALSE(pool.Allocate().has_value());
}

TEST(KvManager, SharedPrefixBlocksAreRefCounted) {
  KvManager kv(8, 2);
  std::vector<int32_t> t = {1, 2, 3, 4, 5};
  EXPECT_EQ(kv.Attach(1, t), 0);
  ASSERT_TRUE(kv.Grow(1, 5));
  kv.Commit(1, t, 5);
  EXPECT_EQ(kv.num_hashed(1), 2);
  EXPECT_EQ(kv.Attach(2, t), 4);
  EXPECT_EQ(kv.pool().ref_count(kv.blocks(1)[0]), 2);
  kv.Free(1);
  EXPECT_EQ(kv.pool().ref_count(kv.blocks(2)[0]), 1);
  kv.Free(2);
  EXPECT_EQ(kv.pool().num_free(), 8);
  EXPECT_EQ(kv.pool().num_cached_free(), 2);
}

TEST(KvManager, GrowIsAllOrNothing) {
  KvManager kv(2, 4);
  kv.Attach(1, {1});
  EXPECT_FALSE(kv.Grow(1, 9));
  EXPECT_TRUE(kv.blocks(1).empty());
  EXPECT_TRUE(kv.Grow(1, 8));
  EXPECT_EQ(kv.blocks(1).size(), 2u);
}

// Block size 4, a full group and a window-8 group (a query at q sees keys q-7..q).
KvManager Windowed(int full_blocks = 64, int window_blocks = 64, bool prefix_caching = true) {
  return KvManager({{0, full_blocks}, {8, window_blocks}}, 4, prefix_caching);
}

std::vector<int32_t> Tokens(int n, int32_t first = 1) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(first + i);
  return t;
}

int Resident(const std::vector<int32_t>& table) {
  int n = 0;
  for (int32_t id : table) n += id != kNoBlock;
  return n;
}

TEST(KvManagerWindow, BlocksInUseFollowTheWindowNotTheContext) {
  for (bool prefix_caching : {true, false}) {
    KvManager kv = Windowed(64, 64, prefix_caching);
    const std::vector<int32_t> t = Tokens(240);
    kv.Attach(1, {t.begin(), t.begin() + 20});
    ASSERT_TRUE(kv.Grow(1, 20));
    kv.Commit(1, t, 20);
    // Committed 20: the next forward starts at 20 and reads keys 13.. → blocks 3, 4.
    EXPECT_EQ(kv.blocks(1, 1).size(), 5u);
    EXPECT_EQ(kv.blocks(1, 1)[2], kNoBlock);
    EXPECT_NE(kv.blocks(1, 1)[3], kNoBlock);
    EXPECT_EQ(kv.pool(1).num_used(), 2);
    EXPECT_EQ(kv.pool(0).num_used(), 5);
    int most = 0;
    for (int len = 20; len < 240; ++len) {  // token by token, far past the window
      ASSERT_TRUE(kv.Grow(1, len + 1));
      most = std::max(most, kv.pool(1).num_used());
      kv.Commit(1, t, len + 1);
      EXPECT_LE(kv.pool(1).num_used(), 3) << len;  // ceil(8 / 4) + 1
      EXPECT_EQ(kv.pool(0).num_used(), (len + 1 + 3) / 4) << len;
      EXPECT_EQ(Resident(kv.blocks(1, 1)), kv.pool(1).num_used());
    }
    EXPECT_EQ(most, 3);
    EXPECT_EQ(kv.blocks(1, 0).size(), kv.blocks(1, 1).size());
    kv.Free(1);
    EXPECT_EQ(kv.num_used(), 0);
    EXPECT_EQ(kv.pool(1).num_free(), 64);
  }
}

TEST(KvManagerWindow, DraftsReleaseNothingAndRollBackAcrossABlockBoundary) {
  KvManager kv = Windowed();
  const std::vector<int32_t> t = Tokens(40);
  kv.Attach(1, {t.begin(), t.begin() + 22});
  ASSERT_TRUE(kv.Grow(1, 22));
  kv.Commit(1, t, 22);  // keys from 15 on: block 3 on
  const std::vector<int32_t> kept = kv.blocks(1, 1);
  EXPECT_EQ(kept[2], kNoBlock);
  ASSERT_NE(kept[3], kNoBlock);
  // Last token + 4 drafts at positions 22..26 (into block 6); only the accepted
  // length is committed, so nothing behind the window of 22 goes.
  ASSERT_TRUE(kv.Grow(1, 27));
  kv.Commit(1, t, 22);
  EXPECT_EQ(kv.blocks(1, 1)[3], kept[3]);
  // One draft accepted: back to 24 tokens, across the boundary of block 6.
  kv.Truncate(1, 24);
  ASSERT_EQ(kv.blocks(1, 1).size(), 6u);
  EXPECT_EQ(kv.blocks(1, 1)[3], kept[3]);  // stays until the accepted length is committed
  kv.Commit(1, t, 24);                     // keys from 17 on: block 3 goes
  EXPECT_EQ(kv.blocks(1, 1)[3], kNoBlock);
  EXPECT_EQ(kv.pool(1).num_used(), 2);
}

TEST(KvManagerWindow, PrefixHitNeedsTheWindowsBlocks) {
  // A window pool of 4 blocks: computing 20 tokens in two chunks evicts the first
  // window block's hash (behind the window, then reused).
  KvManager kv = Windowed(64, 4);
  const std::vector<int32_t> t = Tokens(20);
  kv.Attach(1, t);
  ASSERT_TRUE(kv.Grow(1, 12));
  kv.Commit(1, t, 12);
  ASSERT_TRUE(kv.Grow(1, 20));
  kv.Commit(1, t, 20);
  kv.Free(1);
  std::vector<uint64_t> h;
  for (int b = 0; b < 5; ++b) h.push_back(BlockHash(b ? h.back() : 0, t.data() + 4 * b, 4));
  EXPECT_FALSE(kv.pool(1).HasCached(h[0]));
  for (int b = 0; b < 5; ++b) EXPECT_TRUE(kv.pool(0).HasCached(h[b])) << b;

  // The whole prompt again, plus a token: 5 blocks hit; the window of position 20
  // needs blocks 3 and 4 only, which are cached.
  std::vector<int32_t> longer = t;
  longer.push_back(99);
  EXPECT_EQ(kv.Attach(2, longer), 20);
  EXPECT_EQ(kv.blocks(2, 0).size(), 5u);
  EXPECT_EQ(kv.blocks(2, 1)[2], kNoBlock);
  EXPECT_NE(kv.blocks(2, 1)[3], kNoBlock);
  kv.Free(2);

  // The first 8 tokens, then others: a hit of 1 or 2 blocks needs window block 0,
  // which is gone: a miss, though the full group holds both blocks.
  std::vector<int32_t> other(t.begin(), t.begin() + 8);
  for (int i = 0; i < 4; ++i) other.push_back(50 + i);
  EXPECT_EQ(kv.Attach(3, other), 0);
  EXPECT_TRUE(kv.blocks(3, 0).empty());
  kv.Free(3);

  // Evict block 4's hash but keep blocks 2 and 3 (held while the pool is drained): a
  // hit of 5 blocks is gone, one of 4 blocks (window blocks 2, 3 of position 16) is
  // still there: the shorter hit is taken.
  const int32_t held2 = *kv.pool(1).TakeCached(h[2]), held3 = *kv.pool(1).TakeCached(h[3]);
  while (kv.pool(1).HasCached(h[4])) ASSERT_TRUE(kv.pool(1).Allocate().has_value());
  kv.pool(1).Release(held2);
  kv.pool(1).Release(held3);
  EXPECT_EQ(kv.Attach(4, longer), 16);
  EXPECT_EQ(kv.blocks(4, 0).size(), 4u);
  EXPECT_EQ(kv.blocks(4, 1)[1], kNoBlock);
  EXPECT_NE(kv.blocks(4, 1)[2], kNoBlock);
  EXPECT_EQ(kv.num_hashed(4), 4);
}

TEST(KvManagerWindow, CanGrowAsksEveryGroup) {
  KvManager kv = Windowed(16, 2);
  kv.Attach(1, {1});
  EXPECT_FALSE(kv.CanGrow(1, 12));  // 3 window blocks at once: more than the window pool
  EXPECT_FALSE(kv.Grow(1, 12));
  EXPECT_TRUE(kv.blocks(1, 0).empty());
  EXPECT_TRUE(kv.Grow(1, 8));
  EXPECT_EQ(kv.PeakBlocks(0, 100, 4), 25);
  EXPECT_EQ(kv.PeakBlocks(1, 100, 4), 4);  // keys q0-7 .. q0+3: ceil(11 / 4) + 1
  EXPECT_EQ(kv.PeakBlocks(1, 6, 4), 2);    // a short sequence: its own blocks
}

TEST(KvPlan, WindowPoolsHoldWhatTheRunningSequencesCanNeed) {
  // Gemma 3 1B-like: window 512, 16 sequences, 512-token chunks, block size 16.
  const KvPlanParams p{16, 16, 512};
  EXPECT_EQ(WindowPoolBlocks(512, p), 16 * (32 + 2) + 32);
  const auto plan = PlanKvGroups({0, 512}, 4096, p);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].num_blocks, 4096);
  EXPECT_EQ(plan[1].num_blocks, 576);
  EXPECT_EQ(PlanKvGroups({0, 512}, 100, p)[1].num_blocks, 100);  // never more than the full group
  // A budget of 1000 blocks of the full layers' size and windowed blocks five times
  // as big (5 windowed layers per full one): 1000 >= n + 5 * min(n, 576) → n = 166.
  EXPECT_EQ(FullBlocksWithin({0, 512}, {1, 5}, 1000, 100000, p), 166);
  // Without release every layer is full: 6 per block → 166 as well; with a long
  // context the windowed pool saturates and the rest goes to the full layers.
  EXPECT_EQ(FullBlocksWithin({0}, {6}, 1000, 100000, p), 166);
  EXPECT_EQ(FullBlocksWithin({0, 512}, {1, 5}, 10000, 100000, p), 10000 - 5 * 576);
  EXPECT_EQ(FullBlocksWithin({0}, {6}, 10000, 100000, p), 1666);
  EXPECT_EQ(FullBlocksWithin({0, 512}, {1, 5}, 10000, 500, p), 500);  // capped by what is asked
}

}  // namespace
}  // namespace ax
