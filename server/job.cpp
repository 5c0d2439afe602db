#include "job.h"

#include <ctime>

namespace ax::server {

bool Admission::TryAcquire(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || in_flight_ + n > capacity_) return false;
  in_flight_ += n;
  return true;
}

void Admission::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
}

bool Admission::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void Admission::Release(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_ -= n;
}

int64_t Admission::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

void Admission::Register(Job* job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.insert(job);
}

void Admission::Unregister(Job* job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.erase(job);
}

int64_t Admission::live_jobs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(jobs_.size());
}

void Admission::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Job* j : jobs_) j->Cancel();  // Cancel only touches thread-safe streams
}

Job::Job(Engine& engine, ServerMetrics& metrics, Admission& admission, ApiRequest request,
         std::string id, std::string model_name)
    : engine_(engine),
      metrics_(metrics),
      admission_(admission),
      req_(std::move(request)),
      id_(std::move(id)),
      model_(std::move(model_name)),
      created_(static_cast<int64_t>(std::time(nullptr))),
      t0_(std::chrono::steady_clock::now()) {}

Job::~Job() {
  if (registered_) admission_.Unregister(this);
  for (ChoiceState& c : choices_) {
    if (!c.stream || c.finished) continue;
    c.stream->Cancel();  // the client is gone: the engine frees its KV blocks within a step
    metrics_.CountFinish(FinishReason::kCancelled);
  }
  if (reserved_ > 0) admission_.Release(reserved_);
}

double Job::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

bool Job::Start(ApiError* err) {
  const int n = req_.num_choices();
  if (n > admission_.capacity()) {  // would never fit, however long the client waits
    *err = InvalidField("n", std::to_string(n) + " choices (prompts × n) exceed this server's capacity of " +
                                 std::to_string(admission_.capacity()) + " (--max-seqs + --max-queue)");
    return false;
  }
  if (!admission_.TryAcquire(n)) {
    const bool closing = admission_.closed();
    *err = closing ? ShuttingDown() : Overloaded(1);
    metrics_.CountRejected(closing ? "shutting_down" : "queue_full");
    return false;
  }
  reserved_ = n;
  choices_.resize(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    auto stream = engine_.Submit(req_.ChoiceRequest(c));
    if (!stream.ok()) {
      // A constraint the engine could not compile names the field it came from.
      const bool constraint = stream.status().message().rfind("constraint: ", 0) == 0;
      const std::string param = constraint                                                   ? req_.constraint_param
                                : req_.route == Route::kChat || req_.route == Route::kMessages ? "messages"
                                : req_.route == Route::kResponses                             ? "input"
                                                                                              : "prompt";
      *err = FromStatus(stream.status(), param);
      for (int k = 0; k < c; ++k) choices_[static_cast<size_t>(k)].stream->Cancel();
      choices_.clear();
      return false;
    }
    choices_[static_cast<size_t>(c)].stream = std::move(stream).value();
  }
  unfinished_ = n;
  admission_.Register(this);
  registered_ = true;
  return true;
}

void Job::Cancel() {
  for (ChoiceState& c : choices_)
    if (c.stream) c.stream->Cancel();
}

bool Job::Next(Event* out, int timeout_ms) {
  if (done()) return false;
  const size_t n = choices_.size();
  if (unfinished_ == 1 || n == 1) {
    for (size_t i = 0; i < n; ++i) {
      if (choices_[i].finished) continue;
      if (!choices_[i].stream->Next(&out->ev, timeout_ms)) return false;
      out->choice = static_cast<int>(i);
      Apply(out->choice, out->ev);
      return true;
    }
    return false;
  }
  // Several streams: poll them in turn, sleeping briefly on one between rounds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (rr_ + k) % n;
      if (choices_[i].finished || !choices_[i].stream->Next(&out->ev, 0)) continue;
      rr_ = i + 1;
      out->choice = static_cast<int>(i);
      Apply(out->choice, out->ev);
      return true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    const int wait = static_cast<int>(std::min<int64_t>(
        2, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (rr_ + k) % n;
      if (choices_[i].finished) continue;
      if (choices_[i].stream->Next(&out->ev, wait)) {
        rr_ = i + 1;
        out->choice = static_cast<int>(i);
        Apply(out->choice, out->ev);
        return true;
      }
      break;
    }
  }
}

void Job::Apply(int c, const StreamEvent& ev) {
  ChoiceState& s = choices_[static_cast<size_t>(c)];
  if (!ev.prompt_logprobs.empty()) s.prompt_logprobs = ev.prompt_logprobs;
  if (ev.kind == StreamEvent::Kind::kToken) {
    const double now = Elapsed();
    if (!s.saw_token) metrics_.ObserveTtft(now);
    else metrics_.ObserveItl(now - s.last_token_s);
    s.saw_token = true;
    s.last_token_s = now;
    s.ids.push_back(ev.token.id);
    s.text += ev.token.text_delta;
    if (req_.logprobs) {
      TokenEvent t = ev.token;
      t.text_delta.clear();
      s.logprob_tokens.push_back(std::move(t));
    }
    return;
  }
  s.finished = true;
  s.reason = ev.finish_reason;
  s.error = ev.error;
  s.stop_string = ev.stop_string;
  s.text += ev.text_tail;
  s.metrics = s.stream->metrics();
  metrics_.CountFinish(ev.finish_reason);
  if (--unfinished_ == 0) metrics_.ObserveRequest(Elapsed());
}

bool Job::any_error() const {
  for (const ChoiceState& c : choices_)
    if (c.finished && c.reason == FinishReason::kError) return true;
  return false;
}

int64_t Job::prompt_tokens() const {
  int64_t n = 0;
  for (const PromptInput& p : req_.prompts) n += static_cast<int64_t>(p.ids.size());
  return n;
}

int64_t Job::completion_tokens() const {
  int64_t n = 0;
  for (const ChoiceState& c : choices_) n += static_cast<int64_t>(c.ids.size());
  return n;
}

int64_t Job::cached_tokens() const {
  int64_t n = 0;
  for (size_t c = 0; c < choices_.size(); c += static_cast<size_t>(req_.n))
    n += choices_[c].metrics.prefix_hit_tokens;  // the first sample of each prompt
  return n;
}

}  // namespace ax::server
