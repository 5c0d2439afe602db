// Pieces shared by the request formats rewritten into the chat route (Anthropic's
// messages, Responses input items; text parts also for chat itself).
#pragma once

#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "errors.h"

namespace ax::server {

// content: a string, or an array of {"type": one of `types`, "text": "..."} joined with
// "\n" (vLLM's rule). Errors name `path` ("messages[1].content[0].type").
bool JoinTextParts(const nlohmann::json& content, const std::string& path, std::initializer_list<const char*> types,
                   std::string* out, ApiError* err);

// Tools given flat, {"type"?, "name", "description"?, <schema_field>: JSON schema}
// → the chat route's [{"type": "function", "function": {name, description,
// "parameters"}}]. A tool whose "type" is not one of `types` ("" for none given) is
// refused on tools[i].type, saying `what_is_supported`.
bool FlatToolsToChat(const nlohmann::json& tools, const char* schema_field, std::initializer_list<const char*> types,
                     const std::string& what_is_supported, nlohmann::json* out, ApiError* err);

// The JSON schemas of a rewritten request where the chat route reads them
// (ApiRequest::source), in the order the client wrote them: each flat tool of
// source.tools as {"function": {"name", "parameters": <schema_field>}}, and the schema
// at `format_path` (Responses' text.format.schema) as response_format.json_schema.schema.
// REQUIRES: FlatToolsToChat accepted source.tools (so the tools line up).
nlohmann::ordered_json OrderedChatSchemas(const nlohmann::ordered_json& source, const char* schema_field,
                                          std::initializer_list<const char*> format_path = {});

}  // namespace ax::server
