#include "scenario_artifact.h"

#include <fstream>
#include <vector>

#include "batch.h"

namespace ax::cli {

Result<nlohmann::json> LoadArtifact(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("artifact '" + path + "': cannot open");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("artifact '" + path + "': not valid JSON");
  if (!j.is_object() || j.value("artifact", "") != kScenarioArtifact)
    return InvalidArgument("artifact '" + path + "': not a scenario artifact (field 'artifact' is not '" +
                           kScenarioArtifact + "')");
  if (j.value("schema_version", 0) != kScenarioSchemaVersion)
    return InvalidArgument("artifact '" + path + "': schema_version " + j.value("schema_version", nlohmann::json()).dump() +
                           ", expected " + std::to_string(kScenarioSchemaVersion));
  if (!j.contains("runs") || !j["runs"].is_array()) return InvalidArgument("artifact '" + path + "': no 'runs' array");
  return j;
}

std::map<std::string, std::map<std::string, double>> RunMetrics(const nlohmann::json& artifact) {
  // key -> metric -> (cold value, warm values)
  std::map<std::string, std::map<std::string, std::pair<double, std::vector<double>>>> acc;
  for (const auto& run : artifact["runs"]) {
    const std::string key = run.value("policy", "?") + " c" + std::to_string(run.value("concurrency", 0));
    const bool warm = run.value("repeat", 0) > 0;
    for (const auto& [metric, v] : run["summary"].items()) {
      if (!v.is_number() || v.is_boolean()) continue;
      auto& slot = acc[key][metric];
      if (warm) slot.second.push_back(v.get<double>());
      else slot.first = v.get<double>();
    }
  }
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& [key, metrics] : acc)
    for (const auto& [metric, values] : metrics)
      out[key][metric] = values.second.empty() ? values.first : Median(values.second);
  return out;
}

}  // namespace ax::cli
