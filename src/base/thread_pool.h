// A persistent thread pool for data-parallel kernels (GEMV/GEMM rows, attention heads).
//
// ParallelFor splits [0, n) into one contiguous chunk per thread, so a kernel sees at
// most num_threads() calls and every call owns a disjoint range: outputs need no
// synchronisation. Chunks are claimed, not assigned: the caller's thread and the
// workers take the next unclaimed chunk until none is left, so a worker that the OS
// has not scheduled yet (a busy machine) delays nothing — the caller runs its chunk.
// Workers spin briefly between jobs (decode issues hundreds of short jobs per token)
// and then sleep on a condition variable.
//
// Thread-safety: one ParallelFor at a time per pool (the engine thread owns the pool).
// Nested ParallelFor from inside a job runs serially on the calling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ax {

class ThreadPool {
 public:
  // num_threads counts the caller: 1 means no workers are started.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(begin, end) over [0, n) split into chunks aligned to `grain` items.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Number of hardware threads this process may use (affinity-aware).
  static int HardwareThreads();

 private:
  void WorkerLoop();
  // Claims and runs chunks of job `job` until none is left.
  void RunChunks(uint32_t job);
  void RunChunk(int64_t index);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  bool in_job_ = false;
  // (job id << 32) | next unclaimed chunk. A claim is a CAS on this word, so a late
  // worker can never claim a chunk of a job other than the one it read.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> done_{0};
  uint32_t job_ = 0;
  // The current job: stable while any of its chunks is claimed and not done.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  int64_t chunks_ = 0;
};

// The process-wide pool used by the CPU backend (created on first use with
// AX_THREADS or HardwareThreads() threads).
ThreadPool& DefaultThreadPool();

}  // namespace ax
