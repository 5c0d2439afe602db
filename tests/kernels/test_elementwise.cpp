// cpu::{RmsNorm, Rope, GatedAct, Softcap, Add, Embedding, KvWrite, RowMass} vs kernels/ref at odd sizes,
// 1/2/3 threads, with poisoned outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;

// |got - want| <= rtol * |want| + atol for every element; reports the first few misses.
void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, double rtol,
                double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;  // untouched poison
    if (!(std::fabs(got[i] - want[i]) <= rtol * std::fabs(want[i]) + atol)) {
      ADD_FAILURE() << what << ": [" << i << "] = " << got[i] << ", want " << want[i];
      ++bad;
    }
  }
}

TEST(RmsNormTest, MatchesRef) {
  for (int64_t d : {1, 7, 33, 1024, 4097}) {
    for (int64_t m : {1, 3, 17}) {
      for (bool fused : {false, true}) {
        for (bool alias : {false, true}) {
          const std::string what = "d=" + std::to_string(d) + " m=" + std::to_string(m) +
                                   " fused=" + std::to_string(fused) + " alias=" + std::to_string(alias);
          const std::vector<float> x0 = testing::RandomF32(m * d, 11 + d, -3.0f, 3.0f);
          const std::vector<float> r0 = testing::RandomF32(m * d, 12 + d, -3.0f, 3.0f);
          const std::vector<float> w = testing::RandomF32(d, 13 + d, 0.5f, 1.5f);
          auto run = [&](auto&& fn, std::vector<float>& x, std::vector<float>& r, std::vector<float>& y) {
            x = x0;
            r = r0;
            y.assign(m * d, kPoison);
            RmsNormParams p;
            p.x = x.data();
            p.residual = fused ? r.data() : nullptr;
            p.w = w.data();
            p.y = alias ? x.data() : y.data();
            p.m = m;
            p.d = d;
            p.eps = 1e-6f;
            fn(p);
            if (alias) y = x;
          };
          std::vector<float> wx, wr, wy;
          run([](const RmsNormParams& p) { ref::RmsNorm(p); }, wx, wr, wy);
          for (int threads : testing::kThreadCounts) {
            std::vector<float> gx, gr, gy;
            run([&](const RmsNormParams& p) { cpu::RmsNorm(p, Pool(threads)); }, gx, gr, gy);
            ExpectNear(gy, wy, 2e-6, 1e-6, what + " y");
            ExpectNear(gr, wr, 0, 0, what + " residual");
            if (!alias) ExpectNear(gx, x0, 0, 0, what + " x untouched");
          }
        }
      }
    }
  }
}

TEST(RopeTest, MatchesRef) {
  struct Case {
    int n_heads, head_dim, rot_dim;
  };
  for (const Case& c : {Case{3, 8, 8}, Case{2, 64, 64}, Case{5, 128, 128}, Case{2, 64, 32},
                        Case{1, 24, 18}}) {
    for (int64_t n_tokens : {1, 7, 33}) {
      const std::string what = "heads=" + std::to_string(c.n_heads) + " hd=" +
                               std::to_string(c.head_dim) + " rot=" + std::to_string(c.rot_dim) +
                               " tokens=" + std::to_string(n_tokens);
      const int64_t size = n_tokens * c.n_heads * c.head_dim;
      const std::vector<float> x0 = testing::RandomF32(size, 21 + size);
      std::vector<int32_t> pos(n_tokens);
      for (int64_t t = 0; t < n_tokens; ++t) pos[t] = static_cast<int32_t>((t * 7919 + 3) % 40000);
      std::vector<float> inv_freq(c.rot_dim / 2);
      for (int i = 0; i < c.rot_dim / 2; ++i) {
        inv_freq[i] = static_cast<float>(1.0 / std::pow(1e6, 2.0 * i / c.rot_dim));
      }
      RopeParams p;
      p.positions = pos.data();
      p.inv_freq = inv_freq.data();
      p.n_tokens = n_tokens;
      p.n_heads = c.n_heads;
      p.head_dim = c.head_dim;
      p.rot_dim = c.rot_dim;
      std::vector<float> want = x0;
      p.x = want.data();
      ref::Rope(p);
      for (int threads : testing::kThreadCounts) {
        std::vector<float> got = x0;
        p.x = got.data();
        cpu::Rope(p, Pool(threads));
        ExpectNear(got, want, 1e-6, 1e-6, what);
      }
    }
  }
}

