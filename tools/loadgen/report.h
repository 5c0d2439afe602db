// Summaries of a load run: percentiles and the JSON report.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "sse_client.h"

namespace ax::loadgen {

// {"mean", "p50", "p90", "p95", "p99", "max", "count"} of `v` (milliseconds in, as given).
nlohmann::json Summary(std::vector<double> v);
nlohmann::json BuildReport(const std::vector<RequestResult>& results, double wall_s, const nlohmann::json& config);

}  // namespace ax::loadgen
