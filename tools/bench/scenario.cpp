// ax-engine-bench scenario: runs one manifest (benchmarks/manifests/scenario/*.json)
// and writes one artifact with the environment, every run's requests and summary, and
// the verdict of each contract; exits 1 when a contract fails (docs/benchmarking.md).
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "args.h"
#include "batch.h"
#include "commands.h"
#include "manifest.h"
#include "request_json.h"
#include "scenario_artifact.h"

#ifndef AX_BUILD_TYPE
#define AX_BUILD_TYPE "unknown"
#endif

namespace ax::cli {
namespace {

namespace fs = std::filesystem;

// First line of a command's output ("" when it fails).
std::string CommandLine(const std::string& cmd) {
  std::array<char, 256> buf{};
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out = fgets(buf.data(), buf.size(), p) != nullptr ? buf.data() : "";
  if (pclose(p) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

nlohmann::json Environment(const std::string& root) {
  char host[256] = {};
  (void)gethostname(host, sizeof host - 1);
  utsname u{};
  (void)uname(&u);
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string git = "git -C '" + root + "' ";
  const std::string commit = CommandLine(git + "rev-parse HEAD 2>/dev/null");
  const bool dirty = !commit.empty() && !CommandLine(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();
  return {{"time_utc", when},
          {"host", host},
          {"os", std::string(u.sysname) + " " + u.release + " " + u.machine},
          {"cpu", CpuModel()},
          {"logical_cpus", std::thread::hardware_concurrency()},
          {"memory_gib", static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE)) /
                             (1024.0 * 1024.0 * 1024.0)},
          {"commit", commit.empty() ? "unknown" : commit},
          {"worktree_dirty", dirty},
          {"compiler", __VERSION__},
          {"build_type", AX_BUILD_TYPE}};
}

struct RunKey {
  std::string policy;
  int concurrency;
  int repeat;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 reports the defaulted <=>'s comparison with 0
  auto operator<=>(const RunKey&) const = default;
};

// Each contract's verdict: "pass", "fail", or "reported" (performance outside a gate).
nlohmann::json Verdict(const std::string& name, const std::string& verdict, const std::string& detail) {
  return {{"contract", name}, {"verdict", verdict}, {"detail", detail}};
}

std::string KeyName(const RunKey& k) {
  return k.policy + " c" + std::to_string(k.concurrency) + " repeat " + std::to_string(k.repeat);
}

nlohmann::json CheckCorrectness(const ScenarioManifest& m, const std::map<RunKey, BatchOutcome>& runs) {
  int64_t checked = 0, equal = 0;
  std::string first;
  for (const auto& [key, out] : runs) {
    for (size_t i = 0; i < m.expected_ids.size(); ++i, ++checked) {
      const std::vector<int32_t>& want = m.expected_ids[i];
      const std::vector<int32_t>& got = out.tokens[i];
      if (got == want) {
        ++equal;
        continue;
      }
      if (!first.empty()) continue;
      size_t at = 0;
      while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
      first = "; first difference: " + KeyName(key) + ", request " + std::to_string(i) + " at token " + std::to_string(at);
    }
  }
  return Verdict("correctness", equal == checked ? "pass" : "fail",
                 std::to_string(equal) + "/" + std::to_string(checked) + " outputs equal the reference ids" + first);
}

// Outputs of every run whose `group` matches are compared with the first such run.
nlohmann::json CheckSame(const std::string& name, const ScenarioManifest& m, const std::map<RunKey, BatchOutcome>& runs,
                         const std::function<std::string(const RunKey&)>& group, bool greedy_only) {
  std::map<std::string, const RunKey*> first;
  int64_t checked = 0, equal = 0;
  std::string diff;
  for (const auto& [key, out] : runs) {
    auto [it, fresh] = first.emplace(group(key), &key);
    if (fresh) continue;
    const BatchOutcome& ref = runs.at(*it->second);
    for (size_t i = 0; i < m.requests.size(); ++i) {
      if (greedy_only && m.requests[i].sampling.temperature != 0.0) continue;
      ++checked;
      if (out.tokens[i] == ref.tokens[i]) ++equal;
      else if (diff.empty()) diff = "; first difference: request " + std::to_string(i) + ", " + KeyName(key) + " vs " + KeyName(*it->second);
    }
  }
  if (checked == 0) return Verdict(name, "fail", "nothing to compare (one run, or no greedy request)");
  return Verdict(name, equal == checked ? "pass" : "fail",
                 std::to_string(equal) + "/" + std::to_string(checked) + " outputs identical" + diff);
}

nlohmann::json CheckRoute(const ScenarioManifest& m, const nlohmann::json& route) {
  std::string detail;
  bool ok = true;
  for (const auto& [field, want] : m.route.items()) {
    const std::string got = route.contains(field) ? route[field].get<std::string>() : "(absent)";
    if (got != want.get<std::string>()) {
      ok = false;
      detail += (detail.empty() ? "" : "; ") + field + " is '" + got + "', expected '" + want.get<std::string>() + "'";
    }
  }
  return Verdict("route", ok ? "pass" : "fail", ok ? "route as expected: " + route.dump() : detail);
}

nlohmann::json CheckPerformance(const PerformanceContract& pc, const nlohmann::json& artifact) {
  auto base = LoadArtifact(pc.baseline);
  const std::string miss = pc.gate ? "fail" : "reported";
  if (!base.ok()) return Verdict("performance", miss, base.status().message());
  const auto now = RunMetrics(artifact), before = RunMetrics(*base);
  std::string detail;
  bool regressed = false;
  int compared = 0;
  for (const auto& [key, metrics] : now) {
    auto b = before.find(key);
    if (b == before.end() || !metrics.count(pc.metric) || !b->second.count(pc.metric)) continue;
    const double x = metrics.at(pc.metric), y = b->second.at(pc.metric);
    const double ratio = y > 0 ? x / y : 0.0;
    ++compared;
    char line[160];
    std::snprintf(line, sizeof line, "%s%s %s %.1f vs %.1f (%.2fx)", detail.empty() ? "" : "; ", key.c_str(),
                  pc.metric.c_str(), x, y, ratio);
    detail += line;
    regressed = regressed || ratio < 1.0 - pc.tolerance;
  }
  if (compared == 0) return Verdict("performance", miss, "no run of the baseline matches a run here in " + pc.metric);
  const std::string verdict = !regressed ? "pass" : pc.gate ? "fail" : "reported";
  return Verdict("performance", verdict,
                 std::string(regressed ? "below" : "within") + " the baseline's tolerance of " +
                     std::to_string(std::lround(pc.tolerance * 100)) + "%: " + detail);
}

}  // namespace

int RunScenario(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2, {"manifest", "output-root", "root"}, {"quiet"});
  if (!parsed.ok()) return UsageError("scenario", parsed.status().message());
  const Args& a = *parsed;
  if (!a.Get("manifest")) return UsageError("scenario", "--manifest FILE is required");
  const std::string output_root = a.GetOr("output-root", "benchmarks/results/scenario");
  auto loaded = LoadManifest(*a.Get("manifest"), a.GetOr("root", ""), output_root);
  if (!loaded.ok()) return UsageError("scenario", loaded.status().message());
  const ScenarioManifest& m = *loaded;
  std::error_code ec;
  fs::create_directories(output_root, ec);
  if (ec) return UsageError("scenario", "--output-root '" + output_root + "': " + ec.message());
  if (m.synth && !fs::exists(fs::path(m.model_dir) / "config.json")) {
    Status s = SynthModel(*m.synth);
    if (!s.ok()) return UsageError("scenario", "model.synth: " + s.ToString());
  }

