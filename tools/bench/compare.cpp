// ax-engine-bench compare A.json B.json: per run (policy, concurrency) of two scenario
// artifacts, the throughput and latency metrics of B against A, with a flag on every
// change worse than --tolerance (default 5%); exits 1 when any is flagged. Says when the
// two ran on different routes or machines (a comparison across them does not count)
// and whether each run's outputs are identical.
#include <cmath>
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "scenario_artifact.h"

namespace ax::cli {
namespace {

struct Metric {
  const char* name;
  bool higher_is_better;
};
constexpr Metric kMetrics[] = {{"aggregate_decode_tok_s", true}, {"decode_phase_tok_s", true},
                               {"ttft_ms_p50", false},          {"ttft_ms_p99", false},
                               {"itl_ms_p50", false},           {"itl_ms_p99", false}};

// Each run's output ids, keyed like RunMetrics ("direct c8"), from its first repeat.
std::map<std::string, nlohmann::json> Outputs(const nlohmann::json& artifact) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& run : artifact["runs"]) {
    const std::string key = run.value("policy", "?") + " c" + std::to_string(run.value("concurrency", 0));
    if (out.count(key)) continue;
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& r : run["requests"]) ids.push_back(r.value("output_tokens", nlohmann::json::array()));
    out[key] = std::move(ids);
  }
  return out;
}

}  // namespace

int RunCompare(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2, {"tolerance"}, {}, /*max_positional=*/2);
  if (!parsed.ok()) return UsageError("compare", parsed.status().message());
  const Args& a = *parsed;
  if (a.positional().size() != 2) return UsageError("compare", "expected two scenario artifacts: A.json B.json");
  auto tolerance = a.Double("tolerance", 0.05);
  if (!tolerance.ok()) return UsageError("compare", tolerance.status().message());
  if (*tolerance < 0 || *tolerance >= 1) return UsageError("compare", "--tolerance must be in [0, 1)");
  auto base = LoadArtifact(a.positional()[0]);
  if (!base.ok()) return UsageError("compare", base.status().message());
  auto next = LoadArtifact(a.positional()[1]);
  if (!next.ok()) return UsageError("compare", next.status().message());

  for (const char* field : {"backend_detail", "architecture", "weights"}) {
    const std::string x = (*base)["route"].value(field, ""), y = (*next)["route"].value(field, "");
    if (x != y) std::printf("note: route.%s differs ('%s' vs '%s'): a comparison across routes does not count\n", field, x.c_str(), y.c_str());
  }
  const std::string cpu_a = (*base)["environment"].value("cpu", ""), cpu_b = (*next)["environment"].value("cpu", "");
  if (cpu_a != cpu_b) std::printf("note: environment.cpu differs ('%s' vs '%s')\n", cpu_a.c_str(), cpu_b.c_str());

  const auto ma = RunMetrics(*base), mb = RunMetrics(*next);
  const auto oa = Outputs(*base), ob = Outputs(*next);
  int flagged = 0, compared = 0;
  std::printf("%-14s %-24s %12s %12s %8s\n", "run", "metric", "A", "B", "change");
  for (const auto& [key, metrics] : mb) {
    auto it = ma.find(key);
    if (it == ma.end()) {
      std::printf("%-14s only in B\n", key.c_str());
      continue;
    }
    for (const Metric& m : kMetrics) {
      if (!metrics.count(m.name) || !it->second.count(m.name)) continue;
      const double x = it->second.at(m.name), y = metrics.at(m.name);
      if (x <= 0 || !std::isfinite(x) || !std::isfinite(y)) continue;
      const double change = y / x - 1.0;
      const bool worse = m.higher_is_better ? change < -*tolerance : change > *tolerance;
      ++compared;
      flagged += worse;
      std::printf("%-14s %-24s %12.2f %12.2f %+7.1f%%%s\n", key.c_str(), m.name, x, y, 100.0 * change,
                  worse ? "  REGRESSION" : "");
    }
    if (oa.count(key) && ob.count(key))
      std::printf("%-14s %-24s %s\n", key.c_str(), "outputs", oa.at(key) == ob.at(key) ? "identical" : "DIFFER");
  }
  for (const auto& [key, metrics] : ma)
    if (!mb.count(key)) std::printf("%-14s only in A\n", key.c_str());
  if (compared == 0) {
    std::printf("no run in common\n");
    return 1;
  }
  std::printf("%d of %d comparisons worse than %.0f%%\n", flagged, compared, 100.0 * *tolerance);
  return flagged > 0 ? 1 : 0;
}

}  // namespace ax::cli
