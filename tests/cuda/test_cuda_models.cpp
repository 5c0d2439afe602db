// Whole models on the CUDA backend (bf16 activations and KV, and the f32 precision
// mode where named):
//  - the tiny fixtures (tests/fixtures/models) against transformers' float64 logits,
//    prefill and decode/chunked paths, within bf16 tolerance (f32 mode: the CPU
//    backend's 1e-4);
//  - the demo model and stories260K greedy continuations against their reference.json
//    up to the first near-tie (bf16 arithmetic may flip a near-tie), in both precisions;
//  - teacher forcing on a synth qwen3-0.6b ($AX_SYNTH_QWEN3_06B, made on the GPU
//    machine by scripts/device/test.sh): top-1 agreement with the CPU backend (f32),
//    at least 99% in the f32 mode.
#include <filesystem>
#include <fstream>
#include <tuple>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "ax/engine.h"
#include "cuda_test_util.h"
#include "model/model.h"
#include "model/quantize.h"
#include "model/synth.h"
#include "sampling_routes.h"

namespace ax::cuda_testing {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

double RowRelErr(const float* a, const std::vector<double>& b) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    max_diff = std::max(max_diff, std::abs(static_cast<double>(a[i]) - b[i]));
    max_ref = std::max(max_ref, std::abs(b[i]));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

int32_t Argmax(const float* x, int64_t n) {
  return static_cast<int32_t>(std::max_element(x, x + n) - x);
}

// A model on a named backend with a KV cache whose block table runs backwards.
class Harness {
 public:
  Harness(const std::string& dir, const std::string& backend, int64_t max_tokens = 64, int block_size = 16,
          int num_blocks = 128, Precision precision = Precision::kAuto) {
    BackendOptions opts;
    opts.threads = 0;
    opts.precision = precision;
    auto be = CreateBackend(backend, opts);
    status_ = be.status();
    if (!be.ok()) return;
    backend_ = std::move(be).value();
    ModelLoadOptions mo;
    mo.max_batch_tokens = max_tokens;
    mo.max_logit_rows = max_tokens;
    auto m = Model::Load(dir, *backend_, mo);
    status_ = m.status();
    if (!m.ok()) return;
    model_ = std::move(m).value();
    auto kv = model_->AllocateKvCache(num_blocks, block_size);
    status_ = kv.status();
    if (!kv.ok()) return;
    kv_ = std::move(kv).value();
    for (int b = num_blocks - 1; b >= 0; --b) blocks_.push_back(b);
  }
  const Status& status() const { return status_; }
  int64_t vocab() const { return model_->config().vocab_size; }

  // Tokens [begin, end) of seq as one chunk: logits of every row, or the last only.
  // `prompt`: the rows are prompt rows (throughput kernels) rather than generated ones.
  std::vector<float> Chunk(const std::vector<int32_t>& seq, int64_t begin, int64_t end, bool all,
                           bool prompt = false) {
    ForwardBatch batch;
    batch.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), blocks_, kv_.block_size, true,
                      all, prompt);
    std::vector<float> logits(batch.logit_rows.size() * static_cast<size_t>(vocab()));
    Status s = model_->Forward(batch, kv_, ForwardOutput::Logits(logits.data()));
    EXPECT_TRUE(s.ok()) << s.ToString();
    return logits;
  }

 private:
  Status status_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  KvCache kv_;
  std::vector<int32_t> blocks_;
};

// Logits relative to the row's largest |logit|: bf16 activations through a few layers;
// the f32 mode is held to the CPU backend's tolerance on a bf16 checkpoint, and to the
// rounding of f32/f16 weights to bf16 at load on the others (measured 4e-3 to 7e-3).
// A fixture whose reference.json records transformers' own bf16 drift
// (transformers_bf16_row_error: its bf16 forward against its float64 one) holds the
// bf16 mode to kPeerFactor times that when it is larger: the Gemma 4 fixtures mix fast
// enough that transformers itself lands 3e-2 to 2e-1 away in bf16.
constexpr double kLogitTol = 3e-2, kF32LogitTol = 1e-4, kBf16WeightTol = 1e-2, kPeerFactor = 2.0;

