// ax-engine-bench generate --support-tier openai_delegated|llama_cpp|auto|repo_owned: one request
// through an ax::Session. A delegated run's artifact names the route and the upstream and
// carries no throughput of ours: the upstream did the work, so only its answer, its
// usage counts and the wall time seen from here are written (throughput_claim: false).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "args.h"
#include "ax/session.h"
#include "commands.h"
#include "request_json.h"

namespace ax::cli {
namespace {

nlohmann::json ReportJson(const RuntimeReport& r) {
  return {{"selected_backend", r.selected_backend},
          {"support_tier", SupportTierName(r.support_tier)},
          {"resolution_policy", ResolutionPolicyName(r.resolution_policy)},
          {"resolution_reason", r.resolution_reason},
          {"backend_detail", r.backend_detail},
          {"model", r.model_id},
          {"architecture", r.architecture},
          {"weights", r.weight_format},
          {"upstream_url", r.upstream_url},
          {"token_ids", r.token_ids}};
}

}  // namespace

int RunSessionGenerate(int argc, char** argv) {
  auto parsed =
      Args::Parse(argc, argv, 2,
                  {"support-tier", "upstream-url", "upstream-model", "upstream-timeout", "model", "prompt", "tokens",
                   "max-tokens", "temperature", "top-p", "top-k", "min-p", "seed", "repetition-penalty",
                   "presence-penalty", "frequency-penalty", "stop", "backend", "threads", "llama-cli", "gguf"},
                  {"ignore-eos", "json", "stream"});
  if (!parsed.ok()) return UsageError("generate", parsed.status().message());
  const Args& a = *parsed;
  SessionConfig cfg;
  auto policy = ParseResolutionPolicy(a.GetOr("support-tier", "auto"), "--support-tier");
  if (!policy.ok()) return UsageError("generate", policy.status().message());
  cfg.policy = *policy;
  cfg.engine.model_dir = a.GetOr("model", "");
  cfg.engine.backend = a.GetOr("backend", "auto");
  cfg.upstream.url = a.GetOr("upstream-url", "");
  cfg.upstream.model = a.GetOr("upstream-model", "");
  cfg.llama_cli.binary = a.GetOr("llama-cli", "");  // llama_cpp without a server
  cfg.llama_cli.gguf = a.GetOr("gguf", "");
  auto threads = a.Int("threads", 0);
  auto timeout = a.Int("upstream-timeout", 300);
  auto max_tokens = a.Int("max-tokens", 128);
  auto tokens = a.IntList("tokens");
  auto temperature = a.Double("temperature", 0.0), top_p = a.Double("top-p", 1.0), min_p = a.Double("min-p", 0.0);
  auto rep = a.Double("repetition-penalty", 1.0), pres = a.Double("presence-penalty", 0.0);
  auto freq = a.Double("frequency-penalty", 0.0);
  auto top_k = a.Int("top-k", 0), seed = a.Int("seed", 0);
  for (const Status* s : {&threads.status(), &timeout.status(), &max_tokens.status(), &tokens.status(),
                          &temperature.status(), &top_p.status(), &min_p.status(), &rep.status(), &pres.status(),
                          &freq.status(), &top_k.status(), &seed.status()})
    if (!s->ok()) return UsageError("generate", s->message());
  if (a.Has("prompt") == a.Has("tokens")) return UsageError("generate", "give exactly one of --prompt TEXT or --tokens 1,2,3");
  cfg.engine.threads = static_cast<int>(*threads);
  cfg.llama_cli.threads = static_cast<int>(*threads);
  cfg.upstream.timeout_s = static_cast<int>(*timeout);

  GenerateRequest req;
  req.max_tokens = *max_tokens;
  req.ignore_eos = a.Has("ignore-eos");
  if (a.Has("prompt")) req.prompt_text = *a.Get("prompt");
  else req.prompt_tokens = *tokens;
  if (auto stop = a.Get("stop")) req.stop = {*stop};
  req.sampling.temperature = *temperature;
  req.sampling.top_p = *top_p;
  req.sampling.top_k = *top_k;
  req.sampling.min_p = *min_p;
  req.sampling.repetition_penalty = *rep;
  req.sampling.presence_penalty = *pres;
  req.sampling.frequency_penalty = *freq;
  req.sampling.seed = static_cast<uint64_t>(*seed);

  auto session = Session::Open(cfg);
  if (!session.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", session.status().ToString().c_str());
    return 1;
  }
  const bool json = a.Has("json");
  // --json: one blocking request (a llama_cpp stream may leave ids out: session.h)
  // unless --stream; else the text as it streams.
  const bool stream = !json || a.Has("stream");
  const auto on_chunk = [json](const SessionChunk& c) {
    if (!json) {
      std::fputs(c.text_delta.c_str(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  auto out = stream ? (*session)->Generate(req, on_chunk) : (*session)->Generate(req);
  if (!out.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", out.status().ToString().c_str());
    return 1;
  }
  const RuntimeReport& r = (*session)->report();
  const RequestMetrics& m = out->metrics;
  nlohmann::json j = {{"text", out->text},      {"finish_reason", FinishReasonName(out->finish_reason)},
                      {"route", ReportJson(r)}, {"token_ids", out->token_ids},
                      {"streamed", stream},     {"throughput_claim", r.throughput_is_ours}};
  if (out->token_ids) j["output_tokens"] = out->output_tokens;  // llama_cpp's come from llama-server
  if (r.throughput_is_ours) {
    j["prompt_ids"] = out->prompt_tokens;
    j["prompt_tokens"] = out->prompt_tokens.size();
    j["completion_tokens"] = out->output_tokens.size();
    j["ttft_seconds"] = m.ttft_seconds;
    j["total_seconds"] = m.total_seconds;
  } else {
    // No ids and no tok/s: the counts are the upstream's usage, the times wall clock here.
    j["upstream_usage"] = {{"prompt_tokens", m.prompt_tokens}, {"completion_tokens", m.completion_tokens}};
    j["observed_seconds"] = {{"first_text", m.ttft_seconds}, {"total", m.total_seconds}};
  }
  if (json) {
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr, "[%s | %s | %s] finish: %s%s\n", SupportTierName(r.support_tier), r.backend_detail.c_str(),
                 r.resolution_reason.c_str(), FinishReasonName(out->finish_reason),
                 r.throughput_is_ours ? "" : " (timings are the upstream's: no throughput reported)");
  }
  return 0;
}

}  // namespace ax::cli
