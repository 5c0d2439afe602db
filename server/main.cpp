// ax-engine-server: an OpenAI-compatible HTTP/SSE server for one model (docs/server.md).
#include <pthread.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigwait, pthread_kill
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <thread>

#include "api_server.h"
#include "delegate_server.h"
#include "options.h"

namespace {

// Prints the "listening" line, serves until SIGINT/SIGTERM, and drains (ApiServer or
// DelegateServer, already bound).
template <typename Server>
void Serve(Server& server, const ax::server::ServerOptions& opts, sigset_t& signals, int port) {
  std::printf("ax-engine-server: listening on http://%s:%d\n", opts.host.c_str(), port);
  std::fflush(stdout);
  std::atomic<bool> stop_signal_thread{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (stop_signal_thread) return;
    std::fprintf(stderr, "ax-engine-server: %s: shutting down (in-flight requests get %d s)\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", opts.shutdown_timeout_s);
    server.Shutdown([&] {
      timespec zero{0, 0};
      return sigtimedwait(&signals, nullptr, &zero) > 0;  // a second signal: cancel now
    });
  });
  server.Serve();
  // Serve returns after Shutdown (or when listening failed): release the signal thread.
  stop_signal_thread = true;
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): SIGTERM is blocked there; this wakes its sigwait
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ax::server;
  bool help = false;
  auto parsed = ParseServerArgs(argc, argv, &help);
  if (!parsed.ok()) {
    std::fputs(parsed.status().message().c_str(), help ? stdout : stderr);
    if (!help) std::fputc('\n', stderr);
    return help ? 0 : 2;
  }
  const ServerOptions& opts = *parsed;

  // Signals go to one thread (below); every other thread, the engine's included,
  // inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Every connection is a descriptor: take the hard limit (often 1,024 soft), so a
  // crowd of idle or slow clients cannot make accept() fail for the next one.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  ax::SessionConfig config;
  config.policy = opts.support_tier;
  config.engine = opts.engine;
  config.upstream = opts.upstream;
  auto session = ax::Session::Open(config);
  if (!session.ok()) {
    std::fprintf(stderr, "ax-engine-server: %s\n", session.status().ToString().c_str());
    return 1;
  }
  const ax::RuntimeReport& report = (*session)->report();
  if (ax::Engine* engine = (*session)->engine()) {
    ApiServer server(opts, *engine, report);
    const int port = server.Bind();
    if (port < 0) return 1;
    const ax::RouteInfo route = engine->route();
    std::fprintf(stderr, "ax-engine-server: model %s (%s, %s) on %s, context %lld, %d seats + %d queued\n",
                 server.context().model_name.c_str(), route.architecture.c_str(), route.weights.c_str(),
                 route.backend_detail.c_str(), static_cast<long long>(engine->ctx_size()), opts.engine.max_seqs,
                 opts.max_queue);
    Serve(server, opts, signals, port);
    engine->Stop();
  } else {
    DelegateServer server(opts, **session);
    const int port = server.Bind();
    if (port < 0) return 1;
    std::fprintf(stderr, "ax-engine-server: model %s through the %s route to %s (%s)\n", server.model_name().c_str(),
                 ax::SupportTierName(report.support_tier), report.upstream_url.c_str(),
                 report.resolution_reason.c_str());
    Serve(server, opts, signals, port);
  }
  std::fprintf(stderr, "ax-engine-server: stopped\n");
  return 0;
}
