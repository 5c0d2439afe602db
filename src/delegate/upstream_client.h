// HTTP to an OpenAI-compatible upstream (delegated routes): JSON requests, SSE
// streams, and the upstream's failures as our Status codes:
//
//   unreachable (refused, DNS, TLS), HTTP 5xx/429/401/403, an "error" SSE event
//                                   → Unavailable       (the server answers 502)
//   no byte for timeout_s, connect timeout
//                                   → DeadlineExceeded  (504)
//   HTTP 400/404/422 from the upstream → InvalidArgument / NotFound (400), with the
//                                   upstream's own error message
//
// Every message names the URL and, where the upstream sent one, its message.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "ax/status.h"

namespace httplib {
class Client;
}

namespace ax::delegate {

struct UpstreamAddress {
  std::string origin;     // "http://host:port" (httplib's scheme_host_port)
  std::string base_path;  // "" or "/prefix" (no trailing slash, no "/v1")
  std::string root_url() const { return origin + base_path; }
};
// "http://127.0.0.1:8080", "https://host/v1", "http://host:port/prefix/": InvalidArgument
// naming `field` unless the scheme is http(s) and a host is given.
Result<UpstreamAddress> ParseUpstreamUrl(const std::string& url, const std::string& field);

struct UpstreamOptions {
  UpstreamAddress address;
  std::string api_key;
  int connect_timeout_s = 10;
  int timeout_s = 300;
};

// Lets another thread abort a request in flight (the socket is shut down).
class CancelToken {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class UpstreamClient;
  void Attach(httplib::Client* cli);
  void Detach();
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  httplib::Client* cli_ = nullptr;
};

// Thread-safe: every call opens its own connection.
class UpstreamClient {
 public:
  explicit UpstreamClient(UpstreamOptions opts) : opts_(std::move(opts)) {}

  // GET base_path + path → the JSON body.
  Result<nlohmann::json> GetJson(const std::string& path) const;
  // POST a JSON body, answer as JSON. Cancelled (Status kCancelled) when `cancel` fires.
  Result<nlohmann::json> PostJson(const std::string& path, const nlohmann::json& body,
                                  CancelToken* cancel = nullptr) const;
  // POST a JSON body and read the answer as SSE: on_data gets each event's data (the
  // "[DONE]" marker included) and returns false to stop reading.
  Status PostSse(const std::string& path, const nlohmann::json& body,
                 const std::function<bool(const std::string& data)>& on_data, CancelToken* cancel = nullptr) const;

  const UpstreamOptions& options() const { return opts_; }
  std::string Url(const std::string& path) const { return opts_.address.root_url() + path; }

 private:
  std::unique_ptr<httplib::Client> NewClient() const;
  const UpstreamOptions opts_;
};

// The message of an OpenAI-shaped error body ({"error": {"message": ...}} or
// {"error": "..."} or {"detail": ...}), else the body itself (cut to 300 bytes).
std::string UpstreamErrorMessage(const std::string& body);

}  // namespace ax::delegate
