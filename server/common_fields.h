// The fields the generating routes share: sampling, stop, n, stream, max_tokens, and
// the prompt-length checks against the context.
#pragma once

#include <optional>

#include "api_request.h"
#include "json_fields.h"

namespace ax::server {

// Reads model, n, stream, stream_options, temperature, top_p, top_k, min_p, seed,
// penalties, stop, stop_token_ids, ignore_eos, priority, logit_bias, user into `out`
// (max_tokens is left to the route: its default differs). Rejects what we cannot honour.
void ReadCommonFields(FieldReader& r, const ParseLimits& lim, ApiRequest* out);

// max_tokens for a prompt of `prompt_len` tokens: `requested` or `fallback`, checked
// so that prompt + max_tokens fits the context (400 context_length_exceeded if not).
// `max_param` names the field the value came from (max_tokens, max_completion_tokens).
bool ResolveMaxTokens(std::optional<int64_t> requested, const std::string& max_param, int64_t fallback,
                      int64_t prompt_len, const ParseLimits& lim, const std::string& prompt_param, int64_t* out,
                      ApiError* err);

// 400 context_length_exceeded for a prompt with no room left to generate.
ApiError PromptTooLong(int64_t prompt_len, const ParseLimits& lim, const std::string& param);

}  // namespace ax::server