class CudaFixture : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return SourceDir() + "/tests/fixtures/models/" + GetParam(); }

  // The whole prompt as prompt rows, and chunked passes of 1, 3 and 9 as generated
  // rows (the decode attention kernel and the GEMV), against the reference logits.
  void Check(Precision precision) {
    if (!std::filesystem::exists(dir() + "/reference.json"))
      GTEST_SKIP() << dir() << " not generated yet (scripts/fixtures/make_gemma_models.py)";
    const nlohmann::json ref = ReadJson(dir() + "/reference.json");
    const auto prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
    const auto logits_ref = ref["logits"].get<std::vector<std::vector<double>>>();
    const int64_t n = static_cast<int64_t>(prompt.size());
    const bool bf16_weights = ReadJson(dir() + "/config.json").value("dtype", "") == "bfloat16";
    const double peer = ref.value("transformers_bf16_row_error", 0.0);
    const double tol = precision != Precision::kF32 ? std::max(kLogitTol, kPeerFactor * peer)
                       : bf16_weights              ? kF32LogitTol
                                                   : kBf16WeightTol;
    double worst = 0;
    for (int64_t chunk : {n, int64_t{1}, int64_t{3}, int64_t{9}}) {
      Harness h(dir(), "cuda", 64, 16, 128, precision);
      ASSERT_TRUE(h.status().ok()) << h.status().ToString();
      for (int64_t begin = 0; begin < n; begin += chunk) {
        const int64_t end = std::min(n, begin + chunk);
        const std::vector<float> logits = h.Chunk(prompt, begin, end, true, /*prompt=*/chunk == n);
        for (int64_t t = begin; t < end; ++t) {
          const double err = RowRelErr(logits.data() + (t - begin) * h.vocab(), logits_ref[static_cast<size_t>(t)]);
          worst = std::max(worst, err);
          EXPECT_LT(err, tol) << GetParam() << " chunk " << chunk << " position " << t;
        }
      }
    }
    std::printf("[fixture %s, precision %s] worst row error vs transformers: %.2e (transformers' own bf16: %.2e)\n",
                GetParam().c_str(), PrecisionName(precision), worst, peer);
  }
};

TEST_P(CudaFixture, PrefillDecodeAndChunksMatchTransformers) {
  AX_REQUIRE_CUDA();
  Check(Precision::kAuto);
}

TEST_P(CudaFixture, F32ModeMatchesTransformersToF32Tolerance) {
  AX_REQUIRE_CUDA();
  Check(Precision::kF32);
}

INSTANTIATE_TEST_SUITE_P(Tiny, CudaFixture,
                         ::testing::Values("tiny-llama", "tiny-llama-f16", "tiny-qwen3", "tiny-qwen3-bf16"));
// Gemma 3 / 4 variants (scripts/fixtures/make_gemma_models.py): sliding windows, softcaps,
// head_dim 32/64, per-layer inputs, K=V, shared KV, double-wide MLPs, the MoE block.
INSTANTIATE_TEST_SUITE_P(Gemma, CudaFixture,
                         ::testing::Values("tiny-gemma3", "tiny-gemma3-linear", "tiny-gemma4", "tiny-gemma4-ple",
                                           "tiny-gemma4-kv", "tiny-gemma4-shared", "tiny-gemma4-wide",
                                           "tiny-gemma4-moe"));
// Qwen3-MoE (scripts/fixtures/make_qwen_models.py): renormalised and plain top-k, dense layers.
INSTANTIATE_TEST_SUITE_P(Qwen, CudaFixture, ::testing::Values("tiny-qwen3-moe", "tiny-qwen3-moe-sparse"));
// MLX affine-quantized fixtures (scripts/fixtures/make_quant_models.py).
INSTANTIATE_TEST_SUITE_P(Quantized, CudaFixture,
                         ::testing::Values("tiny-qwen3-q4", "tiny-qwen3-bf16-q8", "tiny-llama-q3-mixed"));

// Greedy ids through the public API; compared up to the first reference step whose
// top-1/top-2 margin is under kNearTie (bf16 logits carry ~1% error).
constexpr double kNearTie = 0.2;

