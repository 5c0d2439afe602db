// Scenario manifests (benchmarks/manifests/scenario/*.json; schema in
// docs/benchmarking.md): a model, an engine configuration, a workload, and the
// contracts a run of them must keep.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ax/engine.h"
#include "ax/tools.h"

namespace ax::cli {

struct PerformanceContract {
  std::string baseline;  // a scenario artifact (resolved path)
  std::string metric = "decode_phase_tok_s";
  double tolerance = 0.10;  // a drop of more than this fraction is a regression
  bool gate = false;        // false: reported, never fails the run (shared CI machines)
};

struct ScenarioManifest {
  std::string path;  // as given
  std::string root;  // relative paths in the manifest resolve against this directory
  std::string name, description;
  nlohmann::json raw;  // the manifest as read, copied into the artifact

  std::string model_dir;                  // resolved; for a synth model, where it is generated
  std::optional<SynthModelOptions> synth;  // model.synth: made on first use
  EngineConfig engine;                     // max_seqs and policy are set per run
  std::vector<GenerateRequest> requests;
  std::vector<std::vector<int32_t>> expected_ids;  // per request, from workload.reference
  std::vector<int> concurrency = {1};
  std::vector<std::string> policies = {"direct"};
  int repeats = 1;

  bool check_correctness = false;                        // contracts.correctness
  bool same_across_repeats = false, same_across_concurrency = false, same_across_policies = false;
  nlohmann::json route = nlohmann::json::object();       // contracts.route: field -> expected value
  std::optional<PerformanceContract> performance;        // contracts.performance
};

// Reads and checks a manifest. Relative paths (model.dir, workload.reference,
// workload.prompts_file, contracts.performance.baseline) resolve against `root` when
// given, else against the repository root above the manifest (the nearest ancestor
// holding benchmarks/manifests). A synth model is placed under `output_root`/models.
// Errors name the manifest and the field, and say what was expected.
Result<ScenarioManifest> LoadManifest(const std::string& path, const std::string& root, const std::string& output_root);

}  // namespace ax::cli
