// StreamImpl: the thread-safe queue between the engine thread (producer) and the
// caller (consumer) of one request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "ax/engine.h"

namespace ax {

class StreamImpl final : public RequestStream {
 public:
  StreamImpl(int64_t id, std::vector<int32_t> prompt) : id_(id), prompt_(std::move(prompt)) {}

  // ---- caller side ----
  int64_t id() const override { return id_; }
  bool Next(StreamEvent* event, int timeout_ms) override;
  void Cancel() override { cancel_.store(true, std::memory_order_release); }
  bool finished() const override;
  RequestMetrics metrics() const override;
  std::vector<int32_t> prompt_tokens() const override { return prompt_; }

  // ---- engine side ----
  bool cancel_requested() const { return cancel_.load(std::memory_order_acquire); }
  void Push(StreamEvent event);
  // Pushes the finish event with the final metrics.
  void Finish(StreamEvent event, const RequestMetrics& metrics);

 private:
  const int64_t id_;
  const std::vector<int32_t> prompt_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamEvent> events_;
  bool finish_pushed_ = false;
  bool finish_taken_ = false;
  RequestMetrics metrics_;
};

}  // namespace ax