void CheckGreedy(const std::string& dir, const std::string& policy, const char* label,
                 const std::string& precision = "auto") {
  const nlohmann::json ref = ReadJson(dir + "/reference.json");
  EngineConfig cfg;
  cfg.model_dir = dir;
  cfg.backend = "cuda";
  cfg.policy = policy;
  cfg.precision = precision;
  auto engine = Engine::Create(cfg);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  for (const auto& c : ref["cases"]) {
    GenerateRequest req;
    req.prompt_text = c["prompt"].get<std::string>();
    req.max_tokens = static_cast<int64_t>(c["greedy_ids"].size());
    req.ignore_eos = true;
    auto r = (*engine)->Generate(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->prompt_tokens, c["prompt_ids"].get<std::vector<int32_t>>());
    const auto want = c["greedy_ids"].get<std::vector<int32_t>>();
    const auto margins = c["step_top1_top2_margin"].get<std::vector<double>>();
    size_t checked = 0;
    while (checked < want.size() && margins[checked] >= kNearTie) ++checked;
    size_t same = 0;
    while (same < want.size() && same < r->output_tokens.size() && want[same] == r->output_tokens[same]) ++same;
    std::printf("[%s %s %s] %zu/%zu greedy ids equal the reference before the first difference; first near-tie "
                "(margin < %.2f) at step %zu\n",
                label, policy.c_str(), precision.c_str(), same, want.size(), kNearTie, checked);
    EXPECT_GE(same, checked) << label << " " << policy << ": " << c["prompt"];
  }
}

TEST(CudaModels, DemoModelGreedyMatchesTransformers) {
  AX_REQUIRE_CUDA();
  const std::string dir = SourceDir() + "/models/ax-demo-qwen3";
  for (const char* policy : {"direct", "ngram"}) CheckGreedy(dir, policy, "ax-demo-qwen3");
}

// The f32 precision mode through the public API: the engine's routes (ids read back,
// n-gram drafts verified) on f32 activations.
TEST(CudaModels, F32ModeGreedyMatchesReference) {
  AX_REQUIRE_CUDA();
  for (const char* policy : {"direct", "ngram"})
    CheckGreedy(SourceDir() + "/models/ax-demo-qwen3", policy, "ax-demo-qwen3", "f32");
  const char* env = std::getenv("AX_STORIES_DIR");
  const std::string stories = env != nullptr ? env : SourceDir() + "/../shared/models/stories260K";
  if (std::filesystem::exists(stories + "/config.json")) CheckGreedy(stories, "ngram", "stories260K", "f32");
}

// Sampled requests on the device, against a run beside a neighbour with top_k 100
// (more than the 64 candidates) that makes every step read logits and sample on the
// host: the same tokens and logprobs. Prompt rows and generated rows are both
// batch-invariant (the fixed-algorithm prompt matmul, the row GEMM), so batching
// changes no bits.
//  - top-p 0.9 alone (direct and n-gram): candidates and the row's mass (RowMass, in the
//    recorded graphs), logits for the rows these cannot decide;
//  - penalised greedy, top-k and top-p: penalties applied to the logits in the graph;
//    under n-gram drafting too (setting 5: each verify row counts the drafts before it).
TEST(CudaModels, SamplingOnTheDeviceEqualsTheHost) {
  AX_REQUIRE_CUDA();
  EngineConfig cfg;
  cfg.model_dir = SourceDir() + "/models/ax-demo-qwen3";
  cfg.backend = "cuda";
  for (int setting = 0; setting < 6; ++setting) {
    cfg.policy = setting == 1 || setting == 5 ? "ngram" : "direct";
    GenerateRequest req;
    req.prompt_tokens = {101, 2048, 7};
    req.max_tokens = 64;
    req.ignore_eos = true;
    req.sampling.temperature = setting == 2 || setting == 5 ? 0.0 : 0.7;
    req.sampling.top_k = setting == 3 ? 20 : 0;
    req.sampling.top_p = setting == 3 ? 1.0 : 0.9;
    const bool penalised = setting >= 2;
    req.sampling.repetition_penalty = penalised && setting != 3 ? 1.2 : 1.0;
    req.sampling.frequency_penalty = setting >= 3 ? 0.5 : 0.0;
    req.sampling.presence_penalty = setting == 4 ? 0.3 : 0.0;
    req.sampling.seed = 9;
    req.sampling.logprobs = setting != 2 && setting != 5;
    const GenerateRequest wide = testing::HostRouteNeighbour(std::vector<int32_t>{33, 900, 12, 5}, 96);
    const EngineStats alone =
        testing::ExpectSameAloneAndBeside(cfg, req, wide, "setting " + std::to_string(setting));
    std::printf("[ax-demo-qwen3] sampling setting %d (%s%s): %lld of %lld steps read logits, %lld drafts\n",
                setting, cfg.policy.c_str(), penalised ? ", penalised" : "",
                static_cast<long long>(alone.steps_reading_logits), static_cast<long long>(alone.steps),
                static_cast<long long>(alone.draft_tokens_proposed));
  }
}

