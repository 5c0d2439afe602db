#include "engine/request_stream.h"

#include <chrono>

namespace ax {

bool StreamImpl::Next(StreamEvent* event, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return !events_.empty() || finish_taken_; };
  if (timeout_ms < 0) {
    cv_.wait(lock, ready);
  } else if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready)) {
    return false;
  }
  if (events_.empty()) return false;
  *event = std::move(events_.front());
  events_.pop_front();
  if (event->kind == StreamEvent::Kind::kFinish) finish_taken_ = true;
  return true;
}

bool StreamImpl::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finish_pushed_;
}

RequestMetrics StreamImpl::metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metrics_;
}

void StreamImpl::Push(StreamEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

void StreamImpl::Finish(StreamEvent event, const RequestMetrics& metrics) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_ = metrics;
    finish_pushed_ = true;
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

}  // namespace ax
