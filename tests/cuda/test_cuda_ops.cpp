// Every CUDA op (through the Backend interface) against the scalar oracle
// kernels/ref at odd sizes, outputs poisoned with NaN first. Ops on activations run
// for both precisions (CudaOpsP): bf16 tolerances, and f32 ones in the f32 mode; bf16
// twice, with generated rows on the row GEMM (the default) and on the GEMV (a backend
// made for a single sequence).
#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>

#include "cuda_test_util.h"
#include "cuda/staged_batch.h"
#include "kernels/ref/ref.h"

namespace ax::cuda_testing {
namespace {

// One sequence of n tokens at positions [start, start + n), slots 0..n-1.
StagedBatch OneSeq(int64_t n, int32_t start = 0) {
  StagedBatch s;
  for (int64_t t = 0; t < n; ++t) {
    s.tokens.push_back(static_cast<int32_t>((t * 7 + 3) % 37));
    s.positions.push_back(start + static_cast<int32_t>(t));
    s.slots.push_back(static_cast<int32_t>(t));
  }
  s.q_len = {static_cast<int32_t>(n)};
  s.tables = {0};
  return s;
}

// Ops on activations, once per backend: bf16 (generated rows on the row GEMM where the
// device has it), bf16 with the GEMV, and the f32 mode.
enum class OpsMode { kBf16, kBf16Gemv, kF32 };
class CudaOpsP : public testing::TestWithParam<OpsMode> {
 protected:
  bool F32() const { return GetParam() == OpsMode::kF32; }
  Backend& Be() const { return F32() ? *CudaF32() : GetParam() == OpsMode::kBf16Gemv ? *CudaGemv() : *Cuda(); }
  DType Act() const { return F32() ? DType::kF32 : DType::kBF16; }
  double Tol() const { return F32() ? kF32Tol : kBf16Tol; }
  // Activation inputs: bf16 values for bf16; full f32 values otherwise (so that the
  // f32 mode's split GEMMs see a nonzero low half).
  std::vector<float> Input(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) const {
    return F32() ? Random(n, seed, lo, hi) : RandomBf16(n, seed, lo, hi);
  }
};
INSTANTIATE_TEST_SUITE_P(Precisions, CudaOpsP, testing::Values(OpsMode::kBf16, OpsMode::kBf16Gemv, OpsMode::kF32),
                         [](const testing::TestParamInfo<OpsMode>& i) {
                           return i.param == OpsMode::kF32 ? "f32" : i.param == OpsMode::kBf16Gemv ? "bf16_gemv" : "bf16";
                         });

TEST_P(CudaOpsP, Embedding) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int64_t d : {8, 13, 4096}) {
    const int64_t vocab = 37, n = 7;
    const std::vector<float> table = RandomBf16(static_cast<size_t>(vocab * d), 1);
    TensorView t = ToDevice(be, table, DType::kBF16, Shape{vocab, d});
    TensorView out = Poisoned(be, Act(), Shape{n, d});
    StagedBatch s = OneSeq(n);
    ASSERT_TRUE(be.BeginForward(s.meta()).ok());
    be.Embedding(t, 1.0f, out);
    std::vector<float> want(static_cast<size_t>(n * d));
    kernels::EmbeddingParams p{table.data(), DType::kF32, s.tokens.data(), want.data(), n, d, vocab, 1.0f, {}};
    kernels::ref::Embedding(p);
    EXPECT_EQ(ToHost(be, out), want) << "d " << d;
  }
}

TEST_P(CudaOpsP, RmsNorm) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int64_t m : {1, 7, 33}) {
    for (int64_t d : {8, 64, 128, 172, 1000, 4096, 4097, 8192}) {
      const std::vector<float> x = Input(static_cast<size_t>(m * d), 2, -3.0f, 3.0f);
      const std::vector<float> w = Random(static_cast<size_t>(d), 3, 0.5f, 1.5f);
      TensorView xd = ToDevice(be, x, Act(), Shape{m, d});
      TensorView wd = ToDevice(be, w, DType::kF32, Shape{d});
      TensorView yd = Poisoned(be, Act(), Shape{m, d});
      be.RmsNorm(xd, wd, 1e-6f, yd);
      std::vector<float> want(x.size());
      kernels::RmsNormParams p{x.data(), nullptr, w.data(), want.data(), m, d, 1e-6f};
      kernels::ref::RmsNorm(p);
      EXPECT_LT(RelError(ToHost(be, yd), want), Tol()) << "m " << m << " d " << d;
      be.RmsNorm(xd, wd, 1e-6f, xd);  // in place
      EXPECT_LT(RelError(ToHost(be, xd), want), Tol()) << "in place, m " << m << " d " << d;
    }
  }
}

TEST_P(CudaOpsP, Matmul) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  const std::pair<int64_t, int64_t> nks[] = {{7, 64}, {33, 172}, {4097, 128}, {256, 4096}, {3, 8}};
  for (int64_t m : {1, 2, 3, 5, 8, 9, 33}) {
    for (auto [n, k] : nks) {
      for (DType out_dt : {DType::kBF16, DType::kF32}) {
        if (F32() && out_dt == DType::kBF16) continue;  // f32 activations write f32
        for (bool acc : {false, true}) {
         for (int64_t split : {int64_t{0}, m / 2, m}) {  // rows [0, split) prompt class, the rest generated
          const std::vector<float> x = Input(static_cast<size_t>(m * k), 4);
          const std::vector<float> w = RandomBf16(static_cast<size_t>(n * k), 5);
          const std::vector<float> y0 = RandomBf16(static_cast<size_t>(m * n), 6);
          TensorView xd = ToDevice(be, x, Act(), Shape{m, k});
          auto wr = be.UploadWeight(TensorView{const_cast<float*>(w.data()), DType::kF32, Shape{n, k}, Device::kCpu},
                                    DType::kF32);  // f32 checkpoint: converted to bf16
          ASSERT_TRUE(wr.ok());
          ASSERT_EQ(wr->dtype, DType::kBF16);
          TensorView yd = acc ? ToDevice(be, y0, out_dt, Shape{m, n}) : Poisoned(be, out_dt, Shape{m, n});
          be.Matmul(xd, *wr, yd, acc, split);
          const std::vector<float> want = RefMatmul(x, w, m, n, k, acc ? &y0 : nullptr);
          const double tol = out_dt == DType::kF32 ? 1e-4 : kBf16Tol;
          EXPECT_LT(RelError(ToHost(be, yd), want), tol)
              << "m " << m << " n " << n << " k " << k << " out " << DTypeName(out_dt) << " acc " << acc
              << " split " << split;
         }
        }
      }
    }
  }
}