TEST(CudaModels, Stories260KGreedyMatchesReference) {
  AX_REQUIRE_CUDA();
  const char* env = std::getenv("AX_STORIES_DIR");
  const std::string dir = env != nullptr ? env : SourceDir() + "/../shared/models/stories260K";
  if (!std::filesystem::exists(dir + "/config.json")) GTEST_SKIP() << "no " << dir;
  CheckGreedy(dir, "direct", "stories260K");
}

// Generated rows give the same bits whatever they are batched with, and a forward
// replayed from a recorded graph gives the bits of the eager forward: one harness
// decodes one row per step (eager, then recorded, then replayed), another decodes
// two rows per step (a different graph); row t's logits agree exactly.
class CudaPrecision : public ::testing::TestWithParam<Precision> {};
INSTANTIATE_TEST_SUITE_P(Precisions, CudaPrecision, ::testing::Values(Precision::kAuto, Precision::kF32),
                         [](const ::testing::TestParamInfo<Precision>& i) { return PrecisionName(i.param); });

TEST_P(CudaPrecision, DecodeRowsBatchInvariantAndGraphReplayExact) {
  AX_REQUIRE_CUDA();
  const std::string dir = SourceDir() + "/models/ax-demo-qwen3";
  Harness one(dir, "cuda", 64, 16, 128, GetParam()), two(dir, "cuda", 64, 16, 128, GetParam());
  ASSERT_TRUE(one.status().ok()) << one.status().ToString();
  ASSERT_TRUE(two.status().ok()) << two.status().ToString();
  const int64_t vocab = one.vocab();
  std::vector<int32_t> seq(120);
  for (size_t i = 0; i < seq.size(); ++i) seq[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(vocab));
  constexpr int64_t kPrefix = 60;
  EXPECT_EQ(one.Chunk(seq, 0, kPrefix, false, true), two.Chunk(seq, 0, kPrefix, false, true));
  for (int64_t t = kPrefix; t + 1 < static_cast<int64_t>(seq.size()); ++t) {
    const std::vector<float> a = one.Chunk(seq, t, t + 1, false);
    const std::vector<float> b = two.Chunk(seq, t, t + 2, true);  // rows t and t + 1
    ASSERT_EQ(a, std::vector<float>(b.begin(), b.begin() + vocab)) << "position " << t;
    // The same step again (same KV writes): the recorded and replayed forwards.
    ASSERT_EQ(a, one.Chunk(seq, t, t + 1, false)) << "position " << t << " replay";
  }
}

// A windowed layer's KV group gives back its blocks behind the window
// (docs/kv-layout.md): the tiny Gemma 3 fixture (window 6, block size 4) under teacher
// forcing with its window layers in a group of 8 blocks reused as a ring and every
// entry behind the window released (-1), against one table for every layer; a prompt
// chunk, then decode rows (recorded and replayed graphs): the same logits, bit for bit.
TEST_P(CudaPrecision, WindowGroupGivesTheLogitsOfOneTable) {
  AX_REQUIRE_CUDA();
  const std::string dir = SourceDir() + "/tests/fixtures/models/tiny-gemma3";
  constexpr int kBs = 4, kWindowBlocks = 8, kWindow = 6;
  BackendOptions opts;
  opts.precision = GetParam();
  auto be_one = CreateBackend("cuda", opts), be_two = CreateBackend("cuda", opts);
  ASSERT_TRUE(be_one.ok() && be_two.ok());
  auto one = Model::Load(dir, **be_one), two = Model::Load(dir, **be_two);
  ASSERT_TRUE(one.ok() && two.ok()) << one.status().ToString();
  ASSERT_EQ((*two)->KvGroupWindows(true), (std::vector<int>{0, kWindow}));
  KvCache kv_one = (*one)->AllocateKvCache(64, kBs).value();
  KvCache kv_two = (*two)->AllocateKvCache({KvGroup{0, 64}, KvGroup{kWindow, kWindowBlocks}}, kBs).value();
  const int64_t vocab = (*one)->config().vocab_size;
  std::vector<int32_t> seq(120);
  for (size_t i = 0; i < seq.size(); ++i) seq[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(vocab));
  std::vector<int32_t> full, window;
  const auto step = [&](int64_t begin, int64_t end) {
    while (static_cast<int64_t>(full.size()) * kBs < end) {
      window.push_back(static_cast<int32_t>(full.size() % kWindowBlocks));
      full.push_back(static_cast<int32_t>(full.size()));
    }
    // Released: every block whose positions are all before the first key `begin` sees.
    for (int64_t b = 0; b < std::max<int64_t>(0, begin - kWindow + 1) / kBs; ++b) window[static_cast<size_t>(b)] = -1;
    ForwardBatch a, b;
    const bool prompt = begin == 0;
    a.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), full, kBs, true, false, prompt);
    const std::vector<int32_t> tables[] = {full, window};
    b.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), tables, kBs, true, false, prompt);
    std::vector<float> la(static_cast<size_t>(vocab)), lb(la.size());
    const Status sa = (*one)->Forward(a, kv_one, ForwardOutput::Logits(la.data()));
    const Status sb = (*two)->Forward(b, kv_two, ForwardOutput::Logits(lb.data()));
    EXPECT_TRUE(sa.ok() && sb.ok()) << sa.ToString() << " " << sb.ToString();
    EXPECT_EQ(la, lb) << "positions " << begin << ".." << end - 1;
  };
  step(0, 20);
  for (int64_t t = 20; t < static_cast<int64_t>(seq.size()); ++t) step(t, t + 1);
}

