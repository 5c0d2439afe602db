#include "delegate/upstream_client.h"

#include <httplib.h>

#include <chrono>

#include "delegate/sse_parser.h"

namespace ax::delegate {

Result<UpstreamAddress> ParseUpstreamUrl(const std::string& url, const std::string& field) {
  const size_t sep = url.find("://");
  const std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  if (scheme != "http" && scheme != "https")
    return InvalidArgument(field + " '" + url + "': expected http://HOST[:PORT][/PATH] or https://...");
  const size_t host_start = sep + 3;
  const size_t slash = url.find('/', host_start);
  UpstreamAddress a;
  a.origin = url.substr(0, slash);
  if (a.origin.size() <= host_start) return InvalidArgument(field + " '" + url + "': no host");
  std::string path = slash == std::string::npos ? "" : url.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.size() >= 3 && path.compare(path.size() - 3, 3, "/v1") == 0) path.resize(path.size() - 3);
  a.base_path = path;
  return a;
}

void CancelToken::Cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (cli_) cli_->stop();
}

void CancelToken::Attach(httplib::Client* cli) {
  std::lock_guard<std::mutex> lock(mu_);
  cli_ = cli;
}

void CancelToken::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  cli_ = nullptr;
}

std::string UpstreamErrorMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end()) {
      if (e->is_string()) return e->get<std::string>();
      if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
        return (*e)["message"].get<std::string>();
    }
    if (auto d = j.find("detail"); d != j.end()) return d->is_string() ? d->get<std::string>() : d->dump();
  }
  return body.size() > 300 ? body.substr(0, 300) + "..." : body;
}

namespace {

using Clock = std::chrono::steady_clock;

// A transport failure (no HTTP status) as a Status.
Status TransportError(const std::string& url, httplib::Error err, double waited_s, int timeout_s,
                      bool cancelled) {
  if (cancelled) return Status(StatusCode::kCancelled, "upstream " + url + ": request cancelled");
  const std::string what = httplib::to_string(err);
  if (err == httplib::Error::ConnectionTimeout)
    return DeadlineExceeded("upstream " + url + ": no connection within the connect timeout (" + what + ")");
  // httplib reports a read timeout as a read error: tell them apart by the time waited.
  if (err == httplib::Error::Read && waited_s + 0.25 >= timeout_s)
    return DeadlineExceeded("upstream " + url + ": no answer within " + std::to_string(timeout_s) + " s");
  if (err == httplib::Error::Connection)
    return Unavailable("upstream " + url + ": unreachable (connection failed)");
  return Unavailable("upstream " + url + ": " + what);
}

// An HTTP error status from the upstream as a Status carrying its message.
Status HttpError(const std::string& url, int status, const std::string& body) {
  const std::string msg = "upstream " + url + " answered HTTP " + std::to_string(status) + ": " +
                          UpstreamErrorMessage(body);
  if (status == 400 || status == 422) return InvalidArgument(msg);
  if (status == 404) return NotFound(msg);
  return Unavailable(msg);
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

std::unique_ptr<httplib::Client> UpstreamClient::NewClient() const {
  auto cli = std::make_unique<httplib::Client>(opts_.address.origin);
  cli->set_connection_timeout(opts_.connect_timeout_s, 0);
  cli->set_read_timeout(opts_.timeout_s, 0);
  cli->set_write_timeout(opts_.timeout_s, 0);
  cli->set_tcp_nodelay(true);
  if (!opts_.api_key.empty()) cli->set_bearer_token_auth(opts_.api_key);
  return cli;
}

Result<nlohmann::json> UpstreamClient::GetJson(const std::string& path) const {
  const std::string url = Url(path);
  auto cli = NewClient();
  const auto t0 = Clock::now();
  auto res = cli->Get(opts_.address.base_path + path);
  if (!res) return TransportError(url, res.error(), Since(t0), opts_.timeout_s, false);
  if (res->status != 200) return HttpError(url, res->status, res->body);
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return Unavailable("upstream " + url + ": the answer is not JSON");
  return j;
}

Result<nlohmann::json> UpstreamClient::PostJson(const std::string& path, const nlohmann::json& body,
                                                CancelToken* cancel) const {
  const std::string url = Url(path);
  auto cli = NewClient();
  if (cancel) cancel->Attach(cli.get());
  const auto t0 = Clock::now();
  auto res = cancel && cancel->cancelled()
                 ? httplib::Result(nullptr, httplib::Error::Canceled)
                 : cli->Post(opts_.address.base_path + path, body.dump(), "application/json");
  if (cancel) cancel->Detach();
  if (!res) return TransportError(url, res.error(), Since(t0), opts_.timeout_s, cancel && cancel->cancelled());
  if (res->status != 200) return HttpError(url, res->status, res->body);
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return Unavailable("upstream " + url + ": the answer is not JSON");
  return j;
}

Status UpstreamClient::PostSse(const std::string& path, const nlohmann::json& body,
                               const std::function<bool(const std::string& data)>& on_data,
                               CancelToken* cancel) const {
  const std::string url = Url(path);
  auto cli = NewClient();
  httplib::Request req;
  req.method = "POST";
  req.path = opts_.address.base_path + path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", "text/event-stream");
  std::string error_body;  // a non-200 answer is an error body, not events
  bool stopped = false;
  SseParser parser([&](const SseEvent& ev) {
    if (on_data(ev.data)) return true;
    stopped = true;
    return false;
  });
  httplib::Response res;
  req.response_handler = [&](const httplib::Response& r) {
    res.status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (res.status != 200) {
      error_body.append(data, len);
      return true;
    }
    return parser.Feed(std::string_view(data, len));
  };
  if (cancel) cancel->Attach(cli.get());
  const auto t0 = Clock::now();
  httplib::Error err = httplib::Error::Success;
  const bool sent = !(cancel && cancel->cancelled()) && cli->send(req, res, err);
  if (cancel) cancel->Detach();
  if (cancel && cancel->cancelled()) return Status(StatusCode::kCancelled, "upstream " + url + ": request cancelled");
  if (stopped) return Status::Ok();
  if (!sent && res.status <= 0) return TransportError(url, err, Since(t0), opts_.timeout_s, false);
  if (res.status != 200) return HttpError(url, res.status, error_body.empty() ? res.body : error_body);
  if (!sent) return TransportError(url, err, Since(t0), opts_.timeout_s, false);
  return Status::Ok();
}

}  // namespace ax::delegate
