#include "api_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "errors.h"
#include "http_pool.h"
#include "http_listener.h"

namespace ax::server {

namespace {

void InstallErrorHandlers(HttpListener& http, ServerContext& ctx) {
  http.set_error_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a route already wrote its error
    switch (res.status) {
      case 404: return WriteError(res, UnknownRoute(req.method, req.path));
      case 413: return WriteError(res, PayloadTooLarge(ctx.opts.max_body_bytes));
      case 400: return WriteError(res, MalformedJson("the request could not be read (malformed or truncated HTTP)"));
      default: {
        ApiError e = ServerError("HTTP " + std::to_string(res.status));
        e.http_status = res.status;
        return WriteError(res, e);
      }
    }
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(std::move(ep));
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    WriteError(res, ServerError("internal error: " + what));
  });
  http.set_logger([&ctx](const httplib::Request& req, const httplib::Response& res) {
    ctx.metrics.CountResponse(RouteLabel(req.path), res.status);
    if (ctx.opts.log_requests)
      std::fprintf(stderr, "ax-engine-server: %s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });
}

// CORS for browser clients: every response names the allowed origin, and a preflight
// (OPTIONS, sent without credentials) is answered 204 before authentication.
void InstallCors(httplib::Server& http, const std::string& origin) {
  http.set_post_routing_handler([origin](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Origin", origin);
    if (origin != "*") res.set_header("Vary", "Origin");
  });
  http.Options(R"(.*)", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    const std::string asked = req.get_header_value("Access-Control-Request-Headers");
    res.set_header("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Content-Type, X-Api-Key" : asked);
    res.set_header("Access-Control-Max-Age", "600");
  });
}

}  // namespace

ApiServer::ApiServer(const ServerOptions& opts, Engine& engine, RuntimeReport report)
    : ctx_(opts, engine, std::move(report)), http_(std::make_unique<HttpListener>()) {
  const size_t warm = static_cast<size_t>(opts.http_threads), most = static_cast<size_t>(opts.http_max_threads);
  http_->new_task_queue = [warm, most] { return new GrowingThreadPool(warm, most); };
  http_->set_payload_max_length(opts.max_body_bytes);
  http_->set_read_timeout(opts.read_timeout_s, 0);
  http_->set_write_timeout(opts.write_timeout_s, 0);
  http_->set_keep_alive_timeout(opts.keep_alive_timeout_s);
  http_->set_keep_alive_max_count(100000);
  http_->set_tcp_nodelay(true);  // a token per SSE event must leave at once
  InstallErrorHandlers(*http_, ctx_);
  if (!opts.cors_origin.empty()) InstallCors(*http_, opts.cors_origin);
  RegisterGenerationRoutes(*http_, ctx_);
  RegisterInfoRoutes(*http_, ctx_);
  RegisterTokenizeRoutes(*http_, ctx_);
}

ApiServer::~ApiServer() = default;

int ApiServer::Bind() {
  const auto& o = ctx_.opts;
  int port = o.port;
  if (port == 0) {
    port = http_->bind_to_any_port(o.host);
  } else if (!http_->bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::fprintf(stderr, "ax-engine-server: cannot listen on %s:%d\n", o.host.c_str(), o.port);
    return -1;
  }
  if (!http_->RaiseBacklog(1024)) std::fprintf(stderr, "ax-engine-server: warning: listen backlog stays at 5\n");
  return port;
}

void ApiServer::Serve() { http_->listen_after_bind(); }

void ApiServer::Shutdown(const std::function<bool()>& hurry) {
  using Clock = std::chrono::steady_clock;
  ctx_.draining = true;
  ctx_.admission.Close();
  http_->StopAccepting();
  const auto idle = [&] { return ctx_.admission.in_flight() == 0; };
  const auto deadline = Clock::now() + std::chrono::seconds(ctx_.opts.shutdown_timeout_s);
  while (!idle() && Clock::now() < deadline && !hurry())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!idle()) {
    std::fprintf(stderr, "ax-engine-server: cancelling %lld in-flight request(s)\n",
                 static_cast<long long>(ctx_.admission.in_flight()));
    ctx_.admission.CancelAll();
    const auto last = Clock::now() + std::chrono::seconds(2);
    while (!idle() && Clock::now() < last) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http_->EndConnections();
}

}  // namespace ax::server
