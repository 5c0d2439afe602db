// POST /v1/messages (Anthropic's Messages API) → the chat route's request: the system
// prompt, messages with text / tool_use / tool_result / thinking blocks, tools,
// tool_choice and thinking are checked here (errors name Anthropic's fields) and
// rewritten into the OpenAI chat body the chat parser renders through the template:
//
//   system                         → a "system" message first
//   user text blocks               → one "user" message (joined with "\n")
//   user tool_result blocks        → "tool" messages (tool_call_id = tool_use_id), before
//                                    the user's text, as OpenAI orders them
//   assistant text / thinking      → content / reasoning_content
//   assistant tool_use blocks      → tool_calls (arguments = the input as JSON text)
//   tools [{name, description,     → [{"type": "function", "function": {name,
//          input_schema}]              description, "parameters": input_schema}}]
//   tool_choice auto / none / any  → "auto" / "none" / "required"
//   tool_choice {tool, name}       → {"type": "function", "function": {"name"}}
//   disable_parallel_tool_use      → parallel_tool_calls false
//   thinking enabled / disabled    → chat_template_kwargs.enable_thinking
//   stop_sequences                 → stop
#include "api_request.h"
#include "json_fields.h"
#include "request_rewrite.h"

namespace ax::server {
namespace {

using json = nlohmann::json;

// A block's text field, or an error naming it.
bool BlockText(const json& b, const std::string& path, const char* field, std::string* out, ApiError* err) {
  auto it = b.find(field);
  if (it == b.end() || !it->is_string()) {
    *err = InvalidField(path + "." + field, "expected a string");
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// content: "text" or [{"type": "text", "text"}, ...] (tool results, system) → text.
bool TextContent(const json& c, const std::string& path, std::string* out, ApiError* err) {
  return JoinTextParts(c, path, {"text"}, out, err);
}

// One Anthropic message → one or more chat messages appended to `out`.
bool ConvertMessage(const json& m, size_t i, json* out, ApiError* err) {
  const std::string path = "messages[" + std::to_string(i) + "]";
  if (!m.is_object()) {
    *err = InvalidField(path, "expected a message object, got " + JsonTypeName(m));
    return false;
  }
  const std::string role = m.value("role", "");
  if (role != "user" && role != "assistant") {
    *err = InvalidField(path + ".role", "expected 'user' or 'assistant'");
    return false;
  }
  if (!m.contains("content")) {
    *err = InvalidField(path + ".content", "is required", "missing_required_parameter");
    return false;
  }
  const json& content = m["content"];
  if (content.is_string()) {
    out->push_back({{"role", role}, {"content", content}});
    return true;
  }
  if (!content.is_array()) {
    *err = InvalidField(path + ".content", "expected a string or an array of content blocks");
    return false;
  }
  std::string text, thinking;
  json calls = json::array(), results = json::array();
  for (size_t j = 0; j < content.size(); ++j) {
    const json& b = content[j];
    const std::string bp = path + ".content[" + std::to_string(j) + "]";
    const std::string type = b.is_object() ? b.value("type", "") : "";
    std::string s;
    if (type == "text") {
      if (!BlockText(b, bp, "text", &s, err)) return false;
      text += (text.empty() ? "" : "\n") + s;
    } else if (type == "thinking" && role == "assistant") {
      if (!BlockText(b, bp, "thinking", &s, err)) return false;
      thinking += s;
    } else if (type == "redacted_thinking" && role == "assistant") {
      continue;  // opaque to us
    } else if (type == "tool_use" && role == "assistant") {
      std::string id, name;
      if (!BlockText(b, bp, "id", &id, err) || !BlockText(b, bp, "name", &name, err)) return false;
      const json input = b.value("input", json::object());
      if (!input.is_object()) {
        *err = InvalidField(bp + ".input", "expected an object");
        return false;
      }
      calls.push_back({{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", input.dump()}}}});
    } else if (type == "tool_result" && role == "user") {
      std::string id, result;
      if (!BlockText(b, bp, "tool_use_id", &id, err)) return false;
      if (b.contains("content") && !TextContent(b["content"], bp + ".content", &result, err)) return false;
      results.push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", result}});
    } else {
      *err = InvalidField(bp + ".type",
                          "'" + type + "' blocks are not supported in " + role +
                              " messages (text, tool_use, tool_result, thinking)",
                          "unsupported_value");
      return false;
    }
  }
  for (json& r : results) out->push_back(std::move(r));
  if (role == "user") {
    if (!text.empty() || results.empty()) out->push_back({{"role", "user"}, {"content", text}});
    return true;
  }
  json msg = {{"role", "assistant"}, {"content", text}};
  if (!thinking.empty()) msg["reasoning_content"] = thinking;
  if (!calls.empty()) msg["tool_calls"] = std::move(calls);
  out->push_back(std::move(msg));
  return true;
}

}  // namespace

bool ParseMessagesRequest(const json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                          ApiError* err) {
  json chat = json::object();
  if (!body.contains("max_tokens")) {
    *err = InvalidField("max_tokens", "is required", "missing_required_parameter");
    return false;
  }
  for (const char* f : {"max_tokens", "temperature", "top_p", "top_k", "stream"})
    if (body.contains(f)) chat[f] = body[f];
  if (body.contains("stop_sequences")) {
    const json& stop = body["stop_sequences"];
    bool strings = stop.is_array();
    for (size_t i = 0; strings && i < stop.size(); ++i) strings = stop[i].is_string();
    if (!strings) {
      *err = InvalidField("stop_sequences", "expected an array of strings");
      return false;
    }
    chat["stop"] = stop;
  }
  json messages = json::array();
  if (body.contains("system")) {
    std::string system;
    if (!TextContent(body["system"], "system", &system, err)) return false;
    messages.push_back({{"role", "system"}, {"content", system}});
  }
  const auto m = body.find("messages");
  if (m == body.end() || !m->is_array() || m->empty()) {
    *err = InvalidField("messages", "expected a non-empty array of messages");
    return false;
  }
  for (size_t i = 0; i < m->size(); ++i)
    if (!ConvertMessage((*m)[i], i, &messages, err)) return false;
  chat["messages"] = std::move(messages);
  if (body.contains("tools") && !FlatToolsToChat(body["tools"], "input_schema", {"", "custom"},
                                                "only client tools (name, description, input_schema) are supported",
                                                &chat["tools"], err))
    return false;
  if (body.contains("tool_choice")) {
    const json& tc = body["tool_choice"];
    const std::string type = tc.is_object() ? tc.value("type", "") : "";
    if (type == "auto" || type == "none") {
      chat["tool_choice"] = type;
    } else if (type == "any") {
      chat["tool_choice"] = "required";
    } else if (type == "tool" && tc.value("name", json()).is_string()) {
      chat["tool_choice"] = {{"type", "function"}, {"function", {{"name", tc["name"]}}}};
    } else {
      *err = InvalidField(type == "tool" ? "tool_choice.name" : "tool_choice.type",
                          type == "tool" ? "expected the tool's name" : "expected auto, any, tool or none");
      return false;
    }
    if (tc.contains("disable_parallel_tool_use") && tc["disable_parallel_tool_use"] == true)
      chat["parallel_tool_calls"] = false;
  }
  if (body.contains("thinking")) {
    const json& t = body["thinking"];
    const std::string type = t.is_object() ? t.value("type", "") : "";
    if (type != "enabled" && type != "disabled" && type != "adaptive") {
      *err = InvalidField("thinking.type", "expected 'enabled', 'adaptive' or 'disabled'");
      return false;
    }
    chat["chat_template_kwargs"] = {{"enable_thinking", type != "disabled"}};
  }
  nlohmann::ordered_json ordered;  // the client's key order of the tools' schemas
  if (out->source != nullptr) {
    ordered = OrderedChatSchemas(*out->source, "input_schema");
    out->source = &ordered;
  }
  const bool parsed = ParseChatRequest(chat, engine, lim, out, err);
  out->source = nullptr;
  if (!parsed) {
    const std::string stop = "'stop'";
    if (err->param == "stop" && err->message.rfind(stop, 0) == 0) {  // the one field renamed on the way
      err->param = "stop_sequences";
      err->message = "'stop_sequences'" + err->message.substr(stop.size());
    }
    return false;
  }
  out->route = Route::kMessages;
  return true;
}

}  // namespace ax::server
