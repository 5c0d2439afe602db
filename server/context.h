// ServerContext: what every route handler shares. Handlers only parse, Submit and read
// streams; the engine steps on its own thread (Engine::Start).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "api_request.h"
#include "ax/engine.h"
#include "ax/session.h"
#include "job.h"
#include "metrics.h"
#include "options.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ax::server {

struct ServerContext {
  ServerContext(const ServerOptions& o, Engine& e, RuntimeReport r);

  const ServerOptions opts;
  Engine& engine;
  const RuntimeReport report;  // the route (repo_owned here) and why: /v1/runtime, /metrics
  const std::string model_name;
  const int64_t started_at;  // unix seconds
  ParseLimits limits;
  ServerMetrics metrics;
  Admission admission;
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> next_id{1};

  // "cmpl-<hex>", "chatcmpl-<hex>", "gen-<hex>": unique within this process.
  std::string NewId(const char* prefix);
  // True when no key is configured or the request carries it (Authorization: Bearer
  // KEY, or x-api-key: KEY).
  bool Authorized(const httplib::Request& req) const;
  ServerGauges Gauges() const;
};

// True when `api_key` is empty or the request carries it (Authorization: Bearer KEY, or
// x-api-key: KEY).
bool KeyAccepted(const httplib::Request& req, const std::string& api_key);
// /v1/runtime's JSON for the route alone: selected_backend, support_tier,
// resolution_policy, resolution_reason, token_ids, throughput_is_ours, model identity.
nlohmann::json RuntimeReportJson(const RuntimeReport& r);

// POST /v1/completions, /v1/chat/completions, /v1/generate (routes_generate.cpp).
void RegisterGenerationRoutes(httplib::Server& http, ServerContext& ctx);
// GET /v1/models, /v1/models/{id}, /health, /metrics, /v1/runtime, / (the chat page;
// routes_info.cpp).
void RegisterInfoRoutes(httplib::Server& http, ServerContext& ctx);
// POST /tokenize, POST /detokenize (routes_tokenize.cpp).
void RegisterTokenizeRoutes(httplib::Server& http, ServerContext& ctx);
// The route label for metrics: a known route or "other".
std::string RouteLabel(const std::string& path);

}  // namespace ax::server