// A generated row's bits do not depend on how many rows share its launch (the kernel
// is chosen by the backend and the matrix alone), narrow (split-k) and wide matrices
// alike.
TEST_P(CudaOpsP, MatmulRowsAreBatchInvariant) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (auto [n, k] : {std::pair<int64_t, int64_t>{1024, 4096}, {4096, 1024}, {33, 172}}) {
    const int64_t m = 8;
    const std::vector<float> x = Input(static_cast<size_t>(m * k), 21);
    const std::vector<float> w = RandomBf16(static_cast<size_t>(n * k), 22);
    TensorView wd = ToDevice(be, w, DType::kBF16, Shape{n, k});
    TensorView xd = ToDevice(be, x, Act(), Shape{m, k});
    TensorView all = Poisoned(be, Act(), Shape{m, n});
    be.Matmul(xd, wd, all, false, 0);
    const std::vector<float> batched = ToHost(be, all);
    for (int64_t rows : {1, 2, 3, 5}) {
      const std::vector<float> xs(x.end() - rows * k, x.end());  // the last `rows` rows
      TensorView part = Poisoned(be, Act(), Shape{rows, n});
      be.Matmul(ToDevice(be, xs, Act(), Shape{rows, k}), wd, part, false, 0);
      EXPECT_EQ(ToHost(be, part), std::vector<float>(batched.end() - rows * n, batched.end()))
          << "n " << n << " k " << k << " rows " << rows;
    }
  }
}

// q/k/v-like matrices of one input: the fused GEMV (generated rows) and the per-matrix
// fallbacks (k % 8 != 0, prompt rows through cuBLAS) against the oracle; a generated
// row's bits do not depend on how many rows share the launch.
TEST_P(CudaOpsP, MatmulGroup) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int64_t k : {int64_t{64}, int64_t{4096}, int64_t{172}}) {
    const int64_t ns[] = {96, 32, 33};
    std::vector<std::vector<float>> ws;
    std::vector<TensorView> wd;
    for (int i = 0; i < 3; ++i) {
      ws.push_back(RandomBf16(static_cast<size_t>(ns[i] * k), 30 + i));
      wd.push_back(ToDevice(be, ws.back(), DType::kBF16, Shape{ns[i], k}));
    }
    for (int64_t m : {1, 3, 8, 9, 17}) {
      const std::vector<float> x = Input(static_cast<size_t>(m * k), 33);
      TensorView xd = ToDevice(be, x, Act(), Shape{m, k});
      for (int64_t split : {int64_t{0}, m / 2}) {
        std::vector<TensorView> yd;
        for (int i = 0; i < 3; ++i) yd.push_back(Poisoned(be, Act(), Shape{m, ns[i]}));
        be.MatmulGroup(xd, wd, yd, split);
        for (int i = 0; i < 3; ++i) {
          std::vector<float> want(static_cast<size_t>(m * ns[i]));
          kernels::MatmulParams p;
          p.x = x.data();
          p.w = ws[i].data();
          p.y = want.data();
          p.m = m;
          p.n = ns[i];
          p.k = k;
          kernels::ref::Matmul(p);
          EXPECT_LT(RelError(ToHost(be, yd[i]), want), Tol())
              << "k " << k << " m " << m << " split " << split << " matrix " << i;
        }
        if (split != 0 || m < 3) continue;
        // The last `rows` generated rows alone give the same bits.
        for (int64_t rows : {int64_t{1}, int64_t{3}}) {
          const std::vector<float> xs(x.end() - rows * k, x.end());
          std::vector<TensorView> part;
          for (int i = 0; i < 3; ++i) part.push_back(Poisoned(be, Act(), Shape{rows, ns[i]}));
          be.MatmulGroup(ToDevice(be, xs, Act(), Shape{rows, k}), wd, part, 0);
          for (int i = 0; i < 3; ++i) {
            const std::vector<float> all = ToHost(be, yd[i]);
            EXPECT_EQ(ToHost(be, part[i]), std::vector<float>(all.end() - rows * ns[i], all.end()))
                << "k " << k << " m " << m << " rows " << rows << " matrix " << i;
          }
        }
      }
    }
  }
}

TEST_P(CudaOpsP, Rope) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int hd : {8, 64, 128}) {
    const int64_t n = 7;
    const int heads = 3;
    std::vector<float> inv(static_cast<size_t>(hd / 2));
    for (int i = 0; i < hd / 2; ++i) inv[static_cast<size_t>(i)] = std::pow(1e6f, -2.0f * i / hd);
    StagedBatch s = OneSeq(n);
    for (int64_t t = 0; t < n; ++t) s.positions[static_cast<size_t>(t)] = static_cast<int32_t>(t * 613 % 5000);
    const std::vector<float> x = Input(static_cast<size_t>(n * heads * hd), 7);
    TensorView xd = ToDevice(be, x, Act(), Shape{n, heads * hd});
    TensorView invd = ToDevice(be, inv, DType::kF32, Shape{hd / 2});
    ASSERT_TRUE(be.BeginForward(s.meta()).ok());
    be.Rope(xd, heads, hd, invd);
    std::vector<float> want = x;
    kernels::RopeParams p{want.data(), s.positions.data(), inv.data(), n, heads, hd, hd};
    kernels::ref::Rope(p);
    EXPECT_LT(RelError(ToHost(be, xd), want), Tol()) << "head_dim " << hd;
  }
}

