// ax-kernel-bench: the CPU kernels against this machine's ceilings, on Qwen3-0.6B shapes.
//
//   (a) streaming read bandwidth of a 1 GiB buffer (1 and N threads) and the FMA clock
//       and peak (dependent-chain clock estimate; independent-chain throughput);
//   (b) bf16 GEMV (m = 1) GB/s per projection shape, weights rotated over >= 1 GiB of
//       copies so they come from DRAM, as a fraction of (a); plus the whole decode
//       token (28 layers + tied logits, 1.19 GB of distinct weights);
//   (c) bf16 GEMM GFLOP/s at m = 128 and 512 vs the FMA peak; plus the whole prefill of
//       512 tokens (28 layers of GEMMs + attention), as tokens/s.
// Prints one JSON object to stdout and, with --out PATH, writes it there too.
// Usage: ax-kernel-bench [--out PATH] [--threads N] [--quick] [--only attention|gemm]
// --only runs the bandwidth ceiling and one section: decode attention over every KV
// cache variant, or the GEMM shapes and the 512-token prefill sweep (run it with
// AX_CPU_GEMM_WIDE=0 and without to compare the GEMM builds).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/matmul_internal.h"
#include "tensor/dtype.h"

namespace ax::bench {
namespace {

using Json = nlohmann::ordered_json;

struct Shape {
  const char* name;
  int64_t n, k;  // weight [n, k]
};
// Qwen3-0.6B: hidden 1024, 16 q heads + 8 kv heads of 128, intermediate 3072, vocab
// 151936 (tied embeddings), 28 layers. q/k/v and gate/up are fused at load time.
constexpr Shape kQkv{"qkv", 2048 + 1024 + 1024, 1024};
constexpr Shape kO{"o", 1024, 2048};
constexpr Shape kGateUp{"gate_up", 2 * 3072, 1024};
constexpr Shape kDown{"down", 1024, 3072};
constexpr Shape kLogits{"logits", 151936, 1024};
constexpr Shape kLayerShapes[] = {kQkv, kO, kGateUp, kDown};
constexpr int kLayers = 28;
constexpr size_t kGiB = size_t{1} << 30;

double LoadAverage() {
  double l[1] = {0.0};
  return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

std::string CpuModel() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::vector<float> RandomVec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

kernels::MatmulParams Params(const uint16_t* w, const Shape& s, int64_t m, const float* x, float* y) {
  kernels::MatmulParams p;
  p.x = x;
  p.w = w;
  p.w_dtype = DType::kBF16;
  p.y = y;
  p.m = m;
  p.n = s.n;
  p.k = s.k;
  return p;
}

struct Ctx {
  ThreadPool& pool;
  uint16_t* arena;       // random bf16 weights
  size_t arena_elems;
  double bw;             // N-thread read bandwidth, GB/s
  double peak;           // theoretical FMA peak, GFLOP/s
  double ghz;            // FMA clock
  bool quick;
};

enum class Path { kDispatch, kGemv, kGemm };

// Small-m matmul over enough copies of the weight that each pass streams from DRAM.
// path: cpu::Matmul's own choice, or one of its two regimes forced.
Json BenchGemv(Ctx& c, const Shape& s, int64_t m, Path path = Path::kDispatch) {
  const size_t elems = static_cast<size_t>(s.n * s.k);
  const size_t want = (kGiB + elems * 2 - 1) / (elems * 2);  // >= 1 GiB of weights per pass
  const size_t copies = std::max<size_t>(2, std::min(c.arena_elems / elems, want));
  const std::vector<float> x = RandomVec(m * s.k, 7);
  std::vector<float> y(m * s.n);
  const double t = BestTime(
      [&] {
        for (size_t i = 0; i < copies; ++i) {
          const auto p = Params(c.arena + i * elems, s, m, x.data(), y.data());
          switch (path) {
            case Path::kDispatch: kernels::cpu::Matmul(p, c.pool); break;
            case Path::kGemv: kernels::cpu::detail::Gemv(p, c.pool); break;
            case Path::kGemm: kernels::cpu::detail::Gemm(p, c.pool); break;
          }
        }
      },
      c.quick ? 2 : 8);
  const double gbs = static_cast<double>(copies * elems * 2) / t / 1e9;
  return Json{{"shape", s.name}, {"n", s.n}, {"k", s.k}, {"m", m},
              {"path", path == Path::kGemm || (path == Path::kDispatch &&
                                                   m > kernels::cpu::detail::kGemvMaxM)
                           ? "gemm" : "gemv"},
              {"gflop_per_s", 2.0 * m * copies * elems / t / 1e9},
              {"weight_copies", copies}, {"us_per_call", t / copies * 1e6},
              {"gb_per_s", gbs}, {"fraction_of_bandwidth", gbs / c.bw}};
}

// m = 1 on one thread in thread CPU time, against the one-core read ceiling measured
// the same way (bw1): the kernel's efficiency with the machine's noise mostly removed.
Json BenchGemvOneCore(Ctx& c, const Shape& s, double bw1) {
  ThreadPool one(1);
  const size_t elems = static_cast<size_t>(s.n * s.k);
  const size_t copies = std::max<size_t>(2, std::min(c.arena_elems / elems, (kGiB + elems * 2 - 1) / (elems * 2)));
  const std::vector<float> x = RandomVec(s.k, 7);
  std::vector<float> y(s.n);
  double best = 1e30;
  for (int r = 0; r < (c.quick ? 2 : 4); ++r) {
    const double t0 = ThreadCpuSeconds();
    for (size_t i = 0; i < copies; ++i) {
      kernels::cpu::Matmul(Params(c.arena + i * elems, s, 1, x.data(), y.data()), one);
    }
    best = std::min(best, ThreadCpuSeconds() - t0);
  }
  const double gbs = static_cast<double>(copies * elems * 2) / best / 1e9;
  return Json{{"shape", s.name}, {"n", s.n}, {"k", s.k}, {"gb_per_s", gbs},
              {"fraction_of_one_core_read", gbs / bw1}};
}

Json BenchGemm(Ctx& c, const Shape& s, int64_t m) {
  const std::vector<float> x = RandomVec(m * s.k, 9);
  std::vector<float> y(m * s.n);
  const auto p = Params(c.arena, s, m, x.data(), y.data());
  const double flops = 2.0 * m * s.n * s.k;
  const double t = BestTime([&] { kernels::cpu::Matmul(p, c.pool); }, flops > 5e10 ? 1 : 3,
                            c.quick ? 0.0 : 1.0);
  const double gf = flops / t / 1e9;
  return Json{{"shape", s.name}, {"n", s.n}, {"k", s.k}, {"m", m}, {"ms", t * 1e3},
              {"gflop_per_s", gf}, {"fraction_of_peak", gf / c.peak}};
}

// One thread, timed in thread CPU time: the kernel's efficiency on one core, free of
// the preemption noise of a shared machine (cache interference remains).
Json BenchGemmOneCore(Ctx& c, const Shape& s, int64_t m) {
  ThreadPool one(1);
  const std::vector<float> x = RandomVec(m * s.k, 9);
  std::vector<float> y(m * s.n);
  const auto p = Params(c.arena, s, m, x.data(), y.data());
  kernels::cpu::Matmul(p, one);
  double best = 1e30;
  for (int r = 0; r < (c.quick ? 2 : 5); ++r) {
    const double t0 = ThreadCpuSeconds();
    kernels::cpu::Matmul(p, one);
    best = std::min(best, ThreadCpuSeconds() - t0);
  }
  const double gf = 2.0 * m * s.n * s.k / best / 1e9;
  return Json{{"shape", s.name}, {"n", s.n}, {"k", s.k}, {"m", m}, {"cpu_ms", best * 1e3},
              {"gflop_per_s", gf}, {"fraction_of_core_peak", gf / (32.0 * c.ghz)}};
}

// The weights of all layers laid out one after another in the arena.
std::vector<const uint16_t*> LayerWeights(Ctx& c, int layers, const uint16_t** logits) {
  std::vector<const uint16_t*> w;
  size_t off = 0;
  for (int l = 0; l < layers; ++l) {
    for (const Shape& s : kLayerShapes) {
      w.push_back(c.arena + off);
      off += static_cast<size_t>(s.n * s.k);
    }
  }
  *logits = c.arena + off;
  return w;
}

// One decode token's matmuls: every layer's projections at m = 1, then the logits.
Json BenchDecodeToken(Ctx& c, int layers) {
  const uint16_t* logits;
  const std::vector<const uint16_t*> w = LayerWeights(c, layers, &logits);
  const std::vector<float> x = RandomVec(3072, 11);
  std::vector<float> y(kLogits.n);
  double bytes = static_cast<double>(kLogits.n * kLogits.k) * 2;
  for (const Shape& s : kLayerShapes) bytes += static_cast<double>(s.n * s.k) * 2 * layers;
  const double t = BestTime(
      [&] {
        for (int l = 0; l < layers; ++l)
          for (int j = 0; j < 4; ++j)
            kernels::cpu::Matmul(Params(w[l * 4 + j], kLayerShapes[j], 1, x.data(), y.data()), c.pool);
        kernels::cpu::Matmul(Params(logits, kLogits, 1, x.data(), y.data()), c.pool);
      },
      c.quick ? 2 : 5);
  const double gbs = bytes / t / 1e9;
  return Json{{"layers", layers}, {"weight_bytes", bytes}, {"ms_per_token", t * 1e3},
              {"tokens_per_s_matmul_only", 1.0 / t}, {"gb_per_s", gbs},
              {"fraction_of_bandwidth", gbs / c.bw}};
}

// Attention parameters of one sequence (K/V caches left for the caller), scale 1/sqrt(128).
kernels::AttentionParams OneSeqAttention(const float* q, float* out, const int32_t* positions, const int32_t* begin,
                                         const int32_t* len, const int32_t* table, int blocks, int heads,
                                         int kv_heads, int hd, int bs) {
  kernels::AttentionParams p;
  p.q = q;
  p.out = out;
  p.positions = positions;
  p.seq_q_begin = begin;
  p.seq_q_len = len;
  p.block_tables = table;
  p.n_seqs = 1;
  p.max_blocks_per_seq = blocks;
  p.n_heads = heads;
  p.n_kv_heads = kv_heads;
  p.head_dim = hd;
  p.block_size = bs;
  p.scale = 0.08838834764f;
  return p;
}

// Causal self-attention of a 512-token prompt over a paged cache (block 16), one layer.
double AttentionPrefillSeconds(Ctx& c, int n_tokens) {
  const int heads = 16, kv_heads = 8, hd = 128, bs = 16, blocks = (n_tokens + bs - 1) / bs;
  const std::vector<float> q = RandomVec(static_cast<size_t>(n_tokens) * heads * hd, 13);
  const std::vector<float> kc = RandomVec(static_cast<size_t>(blocks) * bs * kv_heads * hd, 14);
  const std::vector<float> vc = RandomVec(kc.size(), 15);
  std::vector<float> out(q.size());
  std::vector<int32_t> pos(n_tokens), table(blocks);
  for (int i = 0; i < n_tokens; ++i) pos[i] = i;
  for (int b = 0; b < blocks; ++b) table[b] = blocks - 1 - b;
  const int32_t begin = 0, len = n_tokens;
  kernels::AttentionParams p = OneSeqAttention(q.data(), out.data(), pos.data(), &begin, &len, table.data(), blocks,
                                               heads, kv_heads, hd, bs);
  p.k_cache = kc.data();
  p.v_cache = vc.data();
  return BestTime([&] { kernels::cpu::Attention(p, c.pool); }, 5);
}

// Which decode walk a measurement takes: Attention's own choice, or one forced.
enum class Walk { kDispatch, kAvx2, kWide };

// Decode attention: one query token at position ctx-1 over a paged cache (block 16,
// scrambled table) in the given layout and dtype, `layers` distinct caches in rotation:
// 8 so K/V come from DRAM, 1 (a 512-key context: 2 MiB) so they stay in the caches and
// the walk's own instruction rate shows. The caches sit on huge pages, as the CPU
// backend's do.
Json BenchAttentionDecode(Ctx& c, int ctx, kernels::KvLayout layout, DType dtype, Walk walk = Walk::kDispatch,
                          int layers = 8, bool in_order = false) {
  const int heads = 16, kv_heads = 8, hd = 128, bs = 16, blocks = (ctx + bs - 1) / bs;
  const size_t cache = static_cast<size_t>(blocks) * bs * kv_heads * hd;
  // f32 values, or bf16 ones two to a float (the caches are only read as their dtype).
  const size_t floats = dtype == DType::kBF16 ? (cache + 1) / 2 : cache;
  std::vector<Buffer<float>> kc, vc;
  for (int l = 0; l < layers; ++l) {
    for (auto [to, seed] : {std::pair{&kc, 20 + l}, std::pair{&vc, 40 + l}}) {
      to->push_back(AllocTouched<float>(floats, c.pool));
      const std::vector<float> r = RandomVec(floats, seed);
      std::memcpy(to->back().get(), r.data(), floats * sizeof(float));
      if (dtype == DType::kBF16) {  // finite bf16 values: the top halves of the f32 ones
        uint16_t* h = reinterpret_cast<uint16_t*>(to->back().get());
        for (size_t i = 0; i < cache; ++i) h[i] = h[i | 1];
      }
    }
  }
  const std::vector<float> q = RandomVec(heads * hd, 16);
  std::vector<float> out(q.size());
  std::vector<int32_t> table(blocks);
  for (int b = 0; b < blocks; ++b) table[b] = in_order ? b : static_cast<int32_t>((b * 7L) % blocks);
  const int32_t pos = ctx - 1, begin = 0, len = 1;
  kernels::AttentionParams p =
      OneSeqAttention(q.data(), out.data(), &pos, &begin, &len, table.data(), blocks, heads, kv_heads, hd, bs);
  p.layout = layout;
  p.cache_dtype = dtype;
  const double t = BestTime(
                       [&] {
                         for (int l = 0; l < layers; ++l) {
                           p.k_cache = kc[l].get();
                           p.v_cache = vc[l].get();
                           switch (walk) {
                             case Walk::kDispatch: kernels::cpu::Attention(p, c.pool); break;
                             case Walk::kAvx2: kernels::cpu::detail::AttentionAvx2(p, c.pool); break;
                             case Walk::kWide: kernels::cpu::detail::AttentionWide(p, c.pool); break;
                           }
                         }
                       },
                       c.quick ? 2 : 5, c.quick ? 0.0 : 0.2) /
                   layers;
  const double gbs = 2.0 * ctx * kv_heads * hd * DTypeSize(dtype) / t / 1e9;
  const bool wide = walk == Walk::kWide || (walk == Walk::kDispatch && kernels::cpu::detail::UseAttentionWide() &&
                                            layout == kernels::KvLayout::kHeadMajor);
  return Json{{"context", ctx},
              {"layers_in_rotation", layers},
              {"table", in_order ? "in order" : "scrambled"},
              {"layout", layout == kernels::KvLayout::kHeadMajor ? "head-major" : "slot-major"},
              {"dtype", DTypeName(dtype)},
              {"walk", wide ? "avx512" : "avx2"},
              {"ms_per_layer", t * 1e3},
              {"kv_gb_per_s", gbs},
              {"fraction_of_bandwidth", gbs / c.bw}};
}

// Every cache variant at contexts 512, 2048 and 4096, the default cache on both decode
// walks (AVX2 and, where the processor has it, AVX-512) one after the other; then the
// default cache at 512 kept in the caches, both walks; then the engine's decode step at a
// 2048-token context (Qwen3-0.6B's 28 layers, 224 MiB of bf16 K/V, a fresh sequence's
// in-order table), the two walks alternated three times (pairs on a shared machine).
Json BenchAttentionDecodeVariants(Ctx& c) {
  Json all = Json::array();
  const bool wide = kernels::cpu::CpuHasAvx512Vl();
  const auto add = [&](Json j) {
    std::cerr << j.dump() << "\n";
    all.push_back(std::move(j));
  };
  for (int ctx : {512, 2048, 4096}) {
    add(BenchAttentionDecode(c, ctx, kernels::KvLayout::kSlotMajor, DType::kF32, Walk::kAvx2));
    add(BenchAttentionDecode(c, ctx, kernels::KvLayout::kHeadMajor, DType::kF32, Walk::kAvx2));
    if (wide) add(BenchAttentionDecode(c, ctx, kernels::KvLayout::kHeadMajor, DType::kF32, Walk::kWide));
    add(BenchAttentionDecode(c, ctx, kernels::KvLayout::kHeadMajor, DType::kBF16, Walk::kAvx2));
    if (wide) add(BenchAttentionDecode(c, ctx, kernels::KvLayout::kHeadMajor, DType::kBF16, Walk::kWide));
  }
  add(BenchAttentionDecode(c, 512, kernels::KvLayout::kHeadMajor, DType::kBF16, Walk::kAvx2, 1));
  if (wide) add(BenchAttentionDecode(c, 512, kernels::KvLayout::kHeadMajor, DType::kBF16, Walk::kWide, 1));
  for (int pair = 0; pair < 3; ++pair) {
    add(BenchAttentionDecode(c, 2048, kernels::KvLayout::kHeadMajor, DType::kBF16, Walk::kAvx2, kLayers, true));
    if (wide) {
      add(BenchAttentionDecode(c, 2048, kernels::KvLayout::kHeadMajor, DType::kBF16, Walk::kWide, kLayers, true));
    }
  }
  return all;
}

// Prefill of one 512-token prompt: every layer's projections at m = 512, attention,
// and the logits of the last row only.
Json BenchPrefill(Ctx& c, int layers, int64_t m) {
  const uint16_t* logits;
  const std::vector<const uint16_t*> w = LayerWeights(c, layers, &logits);
  const std::vector<float> x = RandomVec(m * 3072, 12);
  std::vector<float> y(std::max<int64_t>(m * 6144, kLogits.n));
  const double t_mm = BestTime(
      [&] {
        for (int l = 0; l < layers; ++l)
          for (int j = 0; j < 4; ++j)
            kernels::cpu::Matmul(Params(w[l * 4 + j], kLayerShapes[j], m, x.data(), y.data()), c.pool);
        kernels::cpu::Matmul(Params(logits, kLogits, 1, x.data(), y.data()), c.pool);
      },
      c.quick ? 1 : 2);
  double flops = 2.0 * kLogits.n * kLogits.k;
  for (const Shape& s : kLayerShapes) flops += 2.0 * m * s.n * s.k * layers;
  const double t_attn = AttentionPrefillSeconds(c, static_cast<int>(m)) * layers;
  return Json{{"layers", layers}, {"tokens", m}, {"matmul_s", t_mm},
              {"matmul_gflop_per_s", flops / t_mm / 1e9},
              {"matmul_fraction_of_peak", flops / t_mm / 1e9 / c.peak},
              {"attention_s", t_attn}, {"tokens_per_s_matmul_plus_attention", m / (t_mm + t_attn)}};
}

// Prints the result (and writes it to out_path when given); the exit status.
int Write(Json& out, const std::string& out_path) {
  out["machine"]["load_average_end"] = LoadAverage();
  const std::string text = out.dump(2);
  std::cout << text << "\n";
  if (!out_path.empty()) {
    std::ofstream f(out_path);
    f << text << "\n";
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::string out_path;
  int threads = ThreadPool::HardwareThreads();
  bool quick = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(stderr, "usage: ax-kernel-bench [--out PATH] [--threads N] [--quick] [--only attention|gemm]\n");
      return 2;
    }
  }
  ThreadPool pool(threads);
  Json out;
  out["tool"] = "ax-kernel-bench";
  out["machine"] = {{"cpu", CpuModel()}, {"threads", threads}, {"load_average_start", LoadAverage()}};
  out["method"] = "best of repeats; the machine is shared, so numbers are noisy lower bounds";

  Json ceil;
  const double ghz = FmaClockGhz(pool);
  ceil["fma_clock_ghz"] = ghz;
  const double peak = threads * 2.0 * 8 * 2 * ghz;  // 2 FMA ports x 8 lanes x 2 flop
  ceil["fma_peak_gflops_theoretical"] = peak;
  ceil["fma_peak_gflops_measured_cpu_time"] = FmaPeakGflops(pool, /*wall=*/false);
  ceil["fma_peak_gflops_measured_wall"] = FmaPeakGflops(pool, /*wall=*/true);
  double bw = 0.0;
  {
    const size_t bytes = quick ? kGiB / 4 : kGiB;
    Buffer<float> buf = AllocTouched<float>(bytes / 4, pool);
    pool.ParallelFor(static_cast<int64_t>(bytes / 4), 1 << 20, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) buf[i] = 1.0f;
    });
    ceil["read_buffer_bytes"] = bytes;
    // The ceiling is the best of a plain loop and 4- and 8-stream prefetched loops.
    Json rd;
    for (int t : {1, threads}) {
      for (int streams : {1, 4, 8}) {
        const double g = ReadBandwidth(buf.get(), bytes, pool, t, streams, quick ? 3 : 7);
        rd.push_back({{"threads", t}, {"streams_per_thread", streams}, {"gb_per_s", g}});
        if (t == threads) bw = std::max(bw, g);
      }
    }
    ceil["read"] = rd;
    ceil["read_gb_per_s_one_core_cpu_time"] =
        std::max(ReadBandwidthOneCoreCpuTime(buf.get(), bytes, 4, quick ? 2 : 5),
                 ReadBandwidthOneCoreCpuTime(buf.get(), bytes, 8, quick ? 2 : 5));
    ceil["read_gb_per_s_ceiling"] = bw;
  }
  out["ceilings"] = ceil;
  std::cerr << ceil.dump() << "\n";
  if (only == "attention") {
    Ctx c{pool, nullptr, 0, bw, peak, ghz, quick};
    out["attention_decode"] = BenchAttentionDecodeVariants(c);
    return Write(out, out_path);
  }

