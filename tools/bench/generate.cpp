// ax-engine-bench generate: one request, text or JSON out.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "args.h"
#include "ax/engine.h"
#include "commands.h"

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

nlohmann::json RouteJson(const RouteInfo& r) {
  return {{"backend", r.backend}, {"backend_detail", r.backend_detail}, {"family", r.family},
          {"architecture", r.architecture}, {"dtype", r.dtype}};
}

}  // namespace

int RunGenerate(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2,
                            {"model", "prompt", "tokens", "max-tokens", "temperature", "top-p", "top-k", "min-p",
                             "seed", "repetition-penalty", "presence-penalty", "frequency-penalty", "backend",
                             "threads", "ctx-size"},
                            {"ignore-eos", "json"});
  if (!parsed.ok()) return UsageError("generate", parsed.status().message());
  const Args& a = *parsed;
  if (!a.Get("model")) return UsageError("generate", "--model DIR is required");
  if (a.Has("prompt") == a.Has("tokens")) return UsageError("generate", "give exactly one of --prompt TEXT or --tokens 1,2,3");

  EngineConfig cfg;
  cfg.model_dir = *a.Get("model");
  cfg.backend = a.GetOr("backend", "auto");
  auto threads = a.Int("threads", 0);
  auto ctx = a.Int("ctx-size", 0);
  auto max_tokens = a.Int("max-tokens", 128);
  auto sampling = ParseSampling(a);
  auto tokens = a.IntList("tokens");
  for (const Status* s : {&threads.status(), &ctx.status(), &max_tokens.status(), &sampling.status(), &tokens.status()})
    if (!s->ok()) return UsageError("generate", s->message());
  cfg.threads = static_cast<int>(*threads);
  cfg.ctx_size = *ctx;

  auto engine = Engine::Create(cfg);
  if (!engine.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  GenerateRequest req;
  if (a.Has("prompt")) req.prompt_text = *a.Get("prompt");
  else req.prompt_tokens = *tokens;
  req.max_tokens = *max_tokens;
  req.ignore_eos = a.Has("ignore-eos");
  req.sampling = *sampling;

  const bool json = a.Has("json");
  auto stream = [&](const TokenEvent& ev) {
    if (!json) {
      std::fputs(ev.text_delta.c_str(), stdout);
      std::fflush(stdout);
    }
  };
  auto result = (*engine)->Generate(req, stream);
  if (!result.ok()) {
    std::fprintf(stderr, "ax-engine-bench generate: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const GenerateResult& r = *result;
  if (json) {
    nlohmann::json out = {
        {"output_tokens", r.output_tokens},
        {"text", r.text},
        {"finish_reason", FinishReasonName(r.finish_reason)},
        {"prompt_tokens", r.prompt_tokens.size()},
        {"prompt_ids", r.prompt_tokens},
        {"completion_tokens", r.output_tokens.size()},
        {"prefill_tok_s", r.prefill_tok_s()},
        {"decode_tok_s", r.decode_tok_s()},
        {"prefill_seconds", r.prefill_seconds},
        {"decode_seconds", r.decode_seconds},
        {"route", RouteJson((*engine)->route())},
    };
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    if (r.text.empty() && !r.output_tokens.empty()) {  // no tokenizer: show ids
      for (size_t i = 0; i < r.output_tokens.size(); ++i) std::printf("%s%d", i ? "," : "", r.output_tokens[i]);
    }
    std::printf("\n");
    std::fprintf(stderr, "[%s | %s | %s] prompt %zu tokens, %.1f tok/s prefill; %zu tokens, %.2f tok/s decode; finish: %s\n",
                 (*engine)->route().backend_detail.c_str(), (*engine)->route().architecture.c_str(),
                 (*engine)->route().dtype.c_str(), r.prompt_tokens.size(), r.prefill_tok_s(), r.output_tokens.size(),
                 r.decode_tok_s(), FinishReasonName(r.finish_reason));
  }
  return 0;
}

}  // namespace ax::cli
