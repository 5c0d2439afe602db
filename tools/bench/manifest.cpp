#include "manifest.h"

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <set>

#include "request_json.h"

namespace ax::cli {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }

// Field errors read "manifest M: field 'a.b': expected ...".
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  Status Error(const std::string& field, const std::string& what) const {
    return InvalidArgument("manifest " + path_ + ": field '" + field + "': " + what);
  }

  // Every key of `obj` must be one of `known` (a misspelt field is an error, not a default).
  Status Known(const nlohmann::json& obj, const std::string& where, std::initializer_list<const char*> known) const {
    if (!obj.is_object()) return Error(where, "expected an object");
    std::set<std::string> ok(known.begin(), known.end());
    for (const auto& [key, value] : obj.items()) {
      if (!ok.count(key)) {
        std::string list;
        for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return Error(Join(where, key), "not a known field (expected one of: " + list + ")");
      }
    }
    return Status::Ok();
  }

  template <typename T>
  Status Number(const nlohmann::json& obj, const char* key, const std::string& where, T* out, T min) const {
    if (!obj.contains(key)) return Status::Ok();
    const nlohmann::json& v = obj[key];
    const std::string field = Join(where, key);
    if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) return Error(field, "expected an integer");
    } else {
      if (!v.is_number()) return Error(field, "expected a number");
    }
    *out = v.get<T>();
    if (*out < min) return Error(field, "expected at least " + std::to_string(min));
    return Status::Ok();
  }

  Status String(const nlohmann::json& obj, const char* key, const std::string& where, std::string* out) const {
    if (!obj.contains(key)) return Status::Ok();
    if (!obj[key].is_string() || obj[key].get<std::string>().empty())
      return Error(Join(where, key), "expected a non-empty string");
    *out = obj[key].get<std::string>();
    return Status::Ok();
  }

  Status Bool(const nlohmann::json& obj, const char* key, const std::string& where, bool* out) const {
    if (!obj.contains(key)) return Status::Ok();
    if (!obj[key].is_boolean()) return Error(Join(where, key), "expected true or false");
    *out = obj[key].get<bool>();
    return Status::Ok();
  }

 private:
  std::string path_;
};

std::string FindRoot(const std::string& manifest) {
  fs::path dir = fs::absolute(fs::path(manifest)).parent_path();
  for (fs::path d = dir; !d.empty(); d = d.parent_path()) {
    if (fs::is_directory(d / "benchmarks" / "manifests")) return d.string();
    if (d == d.root_path()) break;
  }
  return dir.string();
}

std::string Resolve(const std::string& root, const std::string& p) {
  const fs::path path(p);
  return path.is_absolute() ? p : (fs::path(root) / path).lexically_normal().string();
}

Result<nlohmann::json> ReadJson(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return InvalidArgument(what + " '" + path + "': cannot open");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(what + " '" + path + "': not valid JSON");
  return j;
}

Status LoadModel(const Reader& r, const nlohmann::json& m, const std::string& root, const std::string& output_root,
                 ScenarioManifest* out) {
  AX_RETURN_IF_ERROR(r.Known(m, "model", {"dir", "synth"}));
  if (m.contains("dir") == m.contains("synth")) return r.Error("model", "give exactly one of 'dir' or 'synth'");
  if (m.contains("dir")) {
    std::string dir;
    AX_RETURN_IF_ERROR(r.String(m, "dir", "model", &dir));
    out->model_dir = Resolve(root, dir);
    return Status::Ok();
  }
  const nlohmann::json& s = m["synth"];
  AX_RETURN_IF_ERROR(r.Known(s, "model.synth", {"shape", "dtype", "seed"}));
  SynthModelOptions o;
  AX_RETURN_IF_ERROR(r.String(s, "shape", "model.synth", &o.shape));
  if (o.shape.empty()) return r.Error("model.synth.shape", "required (a synth-model shape)");
  AX_RETURN_IF_ERROR(r.String(s, "dtype", "model.synth", &o.dtype));
  int64_t seed = 0;
  AX_RETURN_IF_ERROR(r.Number<int64_t>(s, "seed", "model.synth", &seed, 0));
  o.seed = static_cast<uint64_t>(seed);
  o.out_dir = (fs::path(output_root) / "models" / (o.shape + "-" + o.dtype + "-seed" + std::to_string(seed))).string();
  out->model_dir = o.out_dir;
  out->synth = o;
  return Status::Ok();
}

