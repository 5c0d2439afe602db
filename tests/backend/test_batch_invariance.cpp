// Batch invariance: a row's numbers do not depend on what it is batched with.
// Matmul kernels per class (row-invariant / throughput) at the kernel level, and whole
// forwards at the model level: a sequence's logits alone == inside a mixed batch of
// prompt chunks, decodes and drafts, bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "base/thread_pool.h"
#include "golden/model_harness.h"
#include "kernels/cpu/cpu.h"
#include "model/synth.h"
#include "tensor/dtype.h"

namespace ax::testing {
namespace {

TEST(MatmulInvariance, EachKernelGivesEveryRowTheSameBitsWhateverTheBatch) {
  if (!kernels::cpu::CpuHasAvx2Fma()) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  const int64_t n = 203, k = 1031, m = 67;
  std::vector<uint16_t> w(static_cast<size_t>(n * k));
  for (auto& v : w) v = F32ToBf16(dist(rng));
  std::vector<float> x(static_cast<size_t>(m * k));
  for (auto& v : x) v = dist(rng);
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (auto kernel : {kernels::MatmulKernel::kRowInvariant, kernels::MatmulKernel::kThroughput}) {
      kernels::MatmulParams p;
      p.w = w.data();
      p.w_dtype = DType::kBF16;
      p.n = n;
      p.k = k;
      p.kernel = kernel;
      std::vector<float> all(static_cast<size_t>(m * n)), one(static_cast<size_t>(n));
      p.x = x.data();
      p.y = all.data();
      p.m = m;
      kernels::cpu::MatmulWithKernel(p, pool);
      for (int64_t sub : {int64_t{1}, int64_t{5}, int64_t{17}}) {
        for (int64_t r0 = 0; r0 + sub <= m; r0 += 13) {
          std::vector<float> part(static_cast<size_t>(sub * n));
          p.x = x.data() + r0 * k;
          p.y = part.data();
          p.m = sub;
          kernels::cpu::MatmulWithKernel(p, pool);
          ASSERT_EQ(std::memcmp(part.data(), all.data() + r0 * n, part.size() * sizeof(float)), 0)
              << "kernel " << static_cast<int>(kernel) << " rows " << r0 << "+" << sub << " threads " << threads;
        }
      }
    }
  }
}

// Model level: sequence A (prompt then decode steps, then draft-style chunks) gives
// identical logits alone and while sequences B (long prompt chunks) and C (decodes)
// share its forwards, and whether its prompt is prefilled whole or in small chunks.
// Run on the demo model (Qwen3) and on synth models of other layer kinds: Gemma 3,
// whose windowed layers (window 8, softcapped logits) drop keys long before A's 40
// positions, and Qwen3-MoE, whose rows each route to their own experts.
void CheckForwardInvariance(const std::string& dir) {
  BackendOptions bo;
  bo.threads = 2;
  auto backend = CreateBackend("cpu", bo).value();
  ModelLoadOptions mo;
  mo.max_batch_tokens = 128;
  auto model = Model::Load(dir, *backend, mo).value();
  const int64_t vocab = model->config().vocab_size;
  const int bs = 4;

  std::vector<int32_t> a, b, c;
  const int64_t ids = std::min<int64_t>(8000, vocab - 1);
  for (int i = 0; i < 40; ++i) a.push_back(static_cast<int32_t>((i * 37 + 11) % ids + 1));
  for (int i = 0; i < 60; ++i) b.push_back(static_cast<int32_t>((i * 53 + 7) % ids + 1));
  for (int i = 0; i < 12; ++i) c.push_back(static_cast<int32_t>((i * 19 + 3) % ids + 1));
  // A's schedule: prompt of 30 in chunks (16, 14), then decodes of rows 30..34, then
  // rows 35..39 as one draft-style chunk with logits on every row.
  struct Chunk {
    int64_t begin, end;
    bool prompt, all_logits;
  };
  const std::vector<Chunk> whole = {{0, 30, true, false},   {30, 31, false, false}, {31, 32, false, false},
                                    {32, 35, false, true},  {35, 40, false, true}};
  // The last prompt row alone in its chunk takes the attention kernel's single-tile path;
  // in the whole prompt it takes the packed multi-tile path.
  const std::vector<Chunk> chunked = {{0, 3, true, false},   {3, 16, true, false},   {16, 29, true, false},
                                      {29, 30, true, false},
                                      {30, 31, false, false}, {31, 32, false, false},
                                      {32, 35, false, true},  {35, 40, false, true}};
  // Returns A's logits by position (only positions every schedule computes logits for).
  auto run = [&](const std::vector<Chunk>& schedule, bool mixed) {
    auto kv = model->AllocateKvCache(128, bs).value();
    std::vector<int32_t> blocks_a, blocks_b, blocks_c;
    for (int i = 0; i < 20; ++i) blocks_a.push_back(100 - i);  // scrambled ids
    for (int i = 0; i < 20; ++i) blocks_b.push_back(i);
    for (int i = 0; i < 20; ++i) blocks_c.push_back(40 + 2 * i);
    std::map<int64_t, std::vector<float>> out;
    int64_t b_done = 0, c_done = 0;
    for (const Chunk& ch : schedule) {
      ForwardBatch fb;
      if (mixed && b_done < 60) {  // B prefills in chunks of 24 beside A
        const int64_t nb = std::min<int64_t>(24, 60 - b_done);
        if (ch.prompt) {
          fb.AddSequence(b.data() + b_done, nb, static_cast<int32_t>(b_done), blocks_b, bs, false, false, true);
          b_done += nb;
        }
      }
      if (ch.prompt) {
        fb.AddSequence(a.data() + ch.begin, ch.end - ch.begin, static_cast<int32_t>(ch.begin), blocks_a, bs, true,
                       ch.all_logits, true);
      }
      if (mixed && b_done < 60 && !ch.prompt) {
        const int64_t nb = std::min<int64_t>(24, 60 - b_done);
        fb.AddSequence(b.data() + b_done, nb, static_cast<int32_t>(b_done), blocks_b, bs, false, false, true);
        b_done += nb;
      }
      if (!ch.prompt) {
        fb.AddSequence(a.data() + ch.begin, ch.end - ch.begin, static_cast<int32_t>(ch.begin), blocks_a, bs, true,
                       ch.all_logits, false);
        if (mixed) {  // C decodes one token per step beside A
          fb.AddSequence(c.data() + c_done, c_done == 0 ? 6 : 1, static_cast<int32_t>(c_done), blocks_c, bs, true);
          c_done += c_done == 0 ? 6 : 1;
        }
      }
      std::vector<float> logits(fb.logit_rows.size() * static_cast<size_t>(vocab));
      EXPECT_TRUE(model->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());
      // Keep A's rows only: A's logit rows are found by position in fb.
      const int32_t a_first_row = [&] {
        for (int s = 0; s < fb.n_seqs(); ++s)
          if (fb.tokens[static_cast<size_t>(fb.seq_q_begin[s])] == a[static_cast<size_t>(ch.begin)] &&
              fb.positions[static_cast<size_t>(fb.seq_q_begin[s])] == ch.begin)
            return fb.seq_q_begin[s];
        return -1;
      }();
      for (size_t r = 0; r < fb.logit_rows.size(); ++r) {
        const int32_t row = fb.logit_rows[r];
        const int64_t pos = ch.begin + (row - a_first_row);
        if (row >= a_first_row && row < a_first_row + (ch.end - ch.begin) && pos >= 29)
          out[pos].assign(logits.begin() + static_cast<ptrdiff_t>(r * vocab),
                          logits.begin() + static_cast<ptrdiff_t>((r + 1) * vocab));
      }
    }
    return out;
  };
  const auto alone = run(whole, false);
  ASSERT_EQ(alone.size(), 11u);  // positions 29..39
  for (const auto& [schedule, mixed] : {std::pair{&whole, true}, std::pair{&chunked, false}, std::pair{&chunked, true}}) {
    const auto other = run(*schedule, mixed);
    ASSERT_EQ(other.size(), alone.size());
    for (const auto& [pos, row] : alone)
      EXPECT_EQ(std::memcmp(row.data(), other.at(pos).data(), row.size() * sizeof(float)), 0)
          << dir << " position " << pos << (mixed ? " mixed" : " alone")
          << (schedule == &chunked ? " chunked" : " whole");
  }
}

TEST(ForwardInvariance, LogitsAloneEqualLogitsInAMixedBatch) {
  CheckForwardInvariance(std::string(AX_SOURCE_DIR) + "/models/ax-demo-qwen3");
}

class SynthForwardInvariance : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthForwardInvariance, LogitsAloneEqualLogitsInAMixedBatch) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ax_invariance_" + std::string(GetParam()) + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  SynthOptions o;
  o.shape = GetParam();
  o.dtype = DType::kBF16;
  o.seed = 3;
  o.out_dir = dir.string();
  ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
  CheckForwardInvariance(dir.string());
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SynthForwardInvariance,
                         ::testing::Values("tiny-gemma3", "tiny-qwen3-moe", "tiny-glm4-moe", "tiny-glm4-moe-lite"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace ax::testing
