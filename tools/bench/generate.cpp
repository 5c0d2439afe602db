// ax-engine-bench generate: one request (--prompt / --tokens) or a batch of requests
// from a JSONL file (--prompts-file) through one engine.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.h"
#include "ax/engine.h"
#include "base_timer.h"
#include "batch.h"
#include "commands.h"
#include "request_json.h"

namespace ax::cli {
namespace {

Result<SamplingOptions> ParseSampling(const Args& a) {
  SamplingOptions s;
  AX_ASSIGN_OR_RETURN(s.temperature, a.Double("temperature", 0.0));
  AX_ASSIGN_OR_RETURN(s.top_p, a.Double("top-p", 1.0));
  AX_ASSIGN_OR_RETURN(s.top_k, a.Int("top-k", 0));
  AX_ASSIGN_OR_RETURN(s.min_p, a.Double("min-p", 0.0));
  AX_ASSIGN_OR_RETURN(s.repetition_penalty, a.Double("repetition-penalty", 1.0));
  AX_ASSIGN_OR_RETURN(s.presence_penalty, a.Double("presence-penalty", 0.0));
  AX_ASSIGN_OR_RETURN(s.frequency_penalty, a.Double("frequency-penalty", 0.0));
  AX_ASSIGN_OR_RETURN(int64_t seed, a.Int("seed", 0));
  s.seed = static_cast<uint64_t>(seed);
  return s;
}

int RunSingle(Engine& engine, const Args& a, const GenerateRequest& req) {
  const bool json = a.Has("json");
  auto stream = [&](const TokenEvent& ev) {
    if (!json) {
      std::fputs(ev.text_delta.c_str(), stdout);
      std::fflush(stdout);
    }
  };
  auto result = engine.Generate(req, stream);
  if (!result.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const GenerateResult& r = *result;
  const RouteInfo route = engine.route();
  if (json) {
    nlohmann::json j = ResultJson(r, route);
    AddSpecJson(r.metrics, &j);
    std::printf("%s\n", Dump(j).c_str());
    return 0;
  }
  if (r.text.empty() && !r.output_tokens.empty()) {  // no tokenizer: show ids
    for (size_t i = 0; i < r.output_tokens.size(); ++i) std::printf("%s%d", i ? "," : "", r.output_tokens[i]);
  }
  std::printf("\n");
  std::fprintf(stderr,
               "[%s | %s | %s | %s] prompt %zu tokens, %.1f tok/s prefill; %zu tokens, %.2f tok/s decode "
               "(%.2f tokens/forward); finish: %s\n",
               route.backend_detail.c_str(), route.architecture.c_str(), route.weights.c_str(), r.metrics.policy.c_str(),
               r.prompt_tokens.size(), r.prefill_tok_s(), r.output_tokens.size(), r.decode_tok_s(),
               r.metrics.tokens_per_forward(), FinishReasonName(r.finish_reason));
  return 0;
}

Result<std::vector<GenerateRequest>> LoadRequests(const std::string& path, const GenerateRequest& defaults) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("--prompts-file '" + path + "': cannot open");
  std::vector<GenerateRequest> reqs;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgument(path + ":" + std::to_string(lineno) + ": not valid JSON");
    auto r = RequestFromJson(j, defaults);
    if (!r.ok()) return InvalidArgument(path + ":" + std::to_string(lineno) + ": " + r.status().message());
    reqs.push_back(*r);
  }
  if (reqs.empty()) return InvalidArgument("--prompts-file '" + path + "' has no requests");
  return reqs;
}

// --compare-policies: the same requests through one engine per policy. Each engine
// first serves them once (the cold round: a fresh engine records its graph shapes and
// its draft guard measures both modes), then `rounds` warm rounds alternate direct,
// ngram, direct, ngram, ... so that drift hits both (a server that has been up). Greedy
// requests must give identical tokens in every round. Prints every round's summary
// (with "round"; 0 is the cold one) and the median ratio of the warm rounds, beside the
// cold round's.
int ComparePolicies(EngineConfig cfg, const std::vector<GenerateRequest>& reqs, int rounds, bool json) {
  // Process-wide first-use costs (the CUDA context, kernel modules loaded on first
  // launch, cuBLAS's kernels for each new prompt shape) would otherwise land in whichever
  // policy runs first: pay them in a throw-away engine of the same config, running the
  // same requests cut to 16 tokens (so the same prompt batches).
  {
    auto warm = Engine::Create(cfg);
    if (!warm.ok()) return UsageError("generate", warm.status().ToString());
    std::vector<GenerateRequest> short_reqs = reqs;
    for (GenerateRequest& r : short_reqs) r.max_tokens = std::min<int64_t>(r.max_tokens, 16);
    auto w = RunRequests(**warm, short_reqs, /*print_rows=*/false);
    if (!w.ok()) return UsageError("generate", w.status().ToString());
  }
  const char* kPolicies[2] = {"direct", "ngram"};
  std::unique_ptr<Engine> engines[2];
  for (int p = 0; p < 2; ++p) {
    cfg.policy = kPolicies[p];
    auto engine = Engine::Create(cfg);
    if (!engine.ok()) return UsageError("generate", engine.status().ToString());
    engines[p] = std::move(*engine);
  }
  int64_t greedy = 0, identical = 0;
  std::vector<double> rates[2], ratios;
  double cold_ratio = 0;
  nlohmann::json last[2];
  for (int round = 0; round <= rounds; ++round) {
    BatchOutcome outs[2];
    for (int p = 0; p < 2; ++p) {
      auto out = RunRequests(*engines[p], reqs, /*print_rows=*/false);
      if (!out.ok()) return UsageError("generate", out.status().ToString());
      out->summary["policy"] = kPolicies[p];
      out->summary["round"] = round;
      const int64_t proposed = out->summary["draft_tokens_proposed"].get<int64_t>();
      out->summary["draft_acceptance_rate"] =
          proposed > 0 ? out->summary["draft_tokens_accepted"].get<double>() / static_cast<double>(proposed) : 0.0;
      if (json) std::printf("%s\n", Dump(out->summary).c_str());
      outs[p] = std::move(*out);
    }
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (reqs[i].sampling.temperature != 0.0) continue;
      ++greedy;
      identical += outs[0].tokens[i] == outs[1].tokens[i];
    }
    const double d = outs[0].summary["aggregate_decode_tok_s"].get<double>();
    const double n = outs[1].summary["aggregate_decode_tok_s"].get<double>();
    if (round == 0) {
      cold_ratio = d > 0 ? n / d : 0.0;
    } else {
      rates[0].push_back(d);
      rates[1].push_back(n);
      ratios.push_back(d > 0 ? n / d : 0.0);
    }
    last[0] = outs[0].summary;
    last[1] = outs[1].summary;
  }
  const double d = Median(rates[0]), n = Median(rates[1]), ratio = Median(ratios);
  nlohmann::json cmp = {{"compare_policies", true},
                        {"rounds", rounds},
                        {"direct_tok_s", d},
                        {"ngram_tok_s", n},
                        {"ratio", ratio},
                        {"ratios", ratios},
                        {"cold_ratio", cold_ratio},
                        {"greedy_requests", greedy},
                        {"greedy_identical", identical},
                        {"lossless", identical == greedy}};
  if (json) {
    std::printf("%s\n", Dump(cmp).c_str());
  } else {
    const auto& ns = last[1];
    std::printf("direct: %.1f tok/s | ngram: %.1f tok/s (%.2fx, median of %d warm rounds; cold round %.2fx; last "
                "round %lld of %lld drafts accepted, %.2f tokens/step) | greedy tokens identical: %s (%lld/%lld)\n",
                d, n, ratio, rounds, cold_ratio, static_cast<long long>(ns["draft_tokens_accepted"].get<int64_t>()),
                static_cast<long long>(ns["draft_tokens_proposed"].get<int64_t>()), ns["tokens_per_step"].get<double>(),
                identical == greedy ? "yes" : "NO", static_cast<long long>(identical), static_cast<long long>(greedy));
  }
  return identical == greedy ? 0 : 3;
}

}  // namespace