TEST_P(CudaOpsP, GatedAct) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (GateAct act : {GateAct::kSilu, GateAct::kGeluTanh}) {
    for (int64_t m : {1, 7}) {
      for (int64_t f : {8, 13, 4096}) {
        const std::vector<float> gu = Input(static_cast<size_t>(m * 2 * f), 8, -6.0f, 6.0f);
        TensorView gud = ToDevice(be, gu, Act(), Shape{m, 2 * f});
        TensorView out = Poisoned(be, Act(), Shape{m, f});
        be.GatedAct(gud, out, act);
        std::vector<float> want(static_cast<size_t>(m * f));
        kernels::GatedActParams p{gu.data(), want.data(), m, f, act};
        kernels::ref::GatedAct(p);
        EXPECT_LT(RelError(ToHost(be, out), want), Tol()) << GateActName(act) << " m " << m << " f " << f;
      }
    }
  }
}

TEST_P(CudaOpsP, AddAndSoftcap) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int64_t n : {1, 7, 4097}) {
    const std::vector<float> x = Input(static_cast<size_t>(n), 9), y = Input(static_cast<size_t>(n), 10);
    TensorView yd = ToDevice(be, y, Act(), Shape{1, n});
    be.Add(ToDevice(be, x, Act(), Shape{1, n}), yd);
    std::vector<float> want = y;
    kernels::ref::Add(kernels::AddParams{x.data(), want.data(), n});
    EXPECT_LT(RelError(ToHost(be, yd), want), Tol()) << "add n " << n;
    const std::vector<float> logits = Input(static_cast<size_t>(n), 11, -100.0f, 100.0f);
    TensorView ld = ToDevice(be, logits, DType::kF32, Shape{1, n});
    be.Softcap(ld, 30.0f);
    std::vector<float> capped = logits;
    kernels::ref::Softcap(kernels::SoftcapParams{capped.data(), n, 30.0f});
    EXPECT_LT(RelError(ToHost(be, ld), capped), 1e-6) << "softcap n " << n;
  }
}

// The fused gate/up GEMV + SiLU gives the bits of Matmul then GatedAct for every class
// of row (prompt rows keep the unfused path), including shapes it does not serve.
TEST_P(CudaOpsP, MatmulGatedActEqualsSeparateOps) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (auto [f, k] : {std::pair<int64_t, int64_t>{64, 128}, {1536, 4096}, {13, 64}, {8, 172}}) {
    const std::vector<float> w = RandomBf16(static_cast<size_t>(2 * f * k), 50);
    TensorView wd = ToDevice(be, w, DType::kBF16, Shape{2 * f, k});
    for (int64_t m : {1, 5, 8, 11}) {
      const std::vector<float> x = Input(static_cast<size_t>(m * k), 51);
      TensorView xd = ToDevice(be, x, Act(), Shape{m, k});
      for (int64_t split : {int64_t{0}, m / 2}) {
        TensorView gu = Poisoned(be, Act(), Shape{m, 2 * f});
        TensorView want = Poisoned(be, Act(), Shape{m, f});
        be.Matmul(xd, wd, gu, false, split);
        be.GatedAct(gu, want, GateAct::kSilu);
        TensorView scratch = Poisoned(be, Act(), Shape{m, 2 * f});
        TensorView got = Poisoned(be, Act(), Shape{m, f});
        be.MatmulGatedAct(xd, wd, scratch, got, GateAct::kSilu, split);
        EXPECT_EQ(ToHost(be, got), ToHost(be, want)) << "f " << f << " k " << k << " m " << m << " split " << split;
      }
    }
  }
}

TEST_P(CudaOpsP, KvWriteSkipsPaddingSlots) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int hd : {12, 128}) {
    const int nkv = 2, bs = 4, blocks = 5;
    const int64_t n = 7, row = nkv * hd, slots = blocks * bs;
    StagedBatch s = OneSeq(n);
    s.slots = {17, 3, -1, 0, 19, 8, 9};
    const std::vector<float> k = Input(static_cast<size_t>(n * row), 9);
    const std::vector<float> v = Input(static_cast<size_t>(n * row), 10);
    const std::vector<float> cache0 = Input(static_cast<size_t>(slots * row), 11);
    KvLayerView cache;
    cache.block_size = bs;
    cache.k = ToDevice(be, cache0, Act(), Shape{blocks, bs, nkv, hd});
    cache.v = ToDevice(be, cache0, Act(), Shape{blocks, bs, nkv, hd});
    ASSERT_TRUE(be.BeginForward(s.meta()).ok());
    be.KvWrite(ToDevice(be, k, Act(), Shape{n, row}), ToDevice(be, v, Act(), Shape{n, row}), cache,
               nkv, hd);
    std::vector<float> want_k = cache0, want_v = cache0;
    kernels::KvWriteParams p{k.data(), v.data(), want_k.data(), want_v.data(), s.slots.data(), n, nkv, hd};
    kernels::ref::KvWrite(p);
    EXPECT_EQ(ToHost(be, cache.k), want_k) << "head_dim " << hd;
    EXPECT_EQ(ToHost(be, cache.v), want_v) << "head_dim " << hd;
  }
}

// Two sequences in one batch (a prefill chunk and a decode), scrambled block tables,
// then single decode rows at positions around tile and block boundaries (split-K).
struct AttnCase {
  int heads, kv_heads, hd, block_size;
  int window = 0;
  float softcap = 0.0f;
};

