// The mixture-of-experts kernels: ref::Route (softmax/sigmoid router, top-k, renorm,
// per-expert scales) against a direct computation, and cpu::Moe against ref::Moe at odd
// sizes and every weight dtype, with poisoned outputs; and every row of a batch equal,
// bit for bit, to the row computed alone (prompt rows and generated rows each).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

TEST(RouteTest, SoftmaxTopKRenormalisedAndScaled) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f,   // a tie between experts 1 and 3
                                     3.0f, 0.0f, 0.0f, 1.0f};
  const std::vector<float> scale = {1.0f, 2.0f, 0.5f, 1.0f};
  std::vector<int32_t> ids(4);
  std::vector<float> w(4);
  RouteParams p{logits.data(), 2, 4, 2, true, true, scale.data(), 1.0f, ids.data(), w.data()};
  ref::Route(p);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 3, 0, 3}));
  EXPECT_FLOAT_EQ(w[0], 0.5f * 2.0f);  // two equal probabilities, renormalised
  EXPECT_FLOAT_EQ(w[1], 0.5f * 1.0f);
  const double p0 = std::exp(3.0), p3 = std::exp(1.0);
  EXPECT_NEAR(w[2], p0 / (p0 + p3) * 1.0, 1e-6);
  EXPECT_NEAR(w[3], p3 / (p0 + p3) * 1.0, 1e-6);
  p.softmax = false;
  p.normalize = false;
  p.per_expert_scale = nullptr;
  p.scale = 2.5f;
  ref::Route(p);
  EXPECT_EQ(ids[0], 1);
  EXPECT_NEAR(w[0], 2.5 / (1.0 + std::exp(-2.0)), 1e-6);
}

struct MoeCase {
  int64_t n, hidden, inter;
  int experts, k;
};

TEST(MoeTest, MatchesRefAndRowsAreBatchInvariant) {
  for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
    for (const MoeCase& c : {MoeCase{1, 64, 32, 4, 2}, MoeCase{7, 33, 17, 5, 3}, MoeCase{23, 128, 96, 8, 2}}) {
      SCOPED_TRACE(std::string(DTypeName(dt)) + " n=" + std::to_string(c.n) + " hidden=" + std::to_string(c.hidden));
      const auto gu = testing::RandomWeights(dt, static_cast<size_t>(c.experts * 2 * c.inter * c.hidden), 3);
      const auto dn = testing::RandomWeights(dt, static_cast<size_t>(c.experts * c.hidden * c.inter), 4);
      const std::vector<float> x = testing::RandomF32(static_cast<size_t>(c.n * c.hidden), 5, -2.0f, 2.0f);
      const std::vector<float> logits = testing::RandomF32(static_cast<size_t>(c.n * c.experts), 6, -3.0f, 3.0f);
      std::vector<int32_t> ids(static_cast<size_t>(c.n * c.k));
      std::vector<float> w(ids.size());
      ref::Route(RouteParams{logits.data(), c.n, c.experts, c.k, true, true, nullptr, 1.0f, ids.data(), w.data()});
      MoeParams p;
      p.x = x.data();
      p.n = c.n;
      p.hidden = c.hidden;
      p.inter = c.inter;
      p.ids = ids.data();
      p.weights = w.data();
      p.k = c.k;
      p.num_experts = c.experts;
      p.gate_up = gu.data();
      p.down = dn.data();
      p.w_dtype = dt;
      p.act = GateAct::kGeluTanh;
      p.prompt_rows = c.n / 2;
      std::vector<float> want(static_cast<size_t>(c.n * c.hidden), kPoison);
      p.out = want.data();
      ref::Moe(p);
      for (int threads : testing::kThreadCounts) {
        std::vector<float> got(want.size(), kPoison);
        p.out = got.data();
        cpu::Moe(p, Pool(threads));
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 1e-4 * (1.0 + std::fabs(want[i]))) << "element " << i;
        // Each row alone, in its class, gives the same bits as inside the batch.
        for (int64_t r = 0; r < c.n; ++r) {
          MoeParams one = p;
          one.x = x.data() + r * c.hidden;
          one.ids = ids.data() + r * c.k;
          one.weights = w.data() + r * c.k;
          one.n = 1;
          one.prompt_rows = r < p.prompt_rows ? 1 : 0;
          std::vector<float> alone(static_cast<size_t>(c.hidden), kPoison);
          one.out = alone.data();
          cpu::Moe(one, Pool(threads));
          ASSERT_EQ(std::memcmp(alone.data(), got.data() + r * c.hidden, alone.size() * sizeof(float)), 0)
              << "row " << r << " threads " << threads;
        }
      }
    }
  }
}

// Stacked experts MLX affine-quantized (4-bit gate_up, 6-bit down, group 32): cpu::Moe
// against ref::Moe, and each row alone equal to the batch, prompt and generated rows.
TEST(MoeTest, AffineExpertsMatchRefAndRowsAreBatchInvariant) {
  const int64_t n = 9, hidden = 64, inter = 32;
  const int experts = 4, k = 2;
  const auto gu = testing::RandomAffine(experts * 2 * inter, hidden, 4, 32, DType::kBF16, 41);
  const auto dn = testing::RandomAffine(experts * hidden, inter, 6, 32, DType::kF16, 42);
  const std::vector<float> x = testing::RandomF32(static_cast<size_t>(n * hidden), 43, -2.0f, 2.0f);
  const std::vector<float> logits = testing::RandomF32(static_cast<size_t>(n * experts), 44, -3.0f, 3.0f);
  std::vector<int32_t> ids(static_cast<size_t>(n * k));
  std::vector<float> w(ids.size());
  ref::Route(RouteParams{logits.data(), n, experts, k, true, true, nullptr, 1.0f, ids.data(), w.data()});
  MoeParams p;
  p.x = x.data();
  p.n = n;
  p.hidden = hidden;
  p.inter = inter;
  p.ids = ids.data();
  p.weights = w.data();
  p.k = k;
  p.num_experts = experts;
  p.gate_up = gu.data();
  p.down = dn.data();
  p.w_dtype = DType::kAffine;
  p.gate_up_q = gu.q;
  p.down_q = dn.q;
  p.prompt_rows = 4;
  std::vector<float> want(static_cast<size_t>(n * hidden), kPoison), got(want.size(), kPoison);
  p.out = want.data();
  ref::Moe(p);
  p.out = got.data();
  cpu::Moe(p, Pool(2));
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4 * (1.0 + std::fabs(want[i]))) << i;
  for (int64_t r = 0; r < n; ++r) {
    MoeParams one = p;
    one.x = x.data() + r * hidden;
    one.ids = ids.data() + r * k;
    one.weights = w.data() + r * k;
    one.n = 1;
    one.prompt_rows = r < p.prompt_rows ? 1 : 0;
    std::vector<float> alone(static_cast<size_t>(hidden), kPoison);
    one.out = alone.data();
    cpu::Moe(one, Pool(3));
    ASSERT_EQ(std::memcmp(alone.data(), got.data() + r * hidden, alone.size() * sizeof(float)), 0) << "row " << r;
  }
}

}  // namespace
}  // namespace ax::kernels
