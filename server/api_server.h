// ApiServer: cpp-httplib wired to the routes, plus the shutdown sequence.
//
//   Bind()      listen on host:port (0: any free port)
//   Serve()     accept and serve until Shutdown() has finished; returns then
//   Shutdown()  1. stop accepting (the listening socket is shut down) and refuse new
//                  generation requests on open connections (503 shutting_down);
//               2. wait up to --shutdown-timeout for in-flight requests to finish;
//               3. cancel the rest (their streams end with finish_reason "cancelled")
//                  and give them 2 s to write their last chunk;
//               4. end every connection (streams, idle keep-alives).
// cpp-httplib was chosen because it is in Debian's archive (libcpp-httplib-dev), is
// small, does HTTP/1.1 keep-alive and chunked transfer, and its thread-per-connection
// model suits blocking handlers that read engine streams.
#pragma once

#include <functional>
#include <memory>

#include "ax/engine.h"
#include "context.h"
#include "options.h"

namespace ax::server {

class HttpListener;

class ApiServer {
 public:
  ApiServer(const ServerOptions& opts, Engine& engine, RuntimeReport report);
  ~ApiServer();
  // The bound port, or -1 (with a message on stderr).
  int Bind();
  void Serve();
  // `hurry` is polled while waiting: true (a second signal) cancels at once.
  void Shutdown(const std::function<bool()>& hurry);
  ServerContext& context() { return ctx_; }

 private:
  ServerContext ctx_;
  std::unique_ptr<HttpListener> http_;
};

}  // namespace ax::server
