// POST /v1/completions and POST /v1/generate: JSON → ApiRequest.
#include <limits>

#include "api_request.h"
#include "common_fields.h"
#include "json_fields.h"

namespace ax::server {
namespace {

constexpr int kMaxLogprobs = 20;

bool IsTokenArray(const nlohmann::json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const auto& x : v)
    if (!x.is_number_integer()) return false;
  return true;
}

bool ReadIds(const nlohmann::json& v, const std::string& param, std::vector<int32_t>* ids, ApiError* err) {
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t x = v[i].get<int64_t>();
    if (x < 0 || x > std::numeric_limits<int32_t>::max()) {
      *err = InvalidField(param + "[" + std::to_string(i) + "]", "expected a token id, got " + std::to_string(x));
      return false;
    }
    ids->push_back(static_cast<int32_t>(x));
  }
  return true;
}

bool TextPrompt(const Engine& engine, const std::string& text, const std::string& param, PromptInput* p,
                ApiError* err) {
  auto ids = engine.Tokenize(text, /*add_special_tokens=*/true);
  if (!ids.ok()) {
    *err = FromStatus(ids.status(), param);
    return false;
  }
  if (ids->empty()) {
    *err = InvalidField(param, "the prompt encodes to no tokens");
    return false;
  }
  p->ids = std::move(ids).value();
  p->text = text;
  return true;
}

bool IdPrompt(const Engine& engine, const nlohmann::json& v, const std::string& param, bool want_text,
              PromptInput* p, ApiError* err) {
  if (!ReadIds(v, param, &p->ids, err)) return false;
  for (size_t i = 0; i < p->ids.size(); ++i)
    if (p->ids[i] >= engine.vocab_size()) {
      *err = InvalidField(param + "[" + std::to_string(i) + "]",
                          "token id " + std::to_string(p->ids[i]) + " is outside the vocabulary [0, " +
                              std::to_string(engine.vocab_size()) + ")");
      return false;
    }
  if (!want_text) return true;
  auto text = engine.Detokenize(p->ids);
  if (text.ok()) p->text = std::move(text).value();
  return true;
}

// prompt: "text" | ["text", ...] | [ids] | [[ids], ...]
bool ReadPrompts(const nlohmann::json& prompt, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                 ApiError* err) {
  const std::string kParam = "prompt";
  if (prompt.is_string()) {
    out->prompts.emplace_back();
    return TextPrompt(engine, prompt.get<std::string>(), kParam, &out->prompts.back(), err);
  }
  if (!prompt.is_array() || prompt.empty()) {
    *err = InvalidField(kParam, "expected a string, an array of strings, an array of token ids or an array of "
                                "token-id arrays (not empty), got " + (prompt.is_array() ? std::string("[]") : JsonTypeName(prompt)));
    return false;
  }
  if (IsTokenArray(prompt)) {
    out->prompts.emplace_back();
    return IdPrompt(engine, prompt, kParam, out->echo, &out->prompts.back(), err);
  }
  if (prompt.size() > lim.max_prompts) {
    *err = InvalidField(kParam, "at most " + std::to_string(lim.max_prompts) + " prompts per request");
    return false;
  }
  for (size_t i = 0; i < prompt.size(); ++i) {
    const std::string param = kParam + "[" + std::to_string(i) + "]";
    out->prompts.emplace_back();
    if (prompt[i].is_string()) {
      if (!TextPrompt(engine, prompt[i].get<std::string>(), param, &out->prompts.back(), err)) return false;
    } else if (IsTokenArray(prompt[i])) {
      if (!IdPrompt(engine, prompt[i], param, out->echo, &out->prompts.back(), err)) return false;
    } else {
      *err = InvalidField(param, "expected a string or a non-empty array of token ids, got " + JsonTypeName(prompt[i]));
      return false;
    }
  }
  return true;
}

// Every prompt must leave room for max_tokens; the largest decides.
bool ResolveAll(ApiRequest* out, std::optional<int64_t> requested, int64_t fallback, const ParseLimits& lim,
                ApiError* err) {
  int64_t max_tokens = fallback;
  for (size_t i = 0; i < out->prompts.size(); ++i) {
    const std::string param = out->prompts.size() == 1 ? "prompt" : "prompt[" + std::to_string(i) + "]";
    int64_t m = 0;
    if (!ResolveMaxTokens(requested, "max_tokens", fallback, static_cast<int64_t>(out->prompts[i].ids.size()), lim,
                          param, &m, err))
      return false;
    max_tokens = std::min(max_tokens, m);
  }
  out->base.max_tokens = requested ? *requested : max_tokens;
  return true;
}