TEST(GatedActTest, MatchesRef) {
  for (GateAct act : {GateAct::kSilu, GateAct::kGeluTanh}) {
    for (int64_t f : {1, 7, 33, 257, 3072}) {
      for (int64_t m : {1, 5, 17}) {
        // Wide range so the tails (exp overflow clamp, large negative inputs, tanh
        // saturation) are hit.
        const std::vector<float> gu = testing::RandomF32(m * 2 * f, 31 + f, -30.0f, 30.0f);
        GatedActParams p;
        p.gate_up = gu.data();
        p.m = m;
        p.f = f;
        p.act = act;
        std::vector<float> want(m * f, kPoison);
        p.out = want.data();
        ref::GatedAct(p);
        for (int threads : testing::kThreadCounts) {
          std::vector<float> got(m * f, kPoison);
          p.out = got.data();
          cpu::GatedAct(p, Pool(threads));
          ExpectNear(got, want, 2e-6, 1e-6,
                     std::string(GateActName(act)) + " f=" + std::to_string(f) + " m=" + std::to_string(m));
        }
      }
    }
  }
}

TEST(SoftcapTest, MatchesRef) {
  for (int64_t n : {1, 7, 33, 4097}) {
    for (float cap : {30.0f, 50.0f}) {
      const std::vector<float> x = testing::RandomF32(n, 7 + n, -200.0f, 200.0f);
      std::vector<float> want = x, got = x;
      ref::Softcap(SoftcapParams{want.data(), n, cap});
      for (int threads : testing::kThreadCounts) {
        got = x;
        cpu::Softcap(SoftcapParams{got.data(), n, cap}, Pool(threads));
        ExpectNear(got, want, 1e-6, 1e-5, "n=" + std::to_string(n));
      }
    }
  }
}

TEST(AddTest, MatchesRef) {
  for (int64_t n : {1, 7, 33, 4097}) {
    const std::vector<float> x = testing::RandomF32(n, 3 + n, -2.0f, 2.0f);
    const std::vector<float> y = testing::RandomF32(n, 5 + n, -2.0f, 2.0f);
    std::vector<float> want = y;
    ref::Add(AddParams{x.data(), want.data(), n});
    for (int threads : testing::kThreadCounts) {
      std::vector<float> got = y;
      cpu::Add(AddParams{x.data(), got.data(), n}, Pool(threads));
      EXPECT_EQ(got, want) << "n=" << n;
    }
  }
}

// Within the 1e-5 the sampler allows (Backend::kRowMassRelError), with -inf entries,
// peaked and flat rows, and the best value read at a stride (as from TopRows' vals).
TEST(RowMassTest, MatchesRefWithinTheSamplersBound) {
  for (int64_t n : {1, 9, 1000, 151936}) {
    for (int64_t rows : {1, 3}) {
      std::vector<float> x = testing::RandomF32(rows * n, 41 + n, -12.0f, 12.0f);
      std::vector<float> best(static_cast<size_t>(rows) * 4, kPoison), inv_t(rows);
      for (int64_t r = 0; r < rows; ++r) {
        if (n > 5) x[static_cast<size_t>(r * n + 5)] = -INFINITY;
        best[static_cast<size_t>(r * 4)] = *std::max_element(x.begin() + r * n, x.begin() + (r + 1) * n);
        inv_t[static_cast<size_t>(r)] = r == 0 ? 1.0f : (r == 1 ? 1.0f / 0.3f : 1.0f / 1.7f);
      }
      RowMassParams p;
      p.x = x.data();
      p.best = best.data();
      p.best_stride = 4;
      p.inv_t = inv_t.data();
      p.rows = rows;
      p.n = n;
      std::vector<float> want(rows, kPoison);
      p.mass = want.data();
      ref::RowMass(p);
      for (int threads : testing::kThreadCounts) {
        std::vector<float> got(rows, kPoison);
        p.mass = got.data();
        cpu::RowMass(p, Pool(threads));
        ExpectNear(got, want, 1e-6, 0.0, "n=" + std::to_string(n) + " rows=" + std::to_string(rows));
      }
    }
  }
}

