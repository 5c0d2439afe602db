#include "api/delegated_stream.h"

#include <algorithm>

namespace ax {

using Clock = std::chrono::steady_clock;

namespace {

int TotalChoices(const std::vector<UpstreamCall>& calls) {
  int n = 0;
  for (const UpstreamCall& c : calls) n += c.n;
  return n;
}

}  // namespace

DelegatedStream::DelegatedStream(std::shared_ptr<const delegate::UpstreamClient> client,
                                 std::vector<UpstreamCall> calls)
    : client_(std::move(client)),
      calls_(std::move(calls)),
      t0_(Clock::now()),
      cancels_(calls_.size()),
      usage_(calls_.size()),
      choices_(static_cast<size_t>(TotalChoices(calls_))),
      finishes_(choices_.size()),
      running_(calls_.size()) {
  int first = 0;
  for (const UpstreamCall& c : calls_) {
    first_choice_.push_back(first);
    first += c.n;
  }
  result_.token_ids = calls_.front().token_ids;
  for (size_t k = 0; k < calls_.size(); ++k)
    workers_.emplace_back([this, k] { Done(k, calls_[k].streaming ? RunStreaming(k) : RunBlocking(k)); });
}

DelegatedStream::~DelegatedStream() {
  for (delegate::CancelToken& c : cancels_) c.Cancel();
  for (std::thread& w : workers_) w.join();
}

void DelegatedStream::Cancel() {
  cancelled_ = true;
  for (delegate::CancelToken& c : cancels_) c.Cancel();
}

bool DelegatedStream::Next(SessionChunk* chunk) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || ended_; });
  if (queue_.empty()) return false;
  *chunk = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

Status DelegatedStream::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

SessionResult DelegatedStream::result() const {
  std::lock_guard<std::mutex> lock(mu_);
  SessionResult r = result_;
  r.metrics.prompt_tokens = r.metrics.completion_tokens = 0;
  for (const RequestMetrics& u : usage_) {
    r.metrics.prompt_tokens = std::max(r.metrics.prompt_tokens, u.prompt_tokens);
    r.metrics.completion_tokens += u.completion_tokens;
  }
  r.choices = choices_;
  r.text = choices_[0].text;
  r.finish_reason = choices_[0].finish_reason;
  return r;
}

Status DelegatedStream::RunBlocking(size_t k) {
  AX_ASSIGN_OR_RETURN(nlohmann::json j, client_->PostJson(calls_[k].path, calls_[k].body, &cancels_[k]));
  std::vector<ChoicePart> parts;
  std::lock_guard<std::mutex> lock(mu_);
  AX_RETURN_IF_ERROR(Read(k, j, &parts));
  return Take(k, std::move(parts));
}

Status DelegatedStream::RunStreaming(size_t k) {
  const UpstreamCall& call = calls_[k];
  nlohmann::json body = call.body;
  call.ask_for_stream(&body);
  bool done = false;
  Status failed;
  Status s = client_->PostSse(
      call.path, body,
      [&](const std::string& data) {
        if (data == "[DONE]") {
          done = true;
          return false;
        }
        auto j = nlohmann::json::parse(data, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          failed = Unavailable("upstream " + Url(k) + ": an SSE event is not JSON: " + data.substr(0, 200));
          return false;
        }
        if (j.contains("error")) {
          failed = Unavailable("upstream " + Url(k) + " failed mid-stream: " + delegate::UpstreamErrorMessage(data));
          return false;
        }
        std::vector<ChoicePart> parts;
        std::lock_guard<std::mutex> lock(mu_);
        failed = Read(k, j, &parts);
        if (failed.ok()) failed = Take(k, std::move(parts));
        return failed.ok();
      },
      &cancels_[k]);
  AX_RETURN_IF_ERROR(s);
  AX_RETURN_IF_ERROR(failed);
  std::lock_guard<std::mutex> lock(mu_);
  const auto mine = finishes_.begin() + first_choice_[k];
  const bool all_finished = std::all_of(mine, mine + call.n, [](const auto& f) { return f.has_value(); });
  if (!done && !all_finished)
    return Unavailable("upstream " + Url(k) + ": the stream ended before a finish_reason or [DONE]");
  return Status::Ok();
}

