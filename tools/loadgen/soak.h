// ax-loadgen --soak: N streaming clients for a fixed time against one server, a share of
// their requests replaced by faults (hang-ups, bad bodies, slow readers, prompts past the
// context), `/health` polled throughout, the server's RSS sampled from /proc; then the
// server must come back to idle with every KV block free, and, with --sigterm-at-end, drain
// a last wave of streams after SIGTERM. scripts/soak.sh runs it; docs/reliability.md says
// what each check means.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ax::loadgen {

// Each fault's share of the requests; the rest are ordinary streams, which must end with a
// finish reason and [DONE] (or a clean 503 when the server is full).
struct FaultMix {
  double disconnect = 0.08;    // a stream hung up (RST or FIN) after 1-8 events
  double cancel = 0.05;        // hung up 0-400 ms after sending, nothing read
  double oversized = 0.03;     // a body past max_body_bytes (Content-Length or chunked): 413
  double malformed = 0.06;     // bad JSON, wrong types, a body cut short, a garbage request line: 400
  double slow_reader = 0.04;   // a stream read 64 bytes every 40 ms through a small window: completes
  double past_context = 0.04;  // prompt past the context, or prompt + max_tokens past it: 400
};

struct SoakOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  int concurrency = 64;
  double duration_s = 600;
  double warmup_s = -1;  // < 0: min(60, duration / 4); RSS growth is measured after it
  int max_tokens = 96;   // ordinary streams draw max_tokens from [8, this]
  int health_interval_ms = 100;
  double health_p99_limit_ms = 100;
  double rss_growth_limit = 0.05;  // peak RSS after warm-up over the warm-up peak, minus 1
  int server_pid = 0;              // > 0: RSS, threads and open files sampled from /proc/PID
  bool sigterm_at_end = false;     // needs server_pid: SIGTERM during a last wave of streams
  double quiesce_limit_s = 30;     // end of load → no request in flight, every KV block free
  double drain_limit_s = 30;       // SIGTERM → the process gone
  uint64_t seed = 1;
  FaultMix mix;
};

// "disconnect=0.1,cancel=0,…" over the defaults; false on an unknown name or a bad number.
bool ParseFaultMix(const std::string& spec, FaultMix* mix);

// Runs the soak and fills `report` (its "checks" and "pass" among the rest). Returns
// whether every check passed.
bool RunSoak(const SoakOptions& o, nlohmann::json* report);

}  // namespace ax::loadgen
