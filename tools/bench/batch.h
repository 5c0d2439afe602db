// Running a batch of requests through one engine and describing it in JSON: shared by
// `generate --prompts-file` and `scenario`.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ax/engine.h"

namespace ax::cli {

// Linear interpolation between closest ranks; 0 for an empty sample.
double Percentile(std::vector<double> v, double p);
double Median(std::vector<double> v);

// One line of JSON; invalid UTF-8 in generated text is replaced, not fatal.
std::string Dump(const nlohmann::json& j);

// A request's result: ids, text, finish reason, prefill/decode rates, route.
nlohmann::json ResultJson(const GenerateResult& r, const RouteInfo& route);
// The request's speculative-decoding metrics (policy, drafts proposed/accepted, ...).
void AddSpecJson(const RequestMetrics& m, nlohmann::json* j);

struct BatchOutcome {
  std::vector<std::vector<int32_t>> tokens;  // per request, in submission order
  std::vector<nlohmann::json> rows;           // per request: ResultJson + timings
  nlohmann::json summary;                     // throughput, latency percentiles, engine counters
};

// Submits every request to `engine` at once and runs it until idle (the engine's
// max_seqs bounds how many run together). The summary's engine counters are this
// batch's: the engine's totals less those before it (an engine may serve several
// batches). With print_rows, each request's row is printed as it is collected.
Result<BatchOutcome> RunRequests(Engine& engine, const std::vector<GenerateRequest>& reqs, bool print_rows);

}  // namespace ax::cli
