// The scenario artifact (ax-engine-bench scenario) as read back by `compare` and by a
// performance contract's baseline.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "ax/status.h"

namespace ax::cli {

inline constexpr const char* kScenarioArtifact = "ax-engine-bench scenario";
inline constexpr int kScenarioSchemaVersion = 1;

// Reads a scenario artifact; errors name the file and what is wrong with it.
Result<nlohmann::json> LoadArtifact(const std::string& path);

// Per run ("direct c8"), each numeric summary metric: the median over the warm repeats
// (repeat >= 1) when there are any, else repeat 0's value.
std::map<std::string, std::map<std::string, double>> RunMetrics(const nlohmann::json& artifact);

}  // namespace ax::cli