Status LoadEngine(const Reader& r, const nlohmann::json& e, ScenarioManifest* out) {
  AX_RETURN_IF_ERROR(r.Known(e, "engine", {"backend", "precision", "threads", "ctx_size", "kv_cache_mb", "block_size",
                                           "max_batch_tokens", "prefix_cache", "max_draft"}));
  EngineConfig& c = out->engine;
  c.model_dir = out->model_dir;
  c.backend = "auto";
  c.max_batch_tokens = 512;
  c.max_draft_tokens = 4;
  AX_RETURN_IF_ERROR(r.String(e, "backend", "engine", &c.backend));
  AX_RETURN_IF_ERROR(r.String(e, "precision", "engine", &c.precision));
  AX_RETURN_IF_ERROR(r.Number<int>(e, "threads", "engine", &c.threads, 0));
  AX_RETURN_IF_ERROR(r.Number<int64_t>(e, "ctx_size", "engine", &c.ctx_size, 0));
  AX_RETURN_IF_ERROR(r.Number<int64_t>(e, "kv_cache_mb", "engine", &c.kv_cache_mb, 0));
  AX_RETURN_IF_ERROR(r.Number<int>(e, "block_size", "engine", &c.kv_block_size, 1));
  AX_RETURN_IF_ERROR(r.Number<int64_t>(e, "max_batch_tokens", "engine", &c.max_batch_tokens, 1));
  AX_RETURN_IF_ERROR(r.Bool(e, "prefix_cache", "engine", &c.prefix_caching));
  AX_RETURN_IF_ERROR(r.Number<int>(e, "max_draft", "engine", &c.max_draft_tokens, 0));
  return Status::Ok();
}

// The request fields every workload request starts from ("defaults": the fields of a
// --prompts-file line other than prompt/tokens).
Result<GenerateRequest> LoadDefaults(const Reader& r, const nlohmann::json& w) {
  GenerateRequest base;
  base.max_tokens = 32;
  if (!w.contains("defaults")) return base;
  nlohmann::json d = w["defaults"];
  if (!d.is_object()) return r.Error("workload.defaults", "expected an object");
  if (d.contains("prompt") || d.contains("tokens"))
    return r.Error("workload.defaults", "prompts belong to the requests, not the defaults");
  d["tokens"] = nlohmann::json::array({0});  // RequestFromJson reads one request; its prompt is dropped
  auto parsed = RequestFromJson(d, base);
  if (!parsed.ok()) return r.Error("workload.defaults", parsed.status().message());
  parsed->prompt_tokens.clear();
  return *parsed;
}