// 512 tokens under teacher forcing: CPU (f32) vs CUDA as one prefill, and CUDA as
// 64 single-token decode steps after a 448-token prefill (GEMV and split-K paths), in
// both precisions.
TEST(CudaModels, SynthQwen3TeacherForcingAgreesWithCpu) {
  AX_REQUIRE_CUDA();
  const char* dir = std::getenv("AX_SYNTH_QWEN3_06B");
  if (dir == nullptr) GTEST_SKIP() << "set AX_SYNTH_QWEN3_06B to a synth qwen3-0.6b directory";
  constexpr int64_t kN = 512, kPrefix = 448;
  std::vector<int32_t> seq(kN);
  std::mt19937 rng(7);
  std::vector<float> cpu;
  int64_t vocab = 0;
  {
    Harness cpu_h(dir, "cpu", kN, 16, 64, Precision::kF32);  // f32 KV too (the CPU default is bf16)
    ASSERT_TRUE(cpu_h.status().ok()) << cpu_h.status().ToString();
    vocab = cpu_h.vocab();
    for (int32_t& t : seq) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab));
    cpu = cpu_h.Chunk(seq, 0, kN, true);
  }
  for (Precision precision : {Precision::kAuto, Precision::kF32}) {
    std::vector<float> gpu, gpu_decode;
    {
      Harness h(dir, "cuda", kN, 16, 64, precision);
      ASSERT_TRUE(h.status().ok()) << h.status().ToString();
      gpu = h.Chunk(seq, 0, kN, true, /*prompt=*/true);
    }
    {
      Harness h(dir, "cuda", kN, 16, 64, precision);
      ASSERT_TRUE(h.status().ok()) << h.status().ToString();
      gpu_decode = h.Chunk(seq, 0, kPrefix, true, /*prompt=*/true);
      for (int64_t t = kPrefix; t < kN; ++t) {
        const std::vector<float> row = h.Chunk(seq, t, t + 1, false);
        gpu_decode.insert(gpu_decode.end(), row.begin(), row.end());
      }
    }
    int64_t agree = 0, agree_decode = 0, clear = 0, agree_clear = 0;
    double worst = 0;  // largest logit difference relative to the row's largest |logit|
    for (int64_t t = 0; t < kN; ++t) {
      const float* c = cpu.data() + t * vocab;
      const int32_t top = Argmax(c, vocab);
      float second = -INFINITY;
      for (int64_t j = 0; j < vocab; ++j)
        if (j != top) second = std::max(second, c[j]);
      const bool is_clear = c[top] - second >= kNearTie;
      agree += Argmax(gpu.data() + t * vocab, vocab) == top;
      agree_decode += Argmax(gpu_decode.data() + t * vocab, vocab) == top;
      clear += is_clear;
      agree_clear += is_clear && Argmax(gpu.data() + t * vocab, vocab) == top;
      worst = std::max(worst, RowRelErr(gpu.data() + t * vocab, std::vector<double>(c, c + vocab)));
    }
    std::printf("[synth qwen3-0.6b, precision %s] top-1 agreement with CPU over %lld tokens: prefill %.2f%%, "
                "prefill+decode %.2f%%; on %lld rows with margin >= %.2f: %.2f%%; worst prefill logit error %.2e\n",
                PrecisionName(precision), static_cast<long long>(kN), 100.0 * agree / kN, 100.0 * agree_decode / kN,
                static_cast<long long>(clear), kNearTie, clear ? 100.0 * agree_clear / clear : 100.0, worst);
    EXPECT_EQ(agree_clear, clear);
    if (precision == Precision::kF32) {
      // The f32 mode: issue 7's 99% over all rows.
      EXPECT_GE(agree, kN * 99 / 100);
      EXPECT_GE(agree_decode, kN * 99 / 100);
    } else {
      // bf16 activations (like transformers in bf16) flip near-ties of the f32 CPU
      // backend: on this random-weight model 164 of 512 rows have a top-1/top-2 margin
      // under 0.2, and 4-6% of all rows flip (docs/cuda-backend.md). The gate: every row
      // with a clear margin agrees; the 90% floor only catches gross errors.
      EXPECT_GE(agree, kN * 90 / 100);
      EXPECT_GE(agree_decode, kN * 90 / 100);
    }
  }
}

