#include "request_json.h"

namespace ax::cli {
namespace {

template <typename T>
Status ReadNumber(const nlohmann::json& j, const char* field, T* out) {
  if (!j.contains(field) || j[field].is_null()) return Status::Ok();
  if (!j[field].is_number()) return InvalidArgument(std::string("field '") + field + "': expected a number");
  *out = j[field].get<T>();
  return Status::Ok();
}

}  // namespace

nlohmann::json RouteJson(const RouteInfo& r) {
  // support_tier: this engine's own graphs ran the work (delegated runs write
  // route.support_tier "openai_delegated" and no throughput: tools/bench/delegated.cpp).
  return {{"backend", r.backend}, {"backend_detail", r.backend_detail}, {"family", r.family},
          {"architecture", r.architecture}, {"dtype", r.dtype}, {"weights", r.weights},
          {"support_tier", "repo_owned"}, {"selected_backend", r.backend}};
}

Result<GenerateRequest> RequestFromJson(const nlohmann::json& j, const GenerateRequest& defaults) {
  if (!j.is_object()) return InvalidArgument("expected a JSON object");
  GenerateRequest r = defaults;
  const bool has_prompt = j.contains("prompt"), has_tokens = j.contains("tokens");
  if (has_prompt == has_tokens) return InvalidArgument("give exactly one of 'prompt' (text) or 'tokens' (ids)");
  if (has_prompt) {
    if (!j["prompt"].is_string()) return InvalidArgument("field 'prompt': expected a string");
    r.prompt_text = j["prompt"].get<std::string>();
  } else {
    if (!j["tokens"].is_array()) return InvalidArgument("field 'tokens': expected an array of integers");
    for (const auto& t : j["tokens"]) {
      if (!t.is_number_integer()) return InvalidArgument("field 'tokens': expected an array of integers");
      r.prompt_tokens.push_back(t.get<int32_t>());
    }
  }
  AX_RETURN_IF_ERROR(ReadNumber(j, "max_tokens", &r.max_tokens));
  AX_RETURN_IF_ERROR(ReadNumber(j, "temperature", &r.sampling.temperature));
  AX_RETURN_IF_ERROR(ReadNumber(j, "top_p", &r.sampling.top_p));
  AX_RETURN_IF_ERROR(ReadNumber(j, "top_k", &r.sampling.top_k));
  AX_RETURN_IF_ERROR(ReadNumber(j, "min_p", &r.sampling.min_p));
  AX_RETURN_IF_ERROR(ReadNumber(j, "seed", &r.sampling.seed));
  AX_RETURN_IF_ERROR(ReadNumber(j, "repetition_penalty", &r.sampling.repetition_penalty));
  AX_RETURN_IF_ERROR(ReadNumber(j, "presence_penalty", &r.sampling.presence_penalty));
  AX_RETURN_IF_ERROR(ReadNumber(j, "frequency_penalty", &r.sampling.frequency_penalty));
  AX_RETURN_IF_ERROR(ReadNumber(j, "priority", &r.priority));
  if (j.contains("policy")) {
    if (!j["policy"].is_string()) return InvalidArgument("field 'policy': expected \"direct\" or \"ngram\"");
    r.policy = j["policy"].get<std::string>();
  }
  if (j.contains("ignore_eos")) {
    if (!j["ignore_eos"].is_boolean()) return InvalidArgument("field 'ignore_eos': expected true or false");
    r.ignore_eos = j["ignore_eos"].get<bool>();
  }
  if (j.contains("stop")) {
    const auto& s = j["stop"];
    if (s.is_string()) {
      r.stop = {s.get<std::string>()};
    } else if (s.is_array()) {
      for (const auto& x : s) {
        if (!x.is_string()) return InvalidArgument("field 'stop': expected a string or an array of strings");
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      return InvalidArgument("field 'stop': expected a string or an array of strings");
    }
  }
  return r;
}

}  // namespace ax::cli