Status LoadRequests(const Reader& r, const nlohmann::json& w, const std::string& root, ScenarioManifest* out) {
  AX_ASSIGN_OR_RETURN(const GenerateRequest defaults, LoadDefaults(r, w));
  const int sources = w.contains("reference") + w.contains("requests") + w.contains("prompts_file") + w.contains("random");
  if (sources != 1)
    return r.Error("workload", "give exactly one of 'reference', 'requests', 'prompts_file' or 'random'");
  if (w.contains("reference")) {
    // A reference dump (reference.json of the test models and fixtures): each case's
    // prompt_ids, and its greedy_ids as the expected output, generated greedily past EOS.
    std::string file;
    AX_RETURN_IF_ERROR(r.String(w, "reference", "workload", &file));
    AX_ASSIGN_OR_RETURN(const nlohmann::json ref, ReadJson(Resolve(root, file), "workload.reference"));
    // Either {"cases": [...]} (the shared test models) or one case at the top level
    // (the transformers fixtures under tests/fixtures/models).
    const nlohmann::json cases = ref.contains("cases") ? ref["cases"] : nlohmann::json::array({ref});
    if (!cases.is_array() || cases.empty())
      return r.Error("workload.reference", "expected a non-empty 'cases' array or one case at the top level");
    for (const auto& c : cases) {
      if (!c.contains("prompt_ids") || !c.contains("greedy_ids"))
        return r.Error("workload.reference", "every case needs 'prompt_ids' and 'greedy_ids'");
      GenerateRequest q = defaults;
      q.prompt_tokens = c["prompt_ids"].get<std::vector<int32_t>>();
      out->expected_ids.push_back(c["greedy_ids"].get<std::vector<int32_t>>());
      q.max_tokens = static_cast<int64_t>(out->expected_ids.back().size());
      q.ignore_eos = true;
      q.sampling = SamplingOptions{};
      out->requests.push_back(std::move(q));
    }
    return Status::Ok();
  }
  if (w.contains("random")) {
    // Random prompt ids from a fixed generator (mt19937_64's sequence is the same on
    // every platform; ids are its raw output modulo the vocabulary).
    const nlohmann::json& g = w["random"];
    AX_RETURN_IF_ERROR(r.Known(g, "workload.random", {"count", "prompt_tokens", "vocab", "seed"}));
    int64_t count = 0, len = 0, vocab = 0, seed = 0;
    AX_RETURN_IF_ERROR(r.Number<int64_t>(g, "count", "workload.random", &count, 1));
    AX_RETURN_IF_ERROR(r.Number<int64_t>(g, "prompt_tokens", "workload.random", &len, 1));
    AX_RETURN_IF_ERROR(r.Number<int64_t>(g, "vocab", "workload.random", &vocab, 1));
    AX_RETURN_IF_ERROR(r.Number<int64_t>(g, "seed", "workload.random", &seed, 0));
    if (count == 0 || len == 0 || vocab == 0)
      return r.Error("workload.random", "count, prompt_tokens and vocab are required");
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    for (int64_t i = 0; i < count; ++i) {
      GenerateRequest q = defaults;
      for (int64_t t = 0; t < len; ++t) q.prompt_tokens.push_back(static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab)));
      out->requests.push_back(std::move(q));
    }
    return Status::Ok();
  }
  nlohmann::json lines = nlohmann::json::array();
  std::string where = "workload.requests";
  if (w.contains("requests")) {
    lines = w["requests"];
    if (!lines.is_array() || lines.empty()) return r.Error(where, "expected a non-empty array of requests");
  } else {
    std::string file;
    AX_RETURN_IF_ERROR(r.String(w, "prompts_file", "workload", &file));
    std::ifstream in(Resolve(root, file));
    if (!in) return r.Error("workload.prompts_file", "cannot open '" + Resolve(root, file) + "'");
    for (std::string line; std::getline(in, line);) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      lines.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
    }
    where = "workload.prompts_file";
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    auto q = RequestFromJson(lines[i], defaults);
    if (!q.ok()) return r.Error(where + "[" + std::to_string(i) + "]", q.status().message());
    out->requests.push_back(std::move(*q));
  }
  return Status::Ok();
}

Status LoadWorkload(const Reader& r, const nlohmann::json& w, const std::string& root, ScenarioManifest* out) {
  AX_RETURN_IF_ERROR(r.Known(w, "workload", {"reference", "requests", "prompts_file", "random", "defaults",
                                             "concurrency", "policies", "repeats"}));
  AX_RETURN_IF_ERROR(LoadRequests(r, w, root, out));
  if (w.contains("concurrency")) {
    const nlohmann::json& c = w["concurrency"];
    if (!c.is_array() || c.empty()) return r.Error("workload.concurrency", "expected a non-empty array of positive integers");
    out->concurrency.clear();
    for (const auto& v : c) {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 4096)
        return r.Error("workload.concurrency", "expected a non-empty array of integers in [1, 4096]");
      out->concurrency.push_back(v.get<int>());
    }
  }
  if (w.contains("policies")) {
    const nlohmann::json& p = w["policies"];
    if (!p.is_array() || p.empty()) return r.Error("workload.policies", "expected a non-empty array of \"direct\" / \"ngram\"");
    out->policies.clear();
    for (const auto& v : p) {
      if (!v.is_string() || (v != "direct" && v != "ngram"))
        return r.Error("workload.policies", "expected a non-empty array of \"direct\" / \"ngram\"");
      out->policies.push_back(v.get<std::string>());
    }
  }
  return r.Number<int>(w, "repeats", "workload", &out->repeats, 1);
}