// A tiny fixture quantized by our quantize command (4-bit g32, and 3-bit g64 with
// mixed modules): CUDA logits (prompt rows, then generated rows one by one) against
// the CPU backend's on the same quantized checkpoint, in both precisions.
TEST(CudaModels, QuantizedFixtureAgreesWithCpu) {
  AX_REQUIRE_CUDA();
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("ax_cuda_quantized_" + std::to_string(::getpid()));
  for (auto [bits, group, keep] : {std::tuple{4, 32, ""}, std::tuple{3, 64, "down_proj=8,v_proj=6"}}) {
    QuantizeOptions q;
    q.in_dir = SourceDir() + "/tests/fixtures/models/tiny-qwen3-bf16";
    q.out_dir = (root / std::to_string(bits)).string();
    q.bits = bits;
    q.group_size = group;
    q.rules = ParseQuantizeRules(keep).value();
    ASSERT_TRUE(QuantizeCheckpoint(q).ok());
    const std::vector<int32_t> prompt = {1, 17, 42, 99, 3, 250, 7, 7, 128, 64, 5, 31};
    const int64_t n = static_cast<int64_t>(prompt.size());
    Harness cpu(q.out_dir, "cpu", 64, 16, 128, Precision::kF32);
    ASSERT_TRUE(cpu.status().ok()) << cpu.status().ToString();
    const std::vector<float> want = cpu.Chunk(prompt, 0, n, true);
    for (Precision precision : {Precision::kAuto, Precision::kF32}) {
      Harness gpu(q.out_dir, "cuda", 64, 16, 128, precision);
      ASSERT_TRUE(gpu.status().ok()) << gpu.status().ToString();
      std::vector<float> got = gpu.Chunk(prompt, 0, n / 2, true, /*prompt=*/true);
      for (int64_t t = n / 2; t < n; ++t) {
        const std::vector<float> row = gpu.Chunk(prompt, t, t + 1, true);
        got.insert(got.end(), row.begin(), row.end());
      }
      const int64_t vocab = cpu.vocab();
      for (int64_t t = 0; t < n; ++t) {
        const std::vector<double> ref(want.begin() + t * vocab, want.begin() + (t + 1) * vocab);
        EXPECT_LT(RowRelErr(got.data() + t * vocab, ref), precision == Precision::kF32 ? kF32LogitTol : kLogitTol)
            << bits << "-bit, precision " << PrecisionName(precision) << ", position " << t;
      }
    }
  }
  std::filesystem::remove_all(root);
}

// GLM: the CUDA backend has no MLA, AddBias or noaux_tc router, so it refuses both
// families at load naming what is missing (never computing them wrong).
TEST(CudaGlm, RefusedAtLoadNamingWhatIsMissing) {
  AX_REQUIRE_CUDA();
  const std::pair<const char*, const char*> cases[] = {{"tiny-glm4-moe-lite", "multi-head latent attention (MLA"},
                                                       {"tiny-glm4-moe", "noaux_tc"}};
  for (const auto& [shape, part] : cases) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             (std::string("ax_cuda_glm_") + shape + "_" + std::to_string(getpid())))
                                .string();
    SynthOptions o;
    o.shape = shape;
    o.out_dir = dir;
    ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
    auto be = CreateBackend("cuda", BackendOptions{});
    ASSERT_TRUE(be.ok());
    auto m = Model::Load(dir, **be);
    ASSERT_FALSE(m.ok()) << shape;
    EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented) << m.status().ToString();
    EXPECT_NE(m.status().message().find(part), std::string::npos) << m.status().message();
    EXPECT_NE(m.status().message().find("--backend cpu"), std::string::npos) << m.status().message();
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace ax::cuda_testing
