// Machine ceilings for ax-kernel-bench (compiled with -mavx2 -mfma).
#include "bench_util.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace ax::bench {
namespace {

std::atomic<float> g_sink{0.0f};  // keeps the measured loops from being optimised away

// Sum of n floats read as `streams` interleaved sequential streams (far-apart parts of
// the range), each prefetched 1 KiB ahead. One stream per core is limited by how many
// misses one stream keeps in flight; several streams show what the core can pull.
float SumRange(const float* p, size_t n, int streams) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  const size_t part = n / streams / 32 * 32;
  for (size_t i = 0; i < part; i += 32) {
    for (int s = 0; s < streams; ++s) {
      const float* q = p + s * part + i;
      if (streams > 1) {
        _mm_prefetch(reinterpret_cast<const char*>(q) + 1024, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(q) + 1024 + 64, _MM_HINT_T0);
      }
      a0 = _mm256_add_ps(a0, _mm256_load_ps(q));
      a1 = _mm256_add_ps(a1, _mm256_load_ps(q + 8));
      a2 = _mm256_add_ps(a2, _mm256_load_ps(q + 16));
      a3 = _mm256_add_ps(a3, _mm256_load_ps(q + 24));
    }
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0.0f;
  for (float v : lanes) s += v;
  for (size_t i = part * streams; i < n; ++i) s += p[i];
  return s;
}

}  // namespace

double ReadBandwidth(const float* p, size_t bytes, ThreadPool& pool, int threads, int streams,
                     int reps) {
  const size_t n = bytes / sizeof(float);
  // Chunks of a multiple of 8 floats keep the aligned loads aligned.
  const size_t per = (n / threads + 7) / 8 * 8;
  const double t = BestTime(
      [&] {
        pool.ParallelFor(threads, 1, [&](int64_t b, int64_t e) {
          for (int64_t c = b; c < e; ++c) {
            const size_t begin = std::min(n, c * per), end = std::min(n, (c + 1) * per);
            g_sink.store(g_sink.load(std::memory_order_relaxed) + SumRange(p + begin, end - begin, streams),
                         std::memory_order_relaxed);
          }
        });
      },
      reps);
  return static_cast<double>(bytes) / t / 1e9;
}

double FmaClockGhz(ThreadPool& pool) {
  constexpr int64_t kIters = 100'000'000;
  std::vector<double> ghz(pool.num_threads(), 0.0);
  for (int rep = 0; rep < 3; ++rep) {
    pool.ParallelFor(pool.num_threads(), 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        __m256 x = _mm256_set1_ps(1.0f);
        const __m256 a = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-6f);
        const double t0 = NowSeconds();
        for (int64_t i = 0; i < kIters; ++i) {
          x = _mm256_fmadd_ps(x, a, d);
          asm volatile("" : "+x"(x));  // one FMA per iteration, strictly dependent
        }
        const double dt = NowSeconds() - t0;
        g_sink.store(_mm256_cvtss_f32(x), std::memory_order_relaxed);
        ghz[c] = std::max(ghz[c], 4.0 * kIters / dt / 1e9);
      }
    });
  }
  return *std::min_element(ghz.begin(), ghz.end());
}

double FmaPeakGflops(ThreadPool& pool) {
  constexpr int64_t kIters = 20'000'000;
  const int threads = pool.num_threads();
  const double t = BestTime(
      [&] {
        pool.ParallelFor(threads, 1, [&](int64_t, int64_t) {
          __m256 c[12];
          for (int i = 0; i < 12; ++i) c[i] = _mm256_set1_ps(static_cast<float>(i));
          const __m256 a = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-7f);
          for (int64_t it = 0; it < kIters; ++it) {
            for (int i = 0; i < 12; ++i) c[i] = _mm256_fmadd_ps(c[i], a, d);
            asm volatile("" : "+x"(c[0]), "+x"(c[1]), "+x"(c[2]), "+x"(c[3]), "+x"(c[4]),
                         "+x"(c[5]), "+x"(c[6]), "+x"(c[7]), "+x"(c[8]), "+x"(c[9]),
                         "+x"(c[10]), "+x"(c[11]));
          }
          __m256 s = c[0];
          for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, c[i]);
          g_sink.store(_mm256_cvtss_f32(s), std::memory_order_relaxed);
        });
      },
      3);
  return static_cast<double>(threads) * kIters * 12 * 16 / t / 1e9;
}

}  // namespace ax::bench