// f32: the backend runs the f32 precision mode (f32 q, cache and output, f32 inputs).
// released (windowed cases): the layer is in KV group 1, whose table entries behind
// each sequence's window are ids far outside the cache (released blocks: a kernel that
// read one would fault); group 0 holds the whole tables.
void RunAttention(Backend& be, bool f32, const AttnCase& c, const std::vector<std::pair<int32_t, int32_t>>& seqs,
                  uint32_t seed, int64_t prompt_rows = 0, bool released = false) {
  const DType act = f32 ? DType::kF32 : DType::kBF16;
  const auto input = [f32](size_t n, uint32_t sd, float lo, float hi) {
    return f32 ? Random(n, sd, lo, hi) : RandomBf16(n, sd, lo, hi);
  };
  // seqs: (first query position, number of query tokens); keys 0..last position.
  const int64_t row = static_cast<int64_t>(c.kv_heads) * c.hd;
  int32_t max_pos = 0;
  for (auto [start, n] : seqs) max_pos = std::max(max_pos, start + n - 1);
  const int per_seq = (max_pos + 1 + c.block_size - 1) / c.block_size;
  const int blocks = per_seq * static_cast<int>(seqs.size());
  StagedBatch s;
  s.q_begin.clear();
  std::vector<int32_t> order(static_cast<size_t>(blocks));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  for (size_t i = 0; i < seqs.size(); ++i) {
    s.q_begin.push_back(static_cast<int32_t>(s.tokens.size()));
    s.q_len.push_back(seqs[i].second);
    for (int32_t t = 0; t < seqs[i].second; ++t) {
      s.tokens.push_back(0);
      s.positions.push_back(seqs[i].first + t);
      s.slots.push_back(-1);
    }
    for (int b = 0; b < per_seq; ++b) s.tables.push_back(order[i * static_cast<size_t>(per_seq) + static_cast<size_t>(b)]);
  }
  const int64_t n = static_cast<int64_t>(s.tokens.size());
  s.prefill_rows = prompt_rows;
  const std::vector<int32_t> whole = s.tables;
  if (released) {
    s.groups = 2;
    s.slots.insert(s.slots.end(), s.slots.begin(), s.slots.end());
    for (size_t i = 0; i < seqs.size(); ++i) {
      const int first_block = std::max(0, seqs[i].first - c.window + 1) / c.block_size;
      for (int b = 0; b < first_block; ++b) s.tables.push_back(1 << 30);
      for (int b = first_block; b < per_seq; ++b) s.tables.push_back(whole[i * static_cast<size_t>(per_seq) + b]);
    }
  }
  const std::vector<float> q = input(static_cast<size_t>(n * c.heads * c.hd), seed + 1, -2.0f, 2.0f);
  const std::vector<float> kc = input(static_cast<size_t>(blocks * c.block_size * row), seed + 2, -2.0f, 2.0f);
  const std::vector<float> vc = input(kc.size(), seed + 3, -1.0f, 1.0f);
  KvLayerView cache;
  cache.block_size = c.block_size;
  cache.group = released ? 1 : 0;
  cache.k = ToDevice(be, kc, act, Shape{blocks, c.block_size, c.kv_heads, c.hd});
  cache.v = ToDevice(be, vc, act, Shape{blocks, c.block_size, c.kv_heads, c.hd});
  TensorView qd = ToDevice(be, q, act, Shape{n, c.heads * c.hd});
  TensorView out = Poisoned(be, act, Shape{n, c.heads * c.hd});
  ASSERT_TRUE(be.BeginForward(s.meta()).ok());
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
  be.Attention(qd, cache, AttentionShape{c.heads, c.kv_heads, c.hd, c.window, scale, c.softcap}, out);
  std::vector<float> want(q.size());
  kernels::AttentionParams p;
  p.q = q.data();
  p.k_cache = kc.data();
  p.v_cache = vc.data();
  p.out = want.data();
  p.positions = s.positions.data();
  p.seq_q_begin = s.q_begin.data();
  p.seq_q_len = s.q_len.data();
  p.block_tables = whole.data();
  p.n_seqs = static_cast<int>(seqs.size());
  p.max_blocks_per_seq = per_seq;
  p.n_heads = c.heads;
  p.n_kv_heads = c.kv_heads;
  p.head_dim = c.hd;
  p.block_size = c.block_size;
  p.scale = scale;
  p.window = c.window;
  p.softcap = c.softcap;
  kernels::ref::Attention(p);
  EXPECT_LT(RelError(ToHost(be, out), want), f32 ? kF32Tol : kBf16Tol)
      << "heads " << c.heads << "/" << c.kv_heads << " hd " << c.hd << " bs " << c.block_size << " window " << c.window
      << " softcap " << c.softcap << " first seq ("
      << seqs[0].first << ", " << seqs[0].second << ") prompt rows " << prompt_rows << " released " << released;
}

// A windowed layer's KV group gives back the blocks behind the window (docs/kv-layout.md):
// the per-token and decode kernels read the layer's own group's table and never an
// entry before the window's first block.
TEST_P(CudaOpsP, AttentionWindowGroupNeverReadsReleasedBlocks) {
  AX_REQUIRE_CUDA();
  const AttnCase cases[] = {{4, 1, 256, 16, 512, 0.0f}, {8, 4, 256, 16, 7, 50.0f}, {4, 2, 64, 16, 33, 0.0f},
                            {4, 2, 64, 5, 40, 0.0f}, {2, 1, 256, 16, 1, 0.0f}};
  uint32_t seed = 900;
  for (const AttnCase& c : cases) {
    for (bool prompt : {true, false}) {
      RunAttention(Be(), F32(), c, {{45, 37}, {700, 1}}, seed++, prompt ? 37 : 0, /*released=*/true);
      RunAttention(Be(), F32(), c, {{600, 70}, {1000, 100}}, seed++, prompt ? 170 : 0, /*released=*/true);
    }
    for (int32_t pos : {6, 31, 600, 3000}) RunAttention(Be(), F32(), c, {{pos, 1}}, seed++, 0, /*released=*/true);
    RunAttention(Be(), F32(), c, {{2000, 5}}, seed++, 0, /*released=*/true);  // draft verification rows
  }
}

