// Job: one HTTP generation request in flight — its choices submitted to the engine,
// their streams drained into per-choice state that the formatters read.
//
//   Admission      at most `capacity` engine requests (choices) in flight; beyond that
//                  the server answers 503 + Retry-After instead of queueing forever.
//                  It also lists live jobs so shutdown can cancel them.
//   Job::Start     reserves capacity, submits every choice (all or none).
//   Job::Next      the next event of any choice, applied to that choice's state.
//   ~Job           cancels what is unfinished (a client that went away), gives the
//                  capacity back.
// Thread-safety: a Job is driven by one handler thread; Cancel() may be called from
// any thread (shutdown). Admission is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "api_request.h"
#include "ax/engine.h"
#include "errors.h"
#include "metrics.h"

namespace ax::server {

class Job;

class Admission {
 public:
  explicit Admission(int64_t capacity) : capacity_(capacity) {}
  // False when n more would pass the capacity, or after Close().
  bool TryAcquire(int64_t n);
  void Close();
  bool closed() const;
  void Release(int64_t n);
  int64_t in_flight() const;
  int64_t capacity() const { return capacity_; }
  void Register(Job* job);
  void Unregister(Job* job);
  int64_t live_jobs() const;
  void CancelAll();

 private:
  const int64_t capacity_;
  mutable std::mutex mu_;
  int64_t in_flight_ = 0;
  bool closed_ = false;
  std::set<Job*> jobs_;
};

struct ChoiceState {
  std::shared_ptr<RequestStream> stream;
  std::vector<int32_t> ids;
  std::string text;
  std::vector<TokenEvent> logprob_tokens;  // when logprobs were asked for (text_delta cleared)
  std::vector<TokenEvent> prompt_logprobs; // prompt positions 1 … n-1 (echo + logprobs)
  bool finished = false;
  FinishReason reason = FinishReason::kLength;
  std::string stop_string;  // the stop string that ended the choice ("" otherwise)
  std::string error;
  RequestMetrics metrics;
  double last_token_s = 0;  // job clock
  bool saw_token = false;
};

class Job {
 public:
  Job(Engine& engine, ServerMetrics& metrics, Admission& admission, ApiRequest request,
      std::string id, std::string model_name);
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // Reserves capacity and submits every choice; on failure nothing stays submitted.
  bool Start(ApiError* err);

  struct Event {
    int choice = 0;
    StreamEvent ev;
  };
  // Waits up to timeout_ms for an event of any unfinished choice. False on timeout.
  bool Next(Event* out, int timeout_ms);
  bool done() const { return unfinished_ == 0; }
  void Cancel();

  const ApiRequest& request() const { return req_; }
  const std::vector<ChoiceState>& choices() const { return choices_; }
  const std::string& id() const { return id_; }
  const std::string& model_name() const { return model_; }
  int64_t created() const { return created_; }
  const Engine& engine() const { return engine_; }
  bool any_error() const;
  // Prompt tokens (each prompt once), completion tokens (all choices), cached prompt tokens.
  int64_t prompt_tokens() const;
  int64_t completion_tokens() const;
  int64_t cached_tokens() const;

 private:
  void Apply(int c, const StreamEvent& ev);
  double Elapsed() const;

  Engine& engine_;
  ServerMetrics& metrics_;
  Admission& admission_;
  const ApiRequest req_;
  const std::string id_, model_;
  const int64_t created_;
  const std::chrono::steady_clock::time_point t0_;
  std::vector<ChoiceState> choices_;
  int unfinished_ = 0;
  int64_t reserved_ = 0;
  bool registered_ = false;
  size_t rr_ = 0;  // round-robin start for n > 1
};

}  // namespace ax::server
