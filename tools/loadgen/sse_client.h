// One streaming request against an OpenAI-compatible server, timed on arrival of each
// SSE event: the loadgen's unit of work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ax::loadgen {

enum class Route { kCompletions, kChat, kGenerate };
const char* RoutePath(Route r);

struct RequestSpec {
  Route route = Route::kCompletions;
  nlohmann::json body;  // without "stream"; the client adds stream + include_usage
};

struct RequestResult {
  bool ok = false;
  int status = 0;
  std::string error;
  double start_s = 0;                  // loadgen clock
  double end_s = 0;
  std::vector<double> token_times_s;   // arrival of each event that carried a token
  int64_t output_tokens = 0;           // from usage (or counted events)
  int64_t prompt_tokens = 0;
  std::string finish_reason;
};

// Applies a whole SSE body (events separated by blank lines) to `r`: finish reason, usage,
// error events (into r->error), one token time per token event (all `now_s`). Returns
// whether the stream ended with `data: [DONE]`.
bool ApplySseBody(const std::string& body, Route route, double now_s, RequestResult* r);

// Seconds on a steady clock shared by all clients.
double NowSeconds();

class SseClient {
 public:
  SseClient(const std::string& host, int port, std::string api_key, int timeout_s);
  ~SseClient();
  RequestResult Run(const RequestSpec& spec);
  // GET path → parsed JSON (null on failure).
  nlohmann::json GetJson(const std::string& path);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace ax::loadgen