// Gemma's layers: sliding windows (shorter than, across and longer than the context),
// softcapped scores and head_dim 256, through the per-token (prompt rows) and decode
// (generated rows, split-K over the window) kernels.
TEST_P(CudaOpsP, AttentionSlidingWindowSoftcapAndHeadDim256) {
  AX_REQUIRE_CUDA();
  const AttnCase cases[] = {{4, 1, 256, 16, 512, 0.0f}, {8, 4, 256, 16, 7, 50.0f}, {4, 2, 64, 16, 33, 0.0f},
                            {8, 2, 128, 16, 0, 50.0f},  {16, 2, 256, 5, 0, 0.0f}, {2, 1, 256, 16, 1, 0.0f}};
  uint32_t seed = 300;
  for (const AttnCase& c : cases) {
    for (bool prompt : {true, false}) {
      RunAttention(Be(), F32(), c, {{5, 37}, {700, 1}}, seed++, prompt ? 37 : 0);
      RunAttention(Be(), F32(), c, {{0, 70}, {10, 100}}, seed++, prompt ? 170 : 0);
    }
    for (int32_t pos : {0, 6, 31, 600, 3000}) RunAttention(Be(), F32(), c, {{pos, 1}}, seed++);
    RunAttention(Be(), F32(), c, {{40, 1}, {900, 1}, {3, 1}}, seed++);  // batched decode
  }
}

TEST_P(CudaOpsP, AttentionPrefillAndDecodeBatch) {
  AX_REQUIRE_CUDA();
  // head_dim 64/128 take the query-tiled kernel (group 4, 3, 8 = two head blocks,
  // 6 = a full and a partial head block); the others the per-token kernel.
  const AttnCase cases[] = {{4, 2, 16, 4},   {32, 8, 128, 16}, {6, 2, 64, 16}, {8, 8, 8, 4},
                            {3, 1, 32, 7},   {16, 2, 128, 16}, {12, 2, 64, 5}};
  // Prompt rows take the tensor-core prefill kernel (tiled or per-token for other
  // shapes), generated rows the decode kernel; each batch runs both ways.
  uint32_t seed = 100;
  for (const AttnCase& c : cases) {
    for (bool prompt : {true, false}) {
      RunAttention(Be(), F32(), c, {{5, 37}, {700, 1}}, seed++, prompt ? 37 : 0);
      RunAttention(Be(), F32(), c, {{0, 129}}, seed++, prompt ? 129 : 0);
      RunAttention(Be(), F32(), c, {{0, 70}, {10, 100}}, seed++, prompt ? 170 : 0);  // two prompt chunks
    }
    // A short chunk after a long context: too few tiles for the tensor-core kernel
    // (the split-K tiled kernel serves it).
    RunAttention(Be(), F32(), c, {{3000, 20}}, seed++, 20);
  }
}

TEST_P(CudaOpsP, AttentionDecodeSplitK) {
  AX_REQUIRE_CUDA();
  // Decode kernel: 1, 2 and 4 dims per lane (hd 8, 64, 96 with idle lanes, 128),
  // groups 1 to 8; group 16 falls back to the tiled kernel.
  const AttnCase cases[] = {{32, 8, 128, 16}, {4, 2, 16, 4},  {16, 8, 128, 16}, {16, 2, 128, 16},
                            {8, 1, 8, 4},     {12, 4, 96, 16}, {16, 1, 64, 16}, {6, 2, 64, 16}};
  uint32_t seed = 200;
  for (const AttnCase& c : cases) {
    for (int32_t pos : {0, 1, 31, 32, 33, 639, 1000, 4095}) RunAttention(Be(), F32(), c, {{pos, 1}}, seed++);
    RunAttention(Be(), F32(), c, {{600, 5}}, seed++);                  // draft verification rows
    RunAttention(Be(), F32(), c, {{40, 1}, {900, 1}, {3, 1}}, seed++);  // batched decode
  }
}

// One decode row (position `pos`, its own q and K/V from `seed`) in a batch of
// `companions` other decode rows at random positions (their own blocks after the row's):
// the row's output, read back as stored.
std::vector<float> DecodeRowInBatch(Backend& be, bool f32, const AttnCase& c, int32_t pos, int companions,
                                    uint32_t seed) {
  const DType act = f32 ? DType::kF32 : DType::kBF16;
  const auto input = [f32](size_t n, uint32_t sd, float lo, float hi) {
    return f32 ? Random(n, sd, lo, hi) : RandomBf16(n, sd, lo, hi);
  };
  std::mt19937 rng(seed * 31 + static_cast<uint32_t>(companions));
  std::vector<int32_t> positions = {pos};
  for (int i = 0; i < companions; ++i) positions.push_back(static_cast<int32_t>(rng() % 64));
  const int32_t max_pos = *std::max_element(positions.begin(), positions.end());
  const int width = (max_pos + 1 + c.block_size - 1) / c.block_size;
  const int64_t row = static_cast<int64_t>(c.kv_heads) * c.hd;
  const int own = (pos + 1 + c.block_size - 1) / c.block_size;  // the row's blocks come first
  StagedBatch s;
  s.q_begin.clear();
  int next_block = own;
  for (size_t i = 0; i < positions.size(); ++i) {
    s.q_begin.push_back(static_cast<int32_t>(i));
    s.q_len.push_back(1);
    s.tokens.push_back(0);
    s.positions.push_back(positions[i]);
    s.slots.push_back(-1);
    const int need = (positions[i] + 1 + c.block_size - 1) / c.block_size;
    for (int b = 0; b < width; ++b) s.tables.push_back(i == 0 ? (b < own ? b : 0) : (b < need ? next_block + b : 0));
    if (i > 0) next_block += need;
  }
  const int64_t n = static_cast<int64_t>(positions.size());
  // The row's q and K/V depend on the seed alone; the companions' are appended.
  std::vector<float> q = input(static_cast<size_t>(c.heads * c.hd), seed + 1, -2.0f, 2.0f);
  const std::vector<float> q_rest = input(static_cast<size_t>((n - 1) * c.heads * c.hd), seed + 4, -2.0f, 2.0f);
  q.insert(q.end(), q_rest.begin(), q_rest.end());
  std::vector<float> kc = input(static_cast<size_t>(own * c.block_size * row), seed + 2, -2.0f, 2.0f);
  std::vector<float> vc = input(kc.size(), seed + 3, -1.0f, 1.0f);
  const size_t rest = static_cast<size_t>((next_block - own) * c.block_size * row);
  const std::vector<float> k_rest = input(rest, seed + 5, -2.0f, 2.0f), v_rest = input(rest, seed + 6, -1.0f, 1.0f);
  kc.insert(kc.end(), k_rest.begin(), k_rest.end());
  vc.insert(vc.end(), v_rest.begin(), v_rest.end());
  KvLayerView cache;
  cache.block_size = c.block_size;
  cache.k = ToDevice(be, kc, act, Shape{next_block, c.block_size, c.kv_heads, c.hd});
  cache.v = ToDevice(be, vc, act, Shape{next_block, c.block_size, c.kv_heads, c.hd});
  TensorView qd = ToDevice(be, q, act, Shape{n, c.heads * c.hd});
  TensorView out = Poisoned(be, act, Shape{n, c.heads * c.hd});
  EXPECT_TRUE(be.BeginForward(s.meta()).ok());
  be.Attention(qd, cache, AttentionShape{c.heads, c.kv_heads, c.hd, c.window, 1.0f / std::sqrt(float(c.hd)), c.softcap},
               out);
  std::vector<float> all = ToHost(be, out);
  all.resize(static_cast<size_t>(c.heads * c.hd));
  return all;
}