  // Weight arena: one decode token's worth of distinct bf16 weights (1.19 GB).
  size_t arena_elems = static_cast<size_t>(kLogits.n * kLogits.k);
  for (const Shape& s : kLayerShapes) arena_elems += static_cast<size_t>(s.n * s.k) * kLayers;
  Buffer<uint16_t> arena = AllocTouched<uint16_t>(arena_elems, pool);
  pool.ParallelFor(static_cast<int64_t>(arena_elems), 1 << 20, [&](int64_t b, int64_t e) {
    uint32_t state = static_cast<uint32_t>(b) * 2654435761u + 1;
    for (int64_t i = b; i < e; ++i) {
      state = state * 1664525u + 1013904223u;
      arena[i] = F32ToBf16((static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.1f);
    }
  });
  Ctx c{pool, arena.get(), arena_elems, bw, peak, ghz, quick};
  if (only == "gemm") {
    out["gemm_path"] = kernels::cpu::KernelPaths();
    Json gemm = Json::array();
    for (int64_t m : {128, 512}) {
      for (const Shape& s : kLayerShapes) gemm.push_back(BenchGemm(c, s, m));
    }
    out["gemm_bf16"] = gemm;
    out["prefill_512_bf16"] = BenchPrefill(c, quick ? 2 : kLayers, 512);
    return Write(out, out_path);
  }

  Json gemv = Json::array();
  for (const Shape& s : {kQkv, kO, kGateUp, kDown, kLogits}) gemv.push_back(BenchGemv(c, s, 1));
  out["gemv_bf16_m1"] = gemv;
  Json gemv1 = Json::array();
  for (const Shape& s : {kQkv, kO, kGateUp, kDown, kLogits}) {
    gemv1.push_back(BenchGemvOneCore(c, s, ceil["read_gb_per_s_one_core_cpu_time"].get<double>()));
  }
  out["gemv_bf16_m1_one_core_cpu_time"] = gemv1;
  out["decode_token_bf16"] = BenchDecodeToken(c, quick ? 2 : kLayers);
  std::cerr << out["decode_token_bf16"].dump() << "\n";

  Json crossover = Json::array();  // where Matmul switches GEMV -> GEMM
  for (int64_t m : {1, 2, 4, 8, 12, 16, 24, 32}) {
    crossover.push_back(BenchGemv(c, kQkv, m, Path::kGemv));
    crossover.push_back(BenchGemv(c, kQkv, m, Path::kGemm));
  }
  out["small_m_crossover_qkv"] = crossover;

  Json gemm = Json::array();
  for (int64_t m : {128, 512}) {
    for (const Shape& s : {kQkv, kO, kGateUp, kDown, kLogits}) {
      if (quick && s.n == kLogits.n) continue;
      gemm.push_back(BenchGemm(c, s, m));
      std::cerr << gemm.back().dump() << "\n";
    }
  }
  out["gemm_bf16"] = gemm;
  Json one = Json::array();
  for (int64_t m : {128, 512}) {
    for (const Shape& s : kLayerShapes) one.push_back(BenchGemmOneCore(c, s, m));
  }
  out["gemm_bf16_one_core_cpu_time"] = one;
  out["prefill_512_bf16"] = BenchPrefill(c, quick ? 2 : kLayers, 512);
  out["attention_decode"] = BenchAttentionDecodeVariants(c);

  // Model-level figures rebuilt from the per-shape bests above (each the best of several
  // runs): what one token would take on an otherwise idle machine. The sweeps above run
  // back to back on distinct weights and absorb whatever else the machine is doing.
  {
    const double layers = quick ? 2 : kLayers;
    double dec_s = gemv[4]["us_per_call"].get<double>() * 1e-6, dec_bytes = 0.0;
    for (int j = 0; j < 4; ++j) dec_s += layers * gemv[j]["us_per_call"].get<double>() * 1e-6;
    dec_bytes = out["decode_token_bf16"]["weight_bytes"].get<double>();
    double pre_s = gemv[4]["us_per_call"].get<double>() * 1e-6;  // logits of the last row
    for (const Json& g : gemm) {
      if (g["m"] == 512 && g["n"] != kLogits.n) pre_s += layers * g["ms"].get<double>() * 1e-3;
    }
    const double attn_s = out["prefill_512_bf16"]["attention_s"].get<double>();
    out["projected_from_best_runs"] = {
        {"decode_ms_per_token_matmul_only", dec_s * 1e3},
        {"decode_gb_per_s", dec_bytes / dec_s / 1e9},
        {"decode_fraction_of_bandwidth", dec_bytes / dec_s / 1e9 / bw},
        {"prefill_512_matmul_s", pre_s},
        {"prefill_512_attention_s", attn_s},
        {"prefill_512_tokens_per_s_matmul_plus_attention", 512.0 / (pre_s + attn_s)}};
  }
  return Write(out, out_path);
}

}  // namespace
}  // namespace ax::bench

int main(int argc, char** argv) { return ax::bench::Main(argc, argv); }