int RunGenerate(int argc, char** argv) {
  for (int i = 2; i < argc; ++i)
    if (std::string(argv[i]).rfind("--support-tier", 0) == 0 || std::string(argv[i]).rfind("--upstream-url", 0) == 0)
      return RunSessionGenerate(argc, argv);
  auto parsed = Args::Parse(argc, argv, 2,
                            {"model", "prompt", "tokens", "prompts-file", "concurrency", "max-tokens", "temperature",
                             "top-p", "top-k", "min-p", "seed", "repetition-penalty", "presence-penalty",
                             "frequency-penalty", "backend", "precision", "threads", "ctx-size", "kv-cache-mb", "block-size",
                             "max-batch-tokens", "policy", "max-draft", "rounds"},
                            {"ignore-eos", "json", "no-prefix-cache", "compare-policies"});
  if (!parsed.ok()) return UsageError("generate", parsed.status().message());
  const Args& a = *parsed;
  if (!a.Get("model")) return UsageError("generate", "--model DIR is required");
  const int sources = a.Has("prompt") + a.Has("tokens") + a.Has("prompts-file");
  if (sources != 1) return UsageError("generate", "give exactly one of --prompt TEXT, --tokens 1,2,3 or --prompts-file F.jsonl");

  EngineConfig cfg;
  cfg.model_dir = *a.Get("model");
  cfg.backend = a.GetOr("backend", "auto");
  cfg.precision = a.GetOr("precision", "auto");
  cfg.prefix_caching = !a.Has("no-prefix-cache");
  auto threads = a.Int("threads", 0);
  auto ctx = a.Int("ctx-size", 0);
  auto max_tokens = a.Int("max-tokens", 128);
  auto concurrency = a.Int("concurrency", 1);
  auto kv_mb = a.Int("kv-cache-mb", 0);
  auto block = a.Int("block-size", 16);
  auto batch_tokens = a.Int("max-batch-tokens", 512);
  auto sampling = ParseSampling(a);
  auto tokens = a.IntList("tokens");
  for (const Status* s : {&threads.status(), &ctx.status(), &max_tokens.status(), &concurrency.status(),
                          &kv_mb.status(), &block.status(), &batch_tokens.status(), &sampling.status(),
                          &tokens.status()})
    if (!s->ok()) return UsageError("generate", s->message());
  if (*concurrency < 1) return UsageError("generate", "--concurrency must be at least 1");
  cfg.threads = static_cast<int>(*threads);
  cfg.ctx_size = *ctx;
  cfg.max_seqs = static_cast<int>(*concurrency);
  cfg.kv_cache_mb = *kv_mb;
  cfg.kv_block_size = static_cast<int>(*block);
  cfg.max_batch_tokens = *batch_tokens;
  cfg.policy = a.GetOr("policy", "ngram");
  auto max_draft = a.Int("max-draft", 4);
  if (!max_draft.ok()) return UsageError("generate", max_draft.status().message());
  cfg.max_draft_tokens = static_cast<int>(*max_draft);

  GenerateRequest req;
  req.max_tokens = *max_tokens;
  req.ignore_eos = a.Has("ignore-eos");
  req.sampling = *sampling;
  if (a.Has("prompt")) req.prompt_text = *a.Get("prompt");
  else if (a.Has("tokens")) req.prompt_tokens = *tokens;
  std::vector<GenerateRequest> reqs = {req};
  if (auto file = a.Get("prompts-file")) {
    auto loaded = LoadRequests(*file, req);
    if (!loaded.ok()) return UsageError("generate", loaded.status().message());
    reqs = *loaded;
  }
  if (a.Has("compare-policies")) {
    auto rounds = a.Int("rounds", 3);
    if (!rounds.ok()) return UsageError("generate", rounds.status().message());
    if (*rounds < 1) return UsageError("generate", "--rounds must be at least 1");
    return ComparePolicies(cfg, reqs, static_cast<int>(*rounds), a.Has("json"));
  }

  auto engine = Engine::Create(cfg);
  if (!engine.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  if (!a.Has("prompts-file")) return RunSingle(**engine, a, req);
  auto out = RunRequests(**engine, reqs, /*print_rows=*/true);
  if (!out.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", out.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", Dump(out->summary).c_str());
  return 0;
}

}  // namespace ax::cli
