#include "sse.h"

#include <httplib.h>

#include <chrono>

namespace ax::server {
namespace {

constexpr int kPollMs = 50;  // how often a waiting handler checks its client

struct StreamState {
  std::shared_ptr<Job> job;
  std::unique_ptr<Formatter> fmt;
  PeerWatch peer;
  int keepalive_ms = 0;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  bool began = false;
  bool ended = false;
};

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One provider call: writes what is ready (waiting up to kPollMs for it). False stops
// the response (the client is gone).
bool Pump(StreamState& st, httplib::DataSink& sink) {
  std::string out;
  if (!st.began) {
    st.began = true;
    for (const auto& c : st.fmt->Prologue(*st.job)) out += st.fmt->Frame(c);
  }
  Job::Event e;
  if (!st.job->done() && st.job->Next(&e, out.empty() ? kPollMs : 0)) {
    for (const auto& c : st.fmt->OnEvent(*st.job, e.choice, e.ev)) out += st.fmt->Frame(c);
    // Drain what else is ready so a burst leaves in one write.
    while (out.size() < 64 * 1024 && st.job->Next(&e, 0))
      for (const auto& c : st.fmt->OnEvent(*st.job, e.choice, e.ev)) out += st.fmt->Frame(c);
  }
  if (st.job->done() && !st.ended) {
    st.ended = true;
    for (const auto& c : st.fmt->Epilogue(*st.job)) out += st.fmt->Frame(c);
    out += st.fmt->Done();
  }
  const auto now = std::chrono::steady_clock::now();
  // A comment line while nothing else is sent (a long prefill, a queue wait) keeps
  // proxies and clients with idle timeouts from dropping the stream.
  if (out.empty() && st.keepalive_ms > 0 && now - st.last_write >= std::chrono::milliseconds(st.keepalive_ms))
    out = ": keep-alive\n\n";
  if (!out.empty()) st.last_write = now;
  if (!out.empty() && !sink.write(out.data(), out.size())) {
    st.job->Cancel();
    return false;
  }
  if (st.ended) {
    sink.done();
    return true;
  }
  if (out.empty() && st.peer.Closed()) {
    st.job->Cancel();
    return false;
  }
  return true;
}

}  // namespace

std::string SseEvent(const nlohmann::json& chunk) { return "data: " + Dump(chunk) + "\n\n"; }

void StreamJob(httplib::Response& res, std::shared_ptr<Job> job, std::unique_ptr<Formatter> fmt, PeerWatch peer,
               int keepalive_ms) {
  auto st = std::make_shared<StreamState>();
  st->keepalive_ms = keepalive_ms;
  st->job = std::move(job);
  st->fmt = std::move(fmt);
  st->peer = std::move(peer);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [st](size_t, httplib::DataSink& sink) { return Pump(*st, sink); },
      [st](bool success) {
        if (!success) st->job->Cancel();
      });
}

bool WaitForJob(Job& job, PeerWatch& peer) {
  Job::Event e;
  auto next_check = std::chrono::steady_clock::now();
  while (!job.done()) {
    const bool got = job.Next(&e, kPollMs);
    const auto now = std::chrono::steady_clock::now();
    if (got && now < next_check) continue;
    next_check = now + std::chrono::milliseconds(kPollMs);
    if (peer.Closed()) {
      job.Cancel();
      return false;
    }
  }
  return true;
}

}  // namespace ax::server
