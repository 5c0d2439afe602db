#include "common_fields.h"

#include <limits>
#include <random>

#include "constraint_fields.h"

namespace ax::server {

GenerateRequest ApiRequest::ChoiceRequest(int c) const {
  GenerateRequest r = base;
  const PromptInput& p = prompts[static_cast<size_t>(c / n)];
  r.prompt_tokens = p.ids;
  r.prompt_text.reset();
  r.sampling.seed = base.sampling.seed + static_cast<uint64_t>(c % n);
  r.sampling.logprobs = logprobs;
  r.sampling.top_logprobs = top_logprobs;
  return r;
}

void ReadCommonFields(FieldReader& r, const ParseLimits& lim, ApiRequest* out) {
  SamplingOptions& s = out->base.sampling;
  const int64_t kMaxInt = std::numeric_limits<int64_t>::max();
  r.String("model", &out->model);
  r.Int("n", &out->n, 1, lim.max_n);
  r.Bool("stream", &out->stream);
  ReadConstraint(r, &out->base.constraint, &out->constraint_param, out->source);
  if (r.ok() && r.Has("stream_options")) {
    const auto& so = r.Get("stream_options");
    if (!so.is_object()) {
      r.Fail("stream_options", "expected an object, got " + JsonTypeName(so));
    } else if (!out->stream) {
      r.Fail("stream_options", "only allowed when 'stream' is true");
    } else {
      FieldReader sr(so, "stream_options.");
      sr.Bool("include_usage", &out->include_usage);
      if (!sr.ok()) r.Fail(sr.error());
    }
  }
  // Omitted sampling fields take the model's defaults (generation_config.json).
  s.temperature = lim.sampling_defaults.temperature;
  s.top_p = lim.sampling_defaults.top_p;
  s.top_k = lim.sampling_defaults.top_k;
  s.min_p = lim.sampling_defaults.min_p;
  s.repetition_penalty = lim.sampling_defaults.repetition_penalty;
  r.Double("temperature", &s.temperature, 0.0, 2.0);
  r.Double("top_p", &s.top_p, 0.0, 1.0, /*lo_open=*/true);
  int64_t top_k = s.top_k;
  r.Int("top_k", &top_k, -1, kMaxInt);  // -1 and 0: off (vLLM uses -1)
  s.top_k = top_k < 0 ? 0 : top_k;
  r.Double("min_p", &s.min_p, 0.0, 1.0);
  r.Double("repetition_penalty", &s.repetition_penalty, 0.0, 10.0, /*lo_open=*/true);
  r.Double("presence_penalty", &s.presence_penalty, -2.0, 2.0);
  r.Double("frequency_penalty", &s.frequency_penalty, -2.0, 2.0);
  if (r.ok() && r.Has("seed")) {
    int64_t seed = 0;
    r.Int("seed", &seed, std::numeric_limits<int64_t>::min(), kMaxInt);
    s.seed = static_cast<uint64_t>(seed);
    out->seed_given = true;
  } else {
    // OpenAI: no seed, no reproducibility promise. Each request draws its own.
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    s.seed = rng();
  }
  r.StringOrList("stop", &out->base.stop, lim.max_stop);
  if (r.ok()) {
    std::vector<std::string> stop;
    for (auto& x : out->base.stop)
      if (!x.empty()) stop.push_back(std::move(x));  // "" would match everywhere: ignored
    out->base.stop = std::move(stop);
  }
  r.IntList("stop_token_ids", &out->base.stop_token_ids, 1024);
  r.Bool("ignore_eos", &out->base.ignore_eos);
  r.Bool("skip_special_tokens", &out->base.skip_special_tokens);
  r.Int("priority", &out->base.priority, -1000000, 1000000);
  r.Enum("policy", &out->base.policy, {"direct", "ngram"});  // extension: the decode policy
  std::string user;
  r.String("user", &user);  // accepted and ignored
  if (r.ok() && r.Has("logit_bias")) {
    const auto& lb = r.Get("logit_bias");
    if (!lb.is_object()) r.Fail("logit_bias", "expected an object, got " + JsonTypeName(lb));
    else if (!lb.empty()) r.Fail(InvalidField("logit_bias", "is not supported by this server (send {} or omit it)", "unsupported_parameter"));
  }
}

ApiError PromptTooLong(int64_t prompt_len, const ParseLimits& lim, const std::string& param) {
  ApiError e = InvalidField(param,
                            "this model's context is " + std::to_string(lim.ctx_size) + " tokens, but the prompt has " +
                                std::to_string(prompt_len) + " tokens (at least one token must be generated)",
                            "context_length_exceeded");
  return e;
}

bool ResolveMaxTokens(std::optional<int64_t> requested, const std::string& max_param, int64_t fallback,
                      int64_t prompt_len, const ParseLimits& lim, const std::string& prompt_param, int64_t* out,
                      ApiError* err) {
  if (prompt_len >= lim.ctx_size) {
    *err = PromptTooLong(prompt_len, lim, prompt_param);
    return false;
  }
  const int64_t room = lim.ctx_size - prompt_len;
  if (!requested) {
    *out = std::min(fallback, room);
    return true;
  }
  if (*requested > room) {
    *err = InvalidField(max_param,
                        "this model's context is " + std::to_string(lim.ctx_size) + " tokens; the prompt has " +
                            std::to_string(prompt_len) + " and " + std::to_string(*requested) +
                            " more were requested (at most " + std::to_string(room) + ")",
                        "context_length_exceeded");
    return false;
  }
  *out = *requested;
  return true;
}

}  // namespace ax::server
