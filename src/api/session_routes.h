// The two Session routes behind Session::Open (session.cpp): the repo-owned one over
// an Engine (session_local.cpp) and the OpenAI-compatible delegate (session_delegated.cpp).
#pragma once

#include <memory>

#include "ax/session.h"

namespace ax {

// `report` comes with the resolution fields filled; the route adds its own.
Result<std::unique_ptr<Session>> OpenLocalSession(const EngineConfig& config, RuntimeReport report);
Result<std::unique_ptr<Session>> OpenDelegatedSession(const UpstreamConfig& config, RuntimeReport report);

}  // namespace ax