  std::map<RunKey, BatchOutcome> runs;
  nlohmann::json route, run_rows = nlohmann::json::array();
  for (const std::string& policy : m.policies) {
    for (int c : m.concurrency) {
      EngineConfig cfg = m.engine;
      cfg.max_seqs = c;
      cfg.policy = policy;
      auto engine = Engine::Create(cfg);
      if (!engine.ok()) {
        std::fprintf(stderr, "ax-engine-bench scenario %s: %s\n", m.name.c_str(), engine.status().ToString().c_str());
        return 1;
      }
      if (route.is_null()) route = RouteJson((*engine)->route());
      for (int rep = 0; rep < m.repeats; ++rep) {
        auto out = RunRequests(**engine, m.requests, /*print_rows=*/false);
        if (!out.ok()) {
          std::fprintf(stderr, "ax-engine-bench scenario %s: %s c%d: %s\n", m.name.c_str(), policy.c_str(), c,
                       out.status().ToString().c_str());
          return 1;
        }
        nlohmann::json rows = nlohmann::json::array();
        for (nlohmann::json row : out->rows) {
          row.erase("route");  // the artifact's route, once
          rows.push_back(std::move(row));
        }
        out->summary.erase("route");
        run_rows.push_back({{"policy", policy}, {"concurrency", c}, {"repeat", rep}, {"summary", out->summary},
                            {"requests", std::move(rows)}});
        if (!a.Has("quiet"))
          std::fprintf(stderr, "[%s] %s c%d repeat %d: %.1f tok/s aggregate, %.1f decode phase\n", m.name.c_str(),
                       policy.c_str(), c, rep, out->summary["aggregate_decode_tok_s"].get<double>(),
                       out->summary["decode_phase_tok_s"].get<double>());
        runs.emplace(RunKey{policy, c, rep}, std::move(*out));
      }
    }
  }