// The decode kernel's schedule follows the batch (4- or 16-warp blocks, 1 to 32 splits
// per row), its arithmetic only the row's own keys: a row's bits are the same alone and
// beside 7, 40 or 300 other rows, at lengths that split it over many blocks alone.
TEST_P(CudaOpsP, AttentionDecodeRowBitsFollowTheRowNotTheSchedule) {
  AX_REQUIRE_CUDA();
  const AttnCase cases[] = {{32, 8, 128, 16}, {16, 2, 64, 16}, {8, 1, 256, 16, 0, 50.0f},
                            {8, 8, 8, 4},     {12, 4, 96, 16}, {16, 2, 256, 16, 300, 0.0f}};
  uint32_t seed = 500;
  for (const AttnCase& c : cases) {
    for (int32_t pos : {0, 9, 127, 639, 3000, 8191}) {
      const std::vector<float> alone = DecodeRowInBatch(Be(), F32(), c, pos, 0, seed);
      for (int companions : {7, 40, 300}) {
        const std::vector<float> batched = DecodeRowInBatch(Be(), F32(), c, pos, companions, seed);
        ASSERT_EQ(alone.size(), batched.size());
        EXPECT_EQ(0, std::memcmp(alone.data(), batched.data(), alone.size() * sizeof(float)))
            << "heads " << c.heads << "/" << c.kv_heads << " hd " << c.hd << " position " << pos << " beside "
            << companions << " rows";
      }
      ++seed;
    }
  }
}

// The fused attention input (q/k norm, RoPE, KV append) gives the same bits as the
// separate ops it replaces (Backend's default AttentionInput).
TEST_P(CudaOpsP, AttentionInputFusedEqualsSeparateOps) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (int hd : {64, 128}) {
    for (bool qk_norm : {true, false}) {
      const int nq = 6, nkv = 2, bs = 4, blocks = 5;
      const int64_t n = 7, row = nkv * hd;
      StagedBatch s = OneSeq(n);
      s.slots = {17, 3, -1, 0, 19, 8, 9};
      for (int64_t t = 0; t < n; ++t) s.positions[static_cast<size_t>(t)] = static_cast<int32_t>(t * 613 % 5000);
      std::vector<float> inv(static_cast<size_t>(hd / 2));
      for (int i = 0; i < hd / 2; ++i) inv[static_cast<size_t>(i)] = std::pow(1e6f, -2.0f * i / hd);
      const std::vector<float> q = Input(static_cast<size_t>(n * nq * hd), 31, -3.0f, 3.0f);
      const std::vector<float> k = Input(static_cast<size_t>(n * row), 32, -3.0f, 3.0f);
      const std::vector<float> v = Input(static_cast<size_t>(n * row), 33);
      const std::vector<float> qn = Random(static_cast<size_t>(hd), 34, 0.5f, 1.5f);
      const std::vector<float> kn = Random(static_cast<size_t>(hd), 35, 0.5f, 1.5f);
      const std::vector<float> cache0 = Input(static_cast<size_t>(blocks * bs * row), 36);
      TensorView invd = ToDevice(be, inv, DType::kF32, Shape{hd / 2});
      TensorView qnd = qk_norm ? ToDevice(be, qn, DType::kF32, Shape{hd}) : TensorView{};
      TensorView knd = qk_norm ? ToDevice(be, kn, DType::kF32, Shape{hd}) : TensorView{};
      TensorView vd = ToDevice(be, v, Act(), Shape{n, row});
      ASSERT_TRUE(be.BeginForward(s.meta()).ok());
      std::vector<std::vector<float>> results[2];
      for (int fused = 0; fused < 2; ++fused) {
        TensorView qd = ToDevice(be, q, Act(), Shape{n, nq * hd});
        TensorView kd = ToDevice(be, k, Act(), Shape{n, row});
        KvLayerView cache;
        cache.block_size = bs;
        cache.k = ToDevice(be, cache0, Act(), Shape{blocks, bs, nkv, hd});
        cache.v = ToDevice(be, cache0, Act(), Shape{blocks, bs, nkv, hd});
        const float eps = 1e-6f;
        if (fused == 1) {
          be.AttentionInput(qd, kd, vd, qnd, knd, invd, cache, AttentionShape{nq, nkv, hd, 0, 1.0f, 0.0f, eps});
        } else {
          be.Backend::AttentionInput(qd, kd, vd, qnd, knd, invd, cache, AttentionShape{nq, nkv, hd, 0, 1.0f, 0.0f, eps});
        }
        results[fused] = {ToHost(be, qd), ToHost(be, kd), ToHost(be, cache.k), ToHost(be, cache.v)};
      }
      for (size_t i = 0; i < 4; ++i)
        EXPECT_EQ(results[1][i], results[0][i]) << "tensor " << i << " hd " << hd << " qk_norm " << qk_norm;
    }
  }
}