void DelegatedStream::Done(size_t k, const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok() && !cancelled_ && status_.ok()) {
    status_ = s;  // the others are of no use now
    for (size_t i = 0; i < cancels_.size(); ++i)
      if (i != k) cancels_[i].Cancel();
  }
  if (--running_ == 0) Finish();
}

Status DelegatedStream::Read(size_t k, const nlohmann::json& j, std::vector<ChoicePart>* parts) {
  const Status s = calls_[k].read(j, parts, &usage_[k]);
  return s.ok() ? s : Status(s.code(), "upstream " + Url(k) + ": " + s.message());
}

Status DelegatedStream::Take(size_t k, std::vector<ChoicePart> parts) {
  for (ChoicePart& p : parts) {
    if (p.index < 0 || p.index >= calls_[k].n)
      return Unavailable("upstream " + Url(k) + ": choice index " + std::to_string(p.index) + " outside the " +
                         std::to_string(calls_[k].n) + " choices asked for");
    p.index += first_choice_[k];
    if (p.finish) finishes_[p.index] = *p.finish;
    if (p.ids_left_out && !ids_lost_) {
      ids_lost_ = true;
      result_.token_ids = false;
      result_.output_tokens.clear();
    }
    if (p.empty()) continue;
    if (!first_piece_) {
      first_piece_ = true;
      result_.metrics.ttft_seconds = Seconds();
    }
    SessionChoice& choice = choices_[p.index];
    choice.text += p.text;
    choice.reasoning += p.reasoning;
    for (const ToolCallPart& part : p.calls) {
      if (part.index < 0 || part.index > static_cast<int>(choice.tool_calls.size()))
        return Unavailable("upstream " + Url(k) + ": tool call index " + std::to_string(part.index) +
                           " does not follow the calls so far");
      if (part.index == static_cast<int>(choice.tool_calls.size())) choice.tool_calls.emplace_back();
      ToolCall& call = choice.tool_calls[part.index];
      call.id += part.id;
      call.name += part.name;
      call.arguments += part.arguments;
    }
    if (ids_lost_) {
      ChoicePart text_only = p;
      text_only.tokens.clear();
      text_only.ids_left_out = false;
      if (!text_only.empty()) Queue(text_only);
      continue;
    }
    if (p.index == 0) result_.output_tokens.insert(result_.output_tokens.end(), p.tokens.begin(), p.tokens.end());
    Queue(p);
  }
  cv_.notify_all();
  return Status::Ok();
}

// One chunk per id (the text with the last), or one chunk when there are none.
void DelegatedStream::Queue(const ChoicePart& p) {
  const size_t ids = p.tokens.size();
  for (size_t k = 0; k + 1 < ids; ++k) {
    SessionChunk c;
    c.choice = p.index;
    c.token = p.tokens[k];
    queue_.push_back(std::move(c));
  }
  SessionChunk c;
  c.choice = p.index;
  if (ids) c.token = p.tokens.back();
  c.text_delta = p.text;
  c.reasoning_delta = p.reasoning;
  c.tool_calls = p.calls;
  queue_.push_back(std::move(c));
}

void DelegatedStream::Finish() {
  for (size_t i = 0; i < choices_.size(); ++i) {
    SessionChunk last;
    last.choice = static_cast<int>(i);
    last.finished = true;
    if (cancelled_)
      last.finish_reason = FinishReason::kCancelled;
    else if (!status_.ok())
      last.finish_reason = FinishReason::kError;
    else
      last.finish_reason = finishes_[i].value_or(FinishReason::kStop);
    choices_[i].finish_reason = last.finish_reason;
    if (status_.ok()) queue_.push_back(std::move(last));
  }
  result_.metrics.total_seconds = Seconds();
  ended_ = true;
  cv_.notify_all();
}

double DelegatedStream::Seconds() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

}  // namespace ax