  nlohmann::json artifact = {{"artifact", kScenarioArtifact},
                             {"schema_version", kScenarioSchemaVersion},
                             {"name", m.name},
                             {"description", m.description},
                             {"manifest_path", m.path},
                             {"manifest", m.raw},
                             {"model_dir", m.model_dir},
                             {"environment", Environment(m.root)},
                             {"route", route},
                             {"runs", run_rows}};
  nlohmann::json contracts = nlohmann::json::array();
  if (m.check_correctness) contracts.push_back(CheckCorrectness(m, runs));
  if (m.same_across_repeats)
    contracts.push_back(CheckSame("determinism: repeats", m, runs, [](const RunKey& k) {
      return k.policy + "/" + std::to_string(k.concurrency);
    }, false));
  if (m.same_across_concurrency)
    contracts.push_back(CheckSame("determinism: concurrency", m, runs, [](const RunKey& k) {
      return k.policy + "/" + std::to_string(k.repeat);
    }, false));
  if (m.same_across_policies)  // n-gram drafting is lossless for greedy requests
    contracts.push_back(CheckSame("determinism: policies", m, runs, [](const RunKey& k) {
      return std::to_string(k.concurrency) + "/" + std::to_string(k.repeat);
    }, true));
  if (!m.route.empty()) contracts.push_back(CheckRoute(m, route));
  if (m.performance) contracts.push_back(CheckPerformance(*m.performance, artifact));
  bool passed = true;
  for (const auto& c : contracts) {
    passed = passed && c["verdict"] != "fail";
    std::printf("[%s] %-26s %-8s %s\n", m.name.c_str(), c["contract"].get<std::string>().c_str(),
                c["verdict"].get<std::string>().c_str(), c["detail"].get<std::string>().c_str());
  }
  artifact["contracts"] = contracts;
  artifact["passed"] = passed;
  const std::string file = (fs::path(output_root) / (m.name + ".json")).string();
  std::ofstream(file) << artifact.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  std::printf("[%s] %s; artifact %s\n", m.name.c_str(), passed ? "every contract holds" : "A CONTRACT FAILED",
              file.c_str());
  return passed ? 0 : 1;
}

}  // namespace ax::cli
