#include "http_pool.h"

#include <chrono>
#include <thread>

namespace ax::server {
namespace {
constexpr auto kIdleExit = std::chrono::seconds(60);  // an extra worker idle this long ends
}  // namespace

GrowingThreadPool::GrowingThreadPool(size_t warm, size_t max_threads)
    : warm_(std::min(warm, max_threads)), max_(std::max<size_t>(max_threads, 1)) {
  std::lock_guard<std::mutex> lock(mu_);
  while (live_ < warm_) Spawn();
}

GrowingThreadPool::~GrowingThreadPool() { shutdown(); }

void GrowingThreadPool::Spawn() {
  ++live_;
  ++idle_;
  std::thread([this] { Work(); }).detach();  // shutdown() waits for live_ to reach 0
}

void GrowingThreadPool::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(std::move(fn));
  // Every queued job has an idle worker to take it, or a new one (up to the cap).
  if (jobs_.size() > idle_ && live_ < max_) Spawn();
  work_cv_.notify_one();
}

void GrowingThreadPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const bool woke = work_cv_.wait_for(lock, kIdleExit, [this] { return stopping_ || !jobs_.empty(); });
    if (!woke && live_ > warm_) break;  // an extra worker with nothing to do
    if (jobs_.empty()) {
      if (stopping_) break;
      continue;
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    --idle_;
    lock.unlock();
    job();
    lock.lock();
    ++idle_;
  }
  --idle_;
  if (--live_ == 0) done_cv_.notify_all();
}

void GrowingThreadPool::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  work_cv_.notify_all();
  done_cv_.wait(lock, [this] { return live_ == 0; });
}

size_t GrowingThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

}  // namespace ax::server
