// DelegateServer: ax-engine-server on the openai_delegated route (--support-tier
// openai_delegated, or auto when doctor refuses --model). The OpenAI text routes go
// through the Session's upstream; everything that needs our engine is refused by name.
//
//   POST /v1/completions, /v1/chat/completions   forwarded: the sampling fields, stop,
//        max_tokens, ignore_eos; blocking or SSE re-framed chunk by chunk (our ids,
//        our chunk shapes). Token-level fields (logprobs, n > 1, tools, response_format,
//        ...) are refused with 400 naming the field: the upstream returns text only.
//   GET  /v1/models, /health, /v1/runtime (the RuntimeReport), /metrics (HTTP counters
//        and ax_runtime_info; no engine numbers, none being ours)
//   anything else (/v1/generate, /tokenize, /v1/messages, ...): 501 naming the route.
// Upstream failures: unreachable or failing 502, timeout 504, the upstream's 4xx as
// 400 with its message (include/ax/session.h).
#pragma once

#include <functional>
#include <memory>

#include "ax/session.h"
#include "options.h"

namespace ax::server {

class HttpListener;

class DelegateServer {
 public:
  DelegateServer(const ServerOptions& opts, Session& session);
  ~DelegateServer();
  int Bind();  // the bound port, or -1
  void Serve();
  // Stops accepting, waits up to --shutdown-timeout for requests in flight, cancels the
  // rest, ends the connections.
  void Shutdown(const std::function<bool()>& hurry);
  const std::string& model_name() const;

  struct State;

 private:
  std::unique_ptr<State> st_;
  std::unique_ptr<HttpListener> http_;
};

}  // namespace ax::server
