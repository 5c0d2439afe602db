// JSON ⇄ GenerateRequest for ax-engine-bench's --prompts-file lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ax/engine.h"

namespace ax::cli {

// One JSONL line: {"prompt": "..." | "tokens": [..], "max_tokens", "temperature",
// "top_p", "top_k", "min_p", "seed", "repetition_penalty", "presence_penalty",
// "frequency_penalty", "ignore_eos", "stop": str | [str], "priority"}. Errors name the
// field and what was expected.
Result<GenerateRequest> RequestFromJson(const nlohmann::json& j, const GenerateRequest& defaults);

nlohmann::json RouteJson(const RouteInfo& r);

}  // namespace ax::cli
