// The Session routes behind Session::Open (session.cpp): the repo-owned one over an
// Engine (session_local.cpp) and the delegates (session_delegated.cpp; llama-server's
// native completions in session_llama_cpp.cpp; llama.cpp's CLI in session_llama_cli.cpp).
#pragma once

#include <memory>

#include "ax/session.h"

namespace ax {

// `report` comes with the resolution fields filled; the route adds its own.
Result<std::unique_ptr<Session>> OpenLocalSession(const EngineConfig& config, RuntimeReport report);
// tier: kOpenAiDelegated or kLlamaCpp.
Result<std::unique_ptr<Session>> OpenDelegatedSession(const UpstreamConfig& config, RuntimeReport report,
                                                      SupportTier tier);
// The llama_cpp route's CLI variant: a process per choice.
Result<std::unique_ptr<Session>> OpenLlamaCliSession(const LlamaCliConfig& config, RuntimeReport report);

}  // namespace ax