TEST_P(CudaOpsP, GatherLogitRows) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  const int64_t n = 7, d = 72;
  const std::vector<float> x = Input(static_cast<size_t>(n * d), 12);
  StagedBatch s = OneSeq(n);
  s.logit_rows = {0, 3, 6};
  TensorView xd = ToDevice(be, x, Act(), Shape{n, d});
  TensorView out = Poisoned(be, Act(), Shape{3, d});
  ASSERT_TRUE(be.BeginForward(s.meta()).ok());
  be.GatherLogitRows(xd, out, 0);
  std::vector<float> want;
  for (int32_t r : s.logit_rows) want.insert(want.end(), x.begin() + r * d, x.begin() + (r + 1) * d);
  EXPECT_EQ(ToHost(be, out), want);
  TensorView tail = Poisoned(be, Act(), Shape{2, d});  // rows from the second logit row on
  be.GatherLogitRows(xd, tail, 1);
  EXPECT_EQ(ToHost(be, tail), std::vector<float>(want.begin() + d, want.end()));
}

// Row argmax at odd and vocabulary-sized rows, with ties (lowest index wins) and NaN
// (never wins), against a host scan.
TEST(CudaOps, ArgmaxRows) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{4097}, int64_t{151936}}) {
    const int64_t rows = 5;
    std::vector<float> x = Random(static_cast<size_t>(rows * n), 40, -4.0f, 4.0f);
    if (n > 7) {
      x[static_cast<size_t>(1 * n + n - 1)] = 9.0f;  // row 1: a tie at both ends
      x[static_cast<size_t>(1 * n + 3)] = 9.0f;
      x[static_cast<size_t>(2 * n + 5)] = std::nanf("");  // row 2: NaN beside the max
      x[static_cast<size_t>(2 * n + 6)] = 8.0f;
      for (int64_t j = 0; j < n; ++j) x[static_cast<size_t>(3 * n + j)] = 1.5f;  // row 3: all equal
    }
    TensorView xd = ToDevice(be, x, DType::kF32, Shape{rows, n});
    auto ids = be.Alloc(DType::kI32, Shape{rows});
    ASSERT_TRUE(ids.ok());
    be.ArgmaxRows(xd, *ids);
    std::vector<int32_t> got(static_cast<size_t>(rows), -1);
    ASSERT_TRUE(be.ReadToHost(*ids, got.data(), got.size() * sizeof(int32_t)).ok());
    for (int64_t r = 0; r < rows; ++r) {
      int32_t want = 0;
      const float* row = x.data() + r * n;
      for (int64_t j = 0; j < n; ++j) {
        if (!std::isnan(row[j]) && (std::isnan(row[want]) || row[j] > row[want])) want = static_cast<int32_t>(j);
      }
      EXPECT_EQ(got[static_cast<size_t>(r)], want) << "n " << n << " row " << r;
    }
  }
}

// The k best of each row in canonical order against a host sort: random rows, a run
// of ties across the cut, NaN, and rows of mostly -inf (more equal entries than the
// kernel holds: the index-ordered pass).
TEST(CudaOps, TopRows) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  for (int64_t n : {int64_t{64}, int64_t{4097}, int64_t{151936}}) {
    const int64_t rows = 5;
    std::vector<float> x = Random(static_cast<size_t>(rows * n), 41, -4.0f, 4.0f);
    for (int64_t j = 0; j < n; j += 3) x[static_cast<size_t>(n + j)] = 2.5f;  // row 1: many ties
    x[static_cast<size_t>(2 * n + 9)] = std::nanf("");                       // row 2: NaN
    for (int64_t j = 0; j < n; ++j)                                         // row 3: masked
      x[static_cast<size_t>(3 * n + j)] = j % 50 == 7 ? 1.0f : -INFINITY;
    for (int k : {1, 20, 64}) {
      TensorView xd = ToDevice(be, x, DType::kF32, Shape{rows, n});
      auto ids = be.Alloc(DType::kI32, Shape{rows, k});
      auto vals = be.Alloc(DType::kF32, Shape{rows, k});
      ASSERT_TRUE(ids.ok() && vals.ok());
      be.TopRows(xd, k, *ids, *vals);
      std::vector<int32_t> got(static_cast<size_t>(rows * k));
      std::vector<float> got_vals(got.size());
      ASSERT_TRUE(be.ReadToHost(*ids, got.data(), got.size() * sizeof(int32_t)).ok());
      ASSERT_TRUE(be.ReadToHost(*vals, got_vals.data(), got_vals.size() * sizeof(float)).ok());
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = x.data() + r * n;
        std::vector<int32_t> order(static_cast<size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
          const bool na = std::isnan(row[a]), nb = std::isnan(row[b]);
          if (na != nb) return nb;
          return row[a] > row[b] || ((row[a] == row[b] || na) && a < b);
        });
        for (int i = 0; i < k; ++i) {
          ASSERT_EQ(got[static_cast<size_t>(r * k + i)], order[static_cast<size_t>(i)])
              << "n " << n << " k " << k << " row " << r << " rank " << i;
          // The value's bits (a NaN row at n = 64, k = 64 takes the NaN too).
          EXPECT_EQ(std::bit_cast<uint32_t>(got_vals[static_cast<size_t>(r * k + i)]),
                    std::bit_cast<uint32_t>(row[order[static_cast<size_t>(i)]]));
        }
      }
    }
  }
}

