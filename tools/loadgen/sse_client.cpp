#include "sse_client.h"

#include <httplib.h>

#include <chrono>

namespace ax::loadgen {

const char* RoutePath(Route r) {
  switch (r) {
    case Route::kCompletions: return "/v1/completions";
    case Route::kChat: return "/v1/chat/completions";
    case Route::kGenerate: return "/v1/generate";
  }
  return "/v1/completions";
}

double NowSeconds() {
  static const auto t0 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct SseClient::Impl {
  httplib::Client cli;
  std::string api_key;
  Impl(const std::string& host, int port) : cli(host, port) {}
};

SseClient::SseClient(const std::string& host, int port, std::string api_key, int timeout_s)
    : impl_(new Impl(host, port)) {
  impl_->api_key = std::move(api_key);
  impl_->cli.set_keep_alive(true);
  impl_->cli.set_tcp_nodelay(true);
  impl_->cli.set_read_timeout(timeout_s, 0);
  impl_->cli.set_write_timeout(timeout_s, 0);
  impl_->cli.set_connection_timeout(timeout_s, 0);
}

SseClient::~SseClient() { delete impl_; }

namespace {

// Does this SSE chunk carry a token? Applies usage/finish to `r`.
bool Inspect(const nlohmann::json& j, Route route, RequestResult* r) {
  if (j.contains("error")) {
    r->error = j["error"].value("message", "error event");
    return false;
  }
  if (j.contains("usage") && j["usage"].is_object()) {
    r->output_tokens = j["usage"].value("completion_tokens", int64_t{0});
    r->prompt_tokens = j["usage"].value("prompt_tokens", int64_t{0});
  }
  bool token = false;
  for (const auto& c : j.value("choices", nlohmann::json::array())) {
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) r->finish_reason = c["finish_reason"];
    switch (route) {
      case Route::kGenerate: token |= c.contains("token"); break;
      case Route::kCompletions: token |= !c.value("text", std::string()).empty(); break;
      case Route::kChat:
        token |=
            c.contains("delta") && !c["delta"].value("content", std::string()).empty() && !c["delta"].contains("role");
        break;
    }
  }
  return token;
}

}  // namespace

bool ApplySseBody(const std::string& body, Route route, double now_s, RequestResult* r) {
  bool done = false;
  size_t p = 0;
  while (p < body.size()) {
    size_t end = body.find("\n\n", p);
    if (end == std::string::npos) end = body.size();
    std::string ev = body.substr(p, end - p);
    p = end + 2;
    if (ev.rfind("data: ", 0) != 0) continue;
    ev.erase(0, 6);
    if (ev == "[DONE]") {
      done = true;
      continue;
    }
    auto j = nlohmann::json::parse(ev, nullptr, false);
    if (j.is_discarded()) {
      if (r->error.empty()) r->error = "unparsable SSE event";
      continue;
    }
    if (Inspect(j, route, r)) r->token_times_s.push_back(now_s);
  }
  return done;
}

RequestResult SseClient::Run(const RequestSpec& spec) {
  RequestResult r;
  nlohmann::json body = spec.body;
  body["stream"] = true;
  if (spec.route != Route::kGenerate) body["stream_options"] = {{"include_usage", true}};
  httplib::Request req;
  req.method = "POST";
  req.path = RoutePath(spec.route);
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  if (!impl_->api_key.empty()) req.set_header("Authorization", "Bearer " + impl_->api_key);
  std::string buf;
  bool done = false;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    const double now = NowSeconds();
    buf.append(data, len);
    size_t pos;
    while ((pos = buf.find("\n\n")) != std::string::npos) {
      std::string ev = buf.substr(0, pos);
      buf.erase(0, pos + 2);
      if (ev.rfind("data: ", 0) != 0) continue;
      ev.erase(0, 6);
      if (ev == "[DONE]") {
        done = true;
        continue;
      }
      auto j = nlohmann::json::parse(ev, nullptr, false);
      if (j.is_discarded()) {
        r.error = "unparsable SSE event";
        return false;
      }
      if (Inspect(j, spec.route, &r)) r.token_times_s.push_back(now);
    }
    return r.error.empty();
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  r.start_s = NowSeconds();
  const bool sent = impl_->cli.send(req, res, err);
  r.end_s = NowSeconds();
  r.status = res.status;
  if (!sent && r.error.empty()) r.error = httplib::to_string(err);
  if (sent && res.status != 200 && r.error.empty()) r.error = "HTTP " + std::to_string(res.status) + ": " + res.body;
  if (r.error.empty() && !done) r.error = "stream ended without [DONE]";
  if (r.output_tokens == 0) r.output_tokens = static_cast<int64_t>(r.token_times_s.size());
  r.ok = r.error.empty();
  return r;
}

nlohmann::json SseClient::GetJson(const std::string& path) {
  httplib::Headers h;
  if (!impl_->api_key.empty()) h.emplace("Authorization", "Bearer " + impl_->api_key);
  auto res = impl_->cli.Get(path, h);
  if (!res || res->status != 200) return nullptr;
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

}  // namespace ax::loadgen
