#include <gtest/gtest.h>

#include "kv/kv_manager.h"

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

}  // namespace
}  // namespace ax
