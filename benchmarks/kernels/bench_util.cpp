// Machine ceilings for ax-kernel-bench (compiled with -mavx2 -mfma).
#include "bench_util.h"

#include <immintrin.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace ax::bench {
namespace {

std::atomic<float> g_sink{0.0f};  // keeps the measured loops from being optimised away

// Sum of n floats read as `streams` (<= 8) interleaved sequential streams (far-apart
// parts of the range), each prefetched 1 KiB ahead. One stream per core is limited by how many
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

double ReadBandwidthOneCoreCpuTime(const float* p, size_t bytes, int streams, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = ThreadCpuSeconds();
    g_sink.store(SumRange(p, bytes / sizeof(float), streams), std::memory_order_relaxed);
    best = std::min(best, ThreadCpuSeconds() - t0);
  }
  return static_cast<double>(bytes) / best / 1e9;
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double FmaClockGhz(ThreadPool& pool) {
  constexpr int64_t kIters = 100'000'000;
  std::vector<double> ghz(pool.num_threads(), 0.0);
  for (int rep = 0; rep < 3; ++rep) {
    pool.ParallelFor(pool.num_threads(), 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        __m256 x = _mm256_set1_ps(1.0f);
        const __m256 a = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-6f);
        const double t0 = ThreadCpuSeconds();
        for (int64_t i = 0; i < kIters; ++i) {
          x = _mm256_fmadd_ps(x, a, d);
          asm volatile("" : "+x"(x));  // one FMA per iteration, strictly dependent
        }
        const double dt = ThreadCpuSeconds() - t0;
        g_sink.store(_mm256_cvtss_f32(x), std::memory_order_relaxed);
        ghz[c] = std::max(ghz[c], 4.0 * kIters / dt / 1e9);
      }
    });
  }
  return *std::min_element(ghz.begin(), ghz.end());
}

double FmaPeakGflops(ThreadPool& pool, bool wall) {
  constexpr int64_t kIters = 20'000'000;
  const int threads = pool.num_threads();
  std::vector<double> cpu(threads, 1e30);
  const double t = BestTime(
      [&] {
        pool.ParallelFor(threads, 1, [&](int64_t b, int64_t) {
          const double t_start = ThreadCpuSeconds();
          // Named registers (an array would live on the stack and chain through
          // store-forwarding, halving the rate).
          const __m256 a = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-7f);
          __m256 c0 = d, c1 = d, c2 = d, c3 = d, c4 = d, c5 = d;
          __m256 c6 = d, c7 = d, c8 = d, c9 = d, c10 = d, c11 = d;
          for (int64_t it = 0; it < kIters; ++it) {
            c0 = _mm256_fmadd_ps(c0, a, d);
            c1 = _mm256_fmadd_ps(c1, a, d);
            c2 = _mm256_fmadd_ps(c2, a, d);
            c3 = _mm256_fmadd_ps(c3, a, d);
            c4 = _mm256_fmadd_ps(c4, a, d);
            c5 = _mm256_fmadd_ps(c5, a, d);
            c6 = _mm256_fmadd_ps(c6, a, d);
            c7 = _mm256_fmadd_ps(c7, a, d);
            c8 = _mm256_fmadd_ps(c8, a, d);
            c9 = _mm256_fmadd_ps(c9, a, d);
            c10 = _mm256_fmadd_ps(c10, a, d);
            c11 = _mm256_fmadd_ps(c11, a, d);
            asm volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5),
                         "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
          }
          const __m256 s = _mm256_add_ps(
              _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                            _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7))),
              _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
          g_sink.store(_mm256_cvtss_f32(s), std::memory_order_relaxed);
          cpu[b] = std::min(cpu[b], ThreadCpuSeconds() - t_start);
        });
      },
      3);
  const double flops_per_thread = static_cast<double>(kIters) * 12 * 16;
  if (wall) return threads * flops_per_thread / t / 1e9;
  double sum = 0.0;
  for (double c : cpu) sum += flops_per_thread / c / 1e9;
  return sum;
}

}  // namespace ax::bench
