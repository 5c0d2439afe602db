// Small helpers for ax-kernel-bench: timing (best of repeats), the machine's ceilings
// (streaming read bandwidth, FMA clock and peak), aligned buffers.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>

#include "base/thread_pool.h"
#include "base/timer.h"

namespace ax::bench {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <typename T>
using Buffer = std::unique_ptr<T[], FreeDeleter>;

// 2 MiB-aligned allocation backed by transparent huge pages where the kernel grants
// them (MADV_HUGEPAGE, as the CPU backend's large buffers are: the benchmark then sees
// the engine's TLB behaviour), first-touched in parallel so its pages are mapped before
// any timing.
template <typename T>
Buffer<T> AllocTouched(size_t count, ThreadPool& pool) {
  const size_t bytes = (count * sizeof(T) + (2u << 20) - 1) / (2u << 20) * (2u << 20);
  T* p = static_cast<T*>(std::aligned_alloc(2u << 20, bytes));
  madvise(p, bytes, MADV_HUGEPAGE);
  pool.ParallelFor(static_cast<int64_t>(bytes / 4096), 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) static_cast<char*>(static_cast<void*>(p))[i * 4096] = 0;
  });
  return Buffer<T>(p);
}

// Best (smallest) wall time of fn over `reps` runs, after one warm-up run; keeps
// repeating until at least min_total seconds have been spent (noise on a shared box).
inline double BestTime(const std::function<void()>& fn, int reps, double min_total = 0.0) {
  fn();
  double best = 1e30, total = 0.0;
  for (int r = 0; r < reps || total < min_total; ++r) {
    const double t0 = NowSeconds();
    fn();
    const double dt = NowSeconds() - t0;
    best = dt < best ? dt : best;
    total += dt;
    if (r > 1000) break;
  }
  return best;
}

// Streaming read bandwidth (GB/s, 1e9 bytes) of `bytes` bytes at p using `threads`
// threads of pool (the others idle), each reading its share as `streams` interleaved
// sequential streams (1: a plain loop; 4 or 8: far-apart parts + software prefetch), best
// of reps.
double ReadBandwidth(const float* p, size_t bytes, ThreadPool& pool, int threads, int streams,
                     int reps);

// CPU time consumed by the calling thread (excludes time it was not scheduled: on a
// shared machine this measures what a core does while it runs our code).
double ThreadCpuSeconds();

// The same on the calling thread alone, timed in thread CPU time (noise-robust).
double ReadBandwidthOneCoreCpuTime(const float* p, size_t bytes, int streams, int reps);

// Core clock in GHz from a dependent chain of FMAs timed in thread CPU time, assuming
// a 4-cycle FMA latency (Skylake through Sapphire Rapids); run on every thread of the
// pool at once (the slowest thread is reported): the all-core clock under FMA load.
double FmaClockGhz(ThreadPool& pool);

// Measured FMA throughput (GFLOP/s) of the pool: 12 independent ymm FMA chains per
// thread, the microkernel's best case with no loads at all. `wall`: over wall time
// (what other processes leave us); else the sum over threads of flops / thread CPU time
// (the machine's, had we the cores to ourselves).
double FmaPeakGflops(ThreadPool& pool, bool wall);

}  // namespace ax::bench
