// The HTTP server's worker threads: a pool that grows with the connections. cpp-httplib
// runs each connection on one worker from accept to close, and a worker blocked on a
// client that sends its request slowly (or never finishes its headers) is lost to
// everyone else; with a fixed pool, a few hundred such connections made a normal
// request wait for the read timeout. Here a connection that finds no idle worker gets
// a new thread, up to `max_threads`; `warm` threads are kept, and extra ones end after
// a minute idle. No connection holds an engine seat before its request is parsed.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include <httplib.h>

namespace ax::server {

class GrowingThreadPool final : public httplib::TaskQueue {
 public:
  GrowingThreadPool(size_t warm, size_t max_threads);
  ~GrowingThreadPool() override;

  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then ends every worker (waits for them).
  void shutdown() override;

  size_t threads() const;  // alive now

 private:
  void Spawn();  // REQUIRES: mu_ held
  void Work();

  const size_t warm_, max_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::function<void()>> jobs_;
  size_t live_ = 0, idle_ = 0;
  bool stopping_ = false;
};

}  // namespace ax::server
