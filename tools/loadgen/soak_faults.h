// The soak's request kinds: how each is sent and what counts as a right answer to it.
// Internal to ax-loadgen (soak.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "sse_client.h"

namespace ax::loadgen {

enum class Kind { kStream, kDisconnect, kCancel, kOversized, kMalformed, kSlowReader, kPastContext };
constexpr int kNumKinds = 7;
const char* KindName(Kind k);

// What the server told one request, judged against what that kind must get.
struct Outcome {
  enum class Result { kTerminal, kCleanError, kHungUp, kViolation };
  Result result = Result::kViolation;
  int status = 0;
  std::string finish_reason;  // streams that ended
  std::string detail;         // a violation: what was wrong
  bool resent = false;        // sent again on a fresh connection (a stale keep-alive one failed)
  RequestResult stream;       // kStream: the timed result (for latency summaries)
};

// What the requests need to know of the server (/v1/runtime).
struct ServerFacts {
  std::string host;
  int port = 0;
  std::string api_key;
  int64_t ctx_size = 512;
  int64_t max_body_bytes = 8 << 20;
  int64_t vocab_size = 32000;
  bool chat_template = false;
};

// A deterministic stream of random numbers for one request.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next();
  int Int(int lo, int hi);  // [lo, hi]
  double Unit();            // [0, 1)

 private:
  uint64_t s_;
};

// Sends one request of kind `k` (kStream through `client`, the rest on raw sockets) and
// judges the answer.
Outcome RunKind(Kind k, const ServerFacts& f, int max_tokens, Rng* rng, SseClient* client);

// A streaming completions request that runs long (ignore_eos, up to the context), for the
// drain after SIGTERM.
RequestSpec LongStream(const ServerFacts& f, int i);

}  // namespace ax::loadgen
