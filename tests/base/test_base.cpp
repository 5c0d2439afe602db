#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <vector>

#include "ax/status.h"
#include "base/rng.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace ax {
namespace {

TEST(ThreadPool, EveryIndexVisitedOnceForManySizesAndGrains) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 64, 1000, 4097}) {
      for (int64_t grain : {1, 8, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> calls{0};
        pool.ParallelFor(n, grain, [&](int64_t b, int64_t e) {
          ++calls;
          if (b % grain != 0) ADD_FAILURE() << "chunk start " << b << " not aligned to grain " << grain;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << grain;
        EXPECT_LE(calls.load(), threads);
      }
    }
  }
}

TEST(ThreadPool, BackToBackJobsDoNotLoseWork) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 2000; ++job)
    pool.ParallelFor(16, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 2000 * 16);
}

TEST(ThreadPool, NestedCallRunsInline) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.ParallelFor(4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) pool.ParallelFor(3, 1, [&](int64_t b2, int64_t e2) { inner += static_cast<int>(e2 - b2); });
  });
  EXPECT_EQ(inner.load(), 12);
}

TEST(CounterRng, PureFunctionOfSeedIndexDraw) {
  EXPECT_EQ(CounterRandom(1, 2, 3), CounterRandom(1, 2, 3));
  std::set<uint64_t> seen;
  for (uint64_t s = 0; s < 4; ++s)
    for (uint64_t i = 0; i < 64; ++i)
      for (uint64_t d = 0; d < 4; ++d) seen.insert(CounterRandom(s, i, d));
  EXPECT_EQ(seen.size(), 4u * 64u * 4u);
  double mean = 0;
  for (uint64_t i = 0; i < 10000; ++i) {
    const double u = CounterUniform(42, i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    mean += u;
  }
  EXPECT_NEAR(mean / 10000, 0.5, 0.01);
}

TEST(DType, F16RoundTripsEveryHalfValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(F16ToF32(F32ToF16(f))));
      continue;
    }
    ASSERT_EQ(F32ToF16(f), h) << std::hex << h;
  }
}

TEST(DType, F16RoundsToNearestEven) {
  EXPECT_EQ(F32ToF16(1.0f + 0x1.0p-11f), F32ToF16(1.0f));          // tie → even (1.0)
  EXPECT_EQ(F32ToF16(1.0f + 3 * 0x1.0p-11f), F32ToF16(1.0f + 0x1.0p-9f));  // tie → even
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);                           // rounds to inf
  EXPECT_EQ(F16ToF32(F32ToF16(0x1.0p-24f)), 0x1.0p-24f);           // smallest subnormal
  EXPECT_EQ(F32ToF16(0x1.0p-26f), 0);                               // underflow
}

TEST(DType, Bf16RoundTripAndRounding) {
  for (uint32_t h = 0; h < 0x10000; h += 7) {
    const float f = Bf16ToF32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(F32ToBf16(f), h);
    }
  }
  EXPECT_EQ(F32ToBf16(1.0f + 0x1.0p-8f), F32ToBf16(1.0f));  // tie → even
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(std::nanf("")))));
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 3;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = InvalidArgument("field 'x': expected 1");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), "InvalidArgument: field 'x': expected 1");
  EXPECT_EQ(bad.status().WithPrefix("config.json").message(), "config.json: field 'x': expected 1");
}

}  // namespace
}  // namespace ax
