// The body of a /v1/completions or /v1/chat/completions request on the delegated
// route, read into the Session's request (server/delegate_server.h).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ax/session.h"
#include "errors.h"

namespace ax::server {

struct DelegatedCall {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  GenerateRequest request;     // prompt (completions), max_tokens (0: the upstream's default), sampling, stop
  std::vector<ChatMessage> messages;  // chat
  SessionOptions options;             // n; chat: tools, tool_choice, parallel_tool_calls, reasoning_effort
};

// False with `err` (400 naming the field) for malformed values and for fields the
// delegated route does not forward. Tools and tool_choice are checked for their JSON
// type only: the upstream judges the rest, and its 400 comes back with its message.
// max_n: the most choices (--max-n).
bool ParseDelegatedCall(const nlohmann::json& body, bool chat, int max_n, DelegatedCall* out, ApiError* err);

}  // namespace ax::server