// Each row's mass at its staged inverse temperature against a float64 host sum, within
// the sampler's bound (Backend::kRowMassRelError): peaked and flat temperatures, -inf
// entries, and logit rows from the second on (first_row).
TEST(CudaOps, RowMass) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  for (int64_t n : {int64_t{64}, int64_t{4097}, int64_t{151936}}) {
    const int64_t rows = 3, stride = 4;
    std::vector<float> x = Random(static_cast<size_t>(rows * n), 42, -12.0f, 12.0f);
    for (int64_t j = 0; j < n; j += 5) x[static_cast<size_t>(n + j)] = -INFINITY;  // row 1: masked entries
    std::vector<float> best(static_cast<size_t>(rows * stride), 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      best[static_cast<size_t>(r * stride)] = *std::max_element(x.begin() + r * n, x.begin() + (r + 1) * n);
    StagedBatch s = OneSeq(1);
    s.logit_rows = {0, 0, 0, 0};
    s.inv_temperature = {7.0f, 1.0f / 0.3f, 1.0f, 1.0f / 1.7f};  // logit row 0 is not in the test's rows
    ASSERT_TRUE(be.BeginForward(s.meta()).ok());
    TensorView xd = ToDevice(be, x, DType::kF32, Shape{rows, n});
    TensorView vd = ToDevice(be, best, DType::kF32, Shape{rows, stride});
    auto mass = be.Alloc(DType::kF32, Shape{rows});
    ASSERT_TRUE(mass.ok());
    be.RowMass(xd, vd, /*first_row=*/1, *mass);
    std::vector<float> got(static_cast<size_t>(rows));
    ASSERT_TRUE(be.ReadToHost(*mass, got.data(), got.size() * sizeof(float)).ok());
    for (int64_t r = 0; r < rows; ++r) {
      const double b = best[static_cast<size_t>(r * stride)], inv_t = s.inv_temperature[static_cast<size_t>(r + 1)];
      double want = 0.0;
      for (int64_t j = 0; j < n; ++j) want += std::exp((x[static_cast<size_t>(r * n + j)] - b) * inv_t);
      EXPECT_NEAR(got[static_cast<size_t>(r)], want, want * Backend::kRowMassRelError) << "n " << n << " row " << r;
    }
  }
}

// Penalties on device logits give the host's bits (PenalisedLogit, as
// Sampler::ApplyPenalties): repetition on positive and negative logits, frequency and
// presence on generated tokens, rows without entries untouched, logit rows from the
// second on (first_row).
TEST(CudaOps, ApplyPenaltiesEqualsHost) {
  AX_REQUIRE_CUDA();
  Backend& be = *Cuda();
  const int64_t rows = 3, vocab = 151936;
  std::vector<float> x = Random(static_cast<size_t>(rows * vocab), 43, -6.0f, 6.0f);
  StagedBatch s = OneSeq(1);
  s.logit_rows = {0, 0, 0, 0};
  // Logit row 0 is not in the test's rows; row 2 (test row 1) has no entries.
  s.pen_begin = {0, 2, 2 + 500, 2 + 500, 2 + 500 + 300};
  s.pen_entries.assign(2, LogitPenalty{7, 1, 0.25});
  for (int i = 0; i < 500; ++i) s.pen_entries.push_back({i * 37 % 151936, i % 3 == 0 ? 1 : 0, 0.1 * (i % 5)});
  for (int i = 0; i < 300; ++i) s.pen_entries.push_back({151935 - i * 11, 1, 0.7 * (i % 4)});
  s.pen_repetition = {1.1f, 1.3f, 1.0f, 1.0f};
  s.pen_presence = {0.0, 0.5, 0.0, 1.25};
  ASSERT_TRUE(be.BeginForward(s.meta()).ok());
  TensorView xd = ToDevice(be, x, DType::kF32, Shape{rows, vocab});
  be.ApplyPenalties(xd, /*first_row=*/1);
  std::vector<float> got(x.size());
  ASSERT_TRUE(be.ReadToHost(xd, got.data(), got.size() * sizeof(float)).ok());
  std::vector<float> want = x;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t lr = r + 1;
    for (int32_t e = s.pen_begin[static_cast<size_t>(lr)]; e < s.pen_begin[static_cast<size_t>(lr + 1)]; ++e) {
      const LogitPenalty& p = s.pen_entries[static_cast<size_t>(e)];
      float& l = want[static_cast<size_t>(r * vocab + p.id)];
      l = PenalisedLogit(l, s.pen_repetition[static_cast<size_t>(lr)], s.pen_presence[static_cast<size_t>(lr)], p);
    }
  }
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i])) << "element " << i;
  }
}

TEST(CudaOps, DescribeAndDtypes) {
  AX_REQUIRE_CUDA();
  EXPECT_EQ(Cuda()->kind(), BackendKind::kCuda);
  EXPECT_EQ(Cuda()->activation_dtype(), DType::kBF16);
  EXPECT_EQ(Cuda()->kv_dtype(), DType::kBF16);
  ASSERT_NE(CudaF32(), nullptr);
  EXPECT_EQ(CudaF32()->activation_dtype(), DType::kF32);
  EXPECT_EQ(CudaF32()->kv_dtype(), DType::kF32);
  EXPECT_NE(CudaF32()->Describe().find("f32 activations"), std::string::npos);
  EXPECT_NE(Cuda()->Describe().find("cuda"), std::string::npos);
  auto autop = CreateBackend("auto", BackendOptions{});
  ASSERT_TRUE(autop.ok());
  EXPECT_EQ((*autop)->kind(), BackendKind::kCuda);
}

}  // namespace
}  // namespace ax::cuda_testing