TEST(EmbeddingTest, MatchesRefAllDtypes) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (int64_t d : {1, 7, 33, 1024}) {
      const int64_t vocab = 37;
      const testing::Weights table = testing::RandomWeights(dt, vocab * d, 41 + d);
      const std::vector<int32_t> ids = {36, 0, 5, 5, 17, 1, 36};
      EmbeddingParams p;
      p.table = table.data();
      p.table_dtype = dt;
      p.ids = ids.data();
      p.n = static_cast<int64_t>(ids.size());
      p.d = d;
      p.vocab = vocab;
      std::vector<float> want(p.n * d, kPoison);
      p.out = want.data();
      ref::Embedding(p);
      for (int threads : testing::kThreadCounts) {
        std::vector<float> got(p.n * d, kPoison);
        p.out = got.data();
        cpu::Embedding(p, Pool(threads));
        ExpectNear(got, want, 0, 0, std::string(DTypeName(dt)) + " d=" + std::to_string(d));
      }
    }
  }
}

// Each layout and cache dtype; bf16 rounds to the bits of ref (F32ToBf16), including
// values that round up across a power of two and a NaN.
TEST(KvWriteTest, WritesOnlyMappedSlots) {
  for (KvLayout layout : {KvLayout::kHeadMajor, KvLayout::kSlotMajor}) {
    for (DType dtype : {DType::kF32, DType::kBF16}) {
      for (int head_dim : {8, 13, 128}) {
        SCOPED_TRACE(std::string(layout == KvLayout::kHeadMajor ? "head-major " : "slot-major ") + DTypeName(dtype) +
                     " hd=" + std::to_string(head_dim));
        const int n_kv = 3, n_blocks = 5, block_size = 4;
        const int64_t row = static_cast<int64_t>(n_kv) * head_dim;
        const std::vector<int32_t> slots = {17, 2, -1, 19, 0, 8, 9};  // scrambled, one padding
        const int64_t n = static_cast<int64_t>(slots.size());
        std::vector<float> k = testing::RandomF32(n * row, 51 + head_dim);
        const std::vector<float> v = testing::RandomF32(n * row, 52 + head_dim);
        k[1] = 1.99999988f;  // rounds up to 2 in bf16
        k[2] = std::nanf("");
        KvWriteParams p;
        p.k = k.data();
        p.v = v.data();
        p.slot_mapping = slots.data();
        p.n_tokens = n;
        p.n_kv_heads = n_kv;
        p.head_dim = head_dim;
        p.block_size = block_size;
        p.layout = layout;
        p.cache_dtype = dtype;
        const size_t cache = static_cast<size_t>(n_blocks) * block_size * row;
        const size_t bytes = cache * DTypeSize(dtype);
        // Raw bytes poisoned with 0xff (a NaN in both dtypes).
        std::vector<uint8_t> wk(bytes, 0xff), wv(bytes, 0xff);
        p.k_cache = wk.data();
        p.v_cache = wv.data();
        ref::KvWrite(p);
        for (int threads : testing::kThreadCounts) {
          std::vector<uint8_t> gk(bytes, 0xff), gv(bytes, 0xff);
          p.k_cache = gk.data();
          p.v_cache = gv.data();
          cpu::KvWrite(p, Pool(threads));
          EXPECT_EQ(gk, wk) << "threads=" << threads;
          EXPECT_EQ(gv, wv) << "threads=" << threads;
          // 6 real tokens; the rest of the cache untouched (k's one NaN counted as unwritten).
          int written = 0;
          for (size_t i = 0; i < bytes; i += DTypeSize(dtype))
            written +=
                std::any_of(gv.begin() + i, gv.begin() + i + DTypeSize(dtype), [](uint8_t b) { return b != 0xff; });
          EXPECT_EQ(written, 6 * row);
        }
      }
    }
  }
}

TEST(CpuFeaturesTest, ReportsAvx2Fma) {
  // The test machines have AVX2/FMA/F16C (the kernels above would have faulted otherwise).
  EXPECT_TRUE(cpu::CpuHasAvx2Fma());
}

}  // namespace
}  // namespace ax::kernels