Status LoadContracts(const Reader& r, const nlohmann::json& c, const std::string& root, ScenarioManifest* out) {
  AX_RETURN_IF_ERROR(r.Known(c, "contracts", {"correctness", "determinism", "route", "performance"}));
  AX_RETURN_IF_ERROR(r.Bool(c, "correctness", "contracts", &out->check_correctness));
  if (out->check_correctness && out->expected_ids.empty())
    return r.Error("contracts.correctness", "needs expected ids: a workload.reference");
  if (c.contains("determinism")) {
    const nlohmann::json& d = c["determinism"];
    AX_RETURN_IF_ERROR(r.Known(d, "contracts.determinism", {"repeats", "concurrency", "policies"}));
    AX_RETURN_IF_ERROR(r.Bool(d, "repeats", "contracts.determinism", &out->same_across_repeats));
    AX_RETURN_IF_ERROR(r.Bool(d, "concurrency", "contracts.determinism", &out->same_across_concurrency));
    AX_RETURN_IF_ERROR(r.Bool(d, "policies", "contracts.determinism", &out->same_across_policies));
  }
  if (c.contains("route")) {
    AX_RETURN_IF_ERROR(r.Known(c["route"], "contracts.route", {"backend", "selected_backend", "support_tier", "family",
                                                               "architecture", "dtype", "weights"}));
    for (const auto& [key, value] : c["route"].items())
      if (!value.is_string()) return r.Error("contracts.route." + key, "expected a string");
    out->route = c["route"];
  }
  if (c.contains("performance")) {
    const nlohmann::json& p = c["performance"];
    AX_RETURN_IF_ERROR(r.Known(p, "contracts.performance", {"baseline", "metric", "tolerance", "gate"}));
    PerformanceContract pc;
    AX_RETURN_IF_ERROR(r.String(p, "baseline", "contracts.performance", &pc.baseline));
    if (pc.baseline.empty()) return r.Error("contracts.performance.baseline", "required (a scenario artifact)");
    pc.baseline = Resolve(root, pc.baseline);
    AX_RETURN_IF_ERROR(r.String(p, "metric", "contracts.performance", &pc.metric));
    AX_RETURN_IF_ERROR(r.Number<double>(p, "tolerance", "contracts.performance", &pc.tolerance, 0.0));
    AX_RETURN_IF_ERROR(r.Bool(p, "gate", "contracts.performance", &pc.gate));
    out->performance = pc;
  }
  return Status::Ok();
}

}  // namespace

Result<ScenarioManifest> LoadManifest(const std::string& path, const std::string& root, const std::string& output_root) {
  AX_ASSIGN_OR_RETURN(nlohmann::json j, ReadJson(path, "manifest"));
  const Reader r(path);
  AX_RETURN_IF_ERROR(r.Known(j, "", {"name", "description", "model", "engine", "workload", "contracts"}));
  ScenarioManifest m;
  m.path = path;
  m.root = root.empty() ? FindRoot(path) : root;
  m.raw = j;
  AX_RETURN_IF_ERROR(r.String(j, "name", "", &m.name));
  if (m.name.empty()) return r.Error("name", "required");
  AX_RETURN_IF_ERROR(r.String(j, "description", "", &m.description));
  if (!j.contains("model")) return r.Error("model", "required");
  AX_RETURN_IF_ERROR(LoadModel(r, j["model"], m.root, output_root, &m));
  AX_RETURN_IF_ERROR(LoadEngine(r, j.value("engine", nlohmann::json::object()), &m));
  if (!j.contains("workload")) return r.Error("workload", "required");
  AX_RETURN_IF_ERROR(LoadWorkload(r, j["workload"], m.root, &m));
  AX_RETURN_IF_ERROR(LoadContracts(r, j.value("contracts", nlohmann::json::object()), m.root, &m));
  return m;
}

}  // namespace ax::cli