std::optional<int64_t> ReadMaxTokens(FieldReader& r, const char* name, const ParseLimits& lim, int64_t min = 1) {
  if (!r.Has(name)) return std::nullopt;
  int64_t v = 0;
  r.Int(name, &v, min, std::max<int64_t>(1, lim.ctx_size));
  return v;
}

}  // namespace

bool ParseCompletionRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim,
                            ApiRequest* out, ApiError* err) {
  out->route = Route::kCompletion;
  FieldReader r(body);
  if (!r.Has("prompt")) {
    *err = InvalidField("prompt", "is required", "missing_required_parameter");
    return false;
  }
  ReadCommonFields(r, lim, out);
  r.Bool("echo", &out->echo);
  // max_tokens 0 with echo: the prompt only (with its logprobs when asked), as OpenAI.
  const std::optional<int64_t> max_tokens = ReadMaxTokens(r, "max_tokens", lim, /*min=*/out->echo ? 0 : 1);
  if (r.ok() && r.Has("logprobs")) {
    int top = 0;
    r.Int("logprobs", &top, 0, kMaxLogprobs);
    out->logprobs = true;
    out->top_logprobs = top;
  }
  if (r.ok() && r.Has("suffix")) {
    const auto& suf = r.Get("suffix");
    if (!suf.is_string() || !suf.get<std::string>().empty())
      r.Fail(InvalidField("suffix", "is not supported (insertion needs a fill-in-the-middle model)", "unsupported_parameter"));
  }
  if (r.ok() && r.Has("best_of")) {
    int best_of = 1;
    r.Int("best_of", &best_of, 1, lim.max_n);
    if (r.ok() && best_of != out->n)
      r.Fail(InvalidField("best_of", "only best_of == n is supported (got best_of " + std::to_string(best_of) +
                                         ", n " + std::to_string(out->n) + ")", "unsupported_value"));
  }
  // echo + logprobs: the prompt tokens' logprobs too, from the prefill's own rows.
  if (out->echo && (out->logprobs || max_tokens == 0)) out->base.prompt_logprobs = out->top_logprobs;
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  if (!ReadPrompts(body.at("prompt"), engine, lim, out, err)) return false;
  if (out->num_choices() > lim.max_n) {
    *err = InvalidField("n", "prompts × n = " + std::to_string(out->num_choices()) + " choices; at most " +
                                 std::to_string(lim.max_n) + " per request");
    return false;
  }
  return ResolveAll(out, max_tokens, /*fallback=*/16, lim, err);
}

bool ParseGenerateRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                          ApiError* err) {
  out->route = Route::kGenerate;
  FieldReader r(body);
  const bool has_tokens = r.Has("tokens"), has_prompt = r.Has("prompt");
  if (has_tokens == has_prompt) {
    *err = InvalidField("tokens", "give exactly one of 'tokens' (an array of token ids) or 'prompt' (text)",
                        "missing_required_parameter");
    return false;
  }
  ReadCommonFields(r, lim, out);
  const std::optional<int64_t> max_tokens = ReadMaxTokens(r, "max_tokens", lim);
  r.Bool("logprobs", &out->logprobs);
  r.Int("top_logprobs", &out->top_logprobs, 0, kMaxLogprobs);
  if (out->top_logprobs > 0) out->logprobs = true;
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  out->prompts.emplace_back();
  if (has_prompt) {
    const auto& p = body.at("prompt");
    if (!p.is_string()) {
      *err = InvalidField("prompt", "expected a string, got " + JsonTypeName(p));
      return false;
    }
    if (!TextPrompt(engine, p.get<std::string>(), "prompt", &out->prompts.back(), err)) return false;
  } else {
    const auto& t = body.at("tokens");
    if (!IsTokenArray(t)) {
      *err = InvalidField("tokens", "expected a non-empty array of token ids, got " + JsonTypeName(t));
      return false;
    }
    if (!IdPrompt(engine, t, "tokens", false, &out->prompts.back(), err)) return false;
  }
  if (out->num_choices() > lim.max_n) {
    *err = InvalidField("n", "at most " + std::to_string(lim.max_n) + " choices per request");
    return false;
  }
  const std::string param = has_prompt ? "prompt" : "tokens";
  int64_t m = 0;
  if (!ResolveMaxTokens(max_tokens, "max_tokens", 128, static_cast<int64_t>(out->prompts[0].ids.size()), lim, param,
                        &m, err))
    return false;
  out->base.max_tokens = m;
  return true;
}

}  // namespace ax::server
