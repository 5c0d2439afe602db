#include "base/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/check.h"

namespace ax {

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::HardwareThreads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

void ThreadPool::RunChunk(int64_t index) {
  // Chunk boundaries are rounded to the grain so SIMD kernels get aligned row blocks.
  const int64_t blocks = (n_ + grain_ - 1) / grain_;
  const int64_t per = blocks / chunks_;
  const int64_t extra = blocks % chunks_;
  const int64_t b0 = index * per + std::min<int64_t>(index, extra);
  const int64_t b1 = b0 + per + (index < extra ? 1 : 0);
  const int64_t begin = std::min(n_, b0 * grain_);
  const int64_t end = std::min(n_, b1 * grain_);
  if (begin < end) (*fn_)(begin, end);
}

void ThreadPool::RunChunks(uint32_t job) {
  for (;;) {
    uint64_t cur = claim_.load(std::memory_order_acquire);
    if (static_cast<uint32_t>(cur >> 32) != job) return;
    const int64_t chunk = static_cast<int64_t>(cur & 0xffffffffu);
    if (chunk >= chunks_) return;
    if (!claim_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) continue;
    RunChunk(chunk);
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    // Spin a little before sleeping: jobs arrive back to back during decode.
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < 4000; ++spin) {
      CpuRelax();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      gen = generation_.load();
    }
    seen = gen;
    if (stop_.load()) return;
    RunChunks(static_cast<uint32_t>(claim_.load(std::memory_order_acquire) >> 32));
  }
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (num_threads_ == 1 || in_job_ || n <= grain) {
    fn(0, n);
    return;
  }
  in_job_ = true;
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  chunks_ = std::min<int64_t>(num_threads_, (n + grain - 1) / grain);
  done_.store(0, std::memory_order_relaxed);
  const uint32_t job = ++job_;
  claim_.store(static_cast<uint64_t>(job) << 32, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  cv_.notify_all();
  RunChunks(job);
  // Every chunk is claimed; wait for the ones other threads are still running.
  for (int spin = 0; done_.load(std::memory_order_acquire) != chunks_; ++spin) {
    if (spin < 2000) CpuRelax();
    else std::this_thread::yield();
  }
  in_job_ = false;
}

ThreadPool& DefaultThreadPool() {
  static ThreadPool pool([] {
    if (const char* env = std::getenv("AX_THREADS")) {
      int n = std::atoi(env);
      if (n > 0) return n;
    }
    return ThreadPool::HardwareThreads();
  }());
  return pool;
}

}  // namespace ax
