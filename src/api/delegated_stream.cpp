#include "api/delegated_stream.h"

#include <algorithm>

namespace ax {

using Clock = std::chrono::steady_clock;

DelegatedStream::DelegatedStream(std::shared_ptr<const delegate::UpstreamClient> client, UpstreamCall call)
    : client_(std::move(client)),
      call_(std::move(call)),
      t0_(Clock::now()),
      choices_(static_cast<size_t>(call_.n)),
      finishes_(static_cast<size_t>(call_.n)) {
  result_.token_ids = call_.token_ids;
  worker_ = std::thread([this] { Finish(call_.streaming ? RunStreaming() : RunBlocking()); });
}

DelegatedStream::~DelegatedStream() {
  cancel_.Cancel();
  worker_.join();
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
  r.choices = choices_;
  r.text = choices_[0].text;
  r.finish_reason = choices_[0].finish_reason;
  return r;
}

Status DelegatedStream::RunBlocking() {
  AX_ASSIGN_OR_RETURN(nlohmann::json j, client_->PostJson(call_.path, call_.body, &cancel_));
  std::vector<ChoicePart> parts;
  std::lock_guard<std::mutex> lock(mu_);
  AX_RETURN_IF_ERROR(Read(j, &parts));
  return Take(parts);
}

Status DelegatedStream::RunStreaming() {
  nlohmann::json body = call_.body;
  call_.ask_for_stream(&body);
  bool done = false;
  Status failed;
  Status s = client_->PostSse(
      call_.path, body,
      [&](const std::string& data) {
        if (data == "[DONE]") {
          done = true;
          return false;
        }
        auto j = nlohmann::json::parse(data, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          failed = Unavailable("upstream " + Url() + ": an SSE event is not JSON: " + data.substr(0, 200));
          return false;
        }
        if (j.contains("error")) {
          failed = Unavailable("upstream " + Url() + " failed mid-stream: " + delegate::UpstreamErrorMessage(data));
          return false;
        }
        std::vector<ChoicePart> parts;
        std::lock_guard<std::mutex> lock(mu_);
        failed = Read(j, &parts);
        if (failed.ok()) failed = Take(parts);
        return failed.ok();
      },
      &cancel_);
  AX_RETURN_IF_ERROR(s);
  AX_RETURN_IF_ERROR(failed);
  const bool all_finished =
      std::all_of(finishes_.begin(), finishes_.end(), [](const auto& f) { return f.has_value(); });
  if (!done && !all_finished)
    return Unavailable("upstream " + Url() + ": the stream ended before a finish_reason or [DONE]");
  return Status::Ok();
}

Status DelegatedStream::Read(const nlohmann::json& j, std::vector<ChoicePart>* parts) {
  const Status s = call_.read(j, parts, &result_.metrics);
  return s.ok() ? s : Status(s.code(), "upstream " + Url() + ": " + s.message());
}

Status DelegatedStream::Take(const std::vector<ChoicePart>& parts) {
  for (const ChoicePart& p : parts) {
    if (p.index < 0 || static_cast<size_t>(p.index) >= choices_.size())
      return Unavailable("upstream " + Url() + ": choice index " + std::to_string(p.index) + " outside the " +
                         std::to_string(choices_.size()) + " choices asked for");
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
        return Unavailable("upstream " + Url() + ": tool call index " + std::to_string(part.index) +
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

void DelegatedStream::Finish(const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cancel_.cancelled() && !s.ok()) status_ = s;
  for (size_t i = 0; i < choices_.size(); ++i) {
    SessionChunk last;
    last.choice = static_cast<int>(i);
    last.finished = true;
    if (cancel_.cancelled())
      last.finish_reason = FinishReason::kCancelled;
    else if (!s.ok())
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
