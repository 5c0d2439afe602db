// Backend::ArgmaxRows and Backend::TopRows on the CPU backend (the host defaults): the
// lowest index on ties, NaN never chosen ahead of a number, -inf rows, odd lengths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "backend/backend.h"

namespace ax {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TensorView View(std::vector<float>& v, int64_t rows) {
  return TensorView{v.data(), DType::kF32, Shape{rows, static_cast<int64_t>(v.size()) / rows}, Device::kCpu};
}

TEST(RowSelect, ArgmaxRowsTiesNanAndInfinities) {
  auto be = CreateBackend("cpu", BackendOptions{});
  ASSERT_TRUE(be.ok());
  const std::vector<std::vector<float>> rows = {
      {1, 3, 3, 2},                 // tie: the lower index
      {kNan, 1, 5, kNan},           // NaN never wins
      {kNan, kNan, kNan, kNan},     // all NaN: 0
      {-kInf, -kInf, kNan, -kInf},  // only -inf: the first
      {0, 0, 0, 0},
  };
  std::vector<float> x;
  for (const auto& r : rows) x.insert(x.end(), r.begin(), r.end());
  std::vector<int32_t> ids(rows.size(), -1);
  (*be)->ArgmaxRows(View(x, static_cast<int64_t>(rows.size())),
                    TensorView{ids.data(), DType::kI32, Shape{static_cast<int64_t>(rows.size())}, Device::kCpu});
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 2, 0, 0, 0}));

  // Lengths around the vector width, the maximum at every position.
  for (int64_t n : {1, 15, 16, 17, 100}) {
    for (int64_t at = 0; at < n; ++at) {
      std::vector<float> row(static_cast<size_t>(n), 0.5f);
      row[static_cast<size_t>(at)] = 2.0f;
      int32_t id = -1;
      (*be)->ArgmaxRows(View(row, 1), TensorView{&id, DType::kI32, Shape{1}, Device::kCpu});
      ASSERT_EQ(id, at) << "n " << n;
    }
  }
}

TEST(RowSelect, TopRowsIsTheCanonicalOrder) {
  auto be = CreateBackend("cpu", BackendOptions{});
  ASSERT_TRUE(be.ok());
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> small(0, 20);     // many ties
  std::normal_distribution<float> spread(0.0f, 3.0f);  // few ties: most blocks passed over
  for (int64_t n : {int64_t{500}, int64_t{4099}}) {
    const int64_t rows = 3;
    std::vector<float> x(static_cast<size_t>(rows * n));
    for (float& v : x) v = n == 500 ? static_cast<float>(small(rng)) : spread(rng);
    x[3] = kNan;
    x[static_cast<size_t>(n + 4)] = -kInf;
    for (int k : {1, 7, 64}) {
      std::vector<int32_t> ids(static_cast<size_t>(rows * k));
      std::vector<float> vals(ids.size());
      (*be)->TopRows(View(x, rows), k, TensorView{ids.data(), DType::kI32, Shape{rows, k}, Device::kCpu},
                     TensorView{vals.data(), DType::kF32, Shape{rows, k}, Device::kCpu});
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = x.data() + r * n;
        std::vector<int32_t> order(static_cast<size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
          if (std::isnan(row[a]) != std::isnan(row[b])) return std::isnan(row[b]);
          return row[a] > row[b];
        });
        for (int i = 0; i < k; ++i) {
          EXPECT_EQ(ids[static_cast<size_t>(r * k + i)], order[static_cast<size_t>(i)]) << "k " << k << " row " << r;
          EXPECT_EQ(vals[static_cast<size_t>(r * k + i)], row[order[static_cast<size_t>(i)]]);
        }
      }
    }
  }
}

}  // namespace
}  // namespace ax
