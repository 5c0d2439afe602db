// POST /v1/responses (OpenAI's Responses API, stateless) → the chat route's request.
// The input items are checked here (errors name the Responses fields) and rewritten
// into the OpenAI chat body the chat parser renders through the template:
//
//   instructions                       → a "system" message first
//   input: "text"                      → one "user" message
//   {role, content: text | parts}      → a message of that role (input_text /
//                                        output_text parts joined with "\n")
//   {type: "function_call", call_id,   → tool_calls of an assistant message (consecutive
//          name, arguments}              calls share one)
//   {type: "function_call_output",     → a "tool" message
//          call_id, output}
//   {type: "reasoning"}                → reasoning_content of the next assistant message
//   tools [{type: "function", name,    → chat tools
//           description, parameters}]
//   tool_choice {type: "function", name} → {"type": "function", "function": {"name"}}
//   max_output_tokens                  → max_tokens
//   reasoning.effort                   → reasoning_effort
// Nothing is stored: previous_response_id and store: true are refused.
#include <utility>

#include "api_request.h"
#include "json_fields.h"
#include "request_rewrite.h"

namespace ax::server {
namespace {

using json = nlohmann::json;

bool PartsText(const json& content, const std::string& path, std::string* out, ApiError* err) {
  return JoinTextParts(content, path, {"input_text", "output_text", "text"}, out, err);
}

bool ItemString(const json& item, const std::string& path, const char* field, std::string* out, ApiError* err) {
  if (!item.contains(field) || !item[field].is_string()) {
    *err = InvalidField(path + "." + field, "expected a string");
    return false;
  }
  *out = item[field].get<std::string>();
  return true;
}

bool ConvertInput(const json& input, json* messages, ApiError* err) {
  if (input.is_string()) {
    messages->push_back({{"role", "user"}, {"content", input}});
    return true;
  }
  if (!input.is_array() || input.empty()) {
    *err = InvalidField("input", "expected a string or a non-empty array of input items");
    return false;
  }
  std::string reasoning;
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string path = "input[" + std::to_string(i) + "]";
    const json& item = input[i];
    if (!item.is_object()) {
      *err = InvalidField(path, "expected an input item object, got " + JsonTypeName(item));
      return false;
    }
    if (item.contains("type") && !item["type"].is_string()) {
      *err = InvalidField(path + ".type", "expected a string, got " + JsonTypeName(item["type"]));
      return false;
    }
    const std::string type = item.value("type", item.contains("role") ? "message" : "");
    if (type == "message") {
      std::string role, text;
      if (!ItemString(item, path, "role", &role, err)) return false;
      if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
        *err = InvalidField(path + ".role", "expected user, assistant, system or developer");
        return false;
      }
      if (!item.contains("content") || !PartsText(item["content"], path + ".content", &text, err)) {
        if (!item.contains("content")) *err = InvalidField(path + ".content", "is required", "missing_required_parameter");
        return false;
      }
      json m = {{"role", role == "developer" ? "system" : role}, {"content", text}};
      if (role == "assistant" && !reasoning.empty()) m["reasoning_content"] = std::exchange(reasoning, "");
      messages->push_back(std::move(m));
    } else if (type == "function_call") {
      std::string call_id, name, arguments;
      if (!ItemString(item, path, "call_id", &call_id, err) || !ItemString(item, path, "name", &name, err) ||
          !ItemString(item, path, "arguments", &arguments, err))
        return false;
      json call = {{"id", call_id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
      json* last = messages->empty() ? nullptr : &messages->back();
      if (last && (*last)["role"] == "assistant" && last->contains("tool_calls")) {
        (*last)["tool_calls"].push_back(std::move(call));
      } else {
        json m = {{"role", "assistant"}, {"content", ""}, {"tool_calls", json::array({std::move(call)})}};
        if (!reasoning.empty()) m["reasoning_content"] = std::exchange(reasoning, "");
        messages->push_back(std::move(m));
      }
    } else if (type == "function_call_output") {
      std::string call_id, output;
      if (!ItemString(item, path, "call_id", &call_id, err)) return false;
      if (!item.contains("output") || !PartsText(item["output"], path + ".output", &output, err)) {
        if (!item.contains("output")) *err = InvalidField(path + ".output", "is required", "missing_required_parameter");
        return false;
      }
      messages->push_back({{"role", "tool"}, {"tool_call_id", call_id}, {"content", output}});
    } else if (type == "reasoning") {
      for (const char* field : {"content", "summary"})
        if (item.contains(field) && item[field].is_array())
          for (const json& p : item[field])
            if (p.is_object() && p.contains("text") && p["text"].is_string()) reasoning += p["text"].get<std::string>();
    } else {
      *err = InvalidField(path + ".type",
                          "'" + type + "' items are not supported (message, function_call, function_call_output, "
                                       "reasoning)",
                          "unsupported_value");
      return false;
    }
  }
  return true;
}

}  // namespace

bool ParseResponsesRequest(const json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                           ApiError* err) {
  if (body.contains("previous_response_id") && !body["previous_response_id"].is_null()) {
    *err = InvalidField("previous_response_id",
                        "this server stores no responses; send the whole conversation as input items",
                        "unsupported_parameter");
    return false;
  }
  if (body.contains("store") && !body["store"].is_null()) {
    if (!body["store"].is_boolean()) {
      *err = InvalidField("store", "expected a boolean, got " + JsonTypeName(body["store"]));
      return false;
    }
    if (body["store"].get<bool>()) {
      *err = InvalidField("store", "this server stores no responses; send store: false", "unsupported_value");
      return false;
    }
  }
  json chat = json::object();
  for (const char* f : {"temperature", "top_p", "stream", "tool_choice", "parallel_tool_calls", "top_logprobs"})
    if (body.contains(f)) chat[f] = body[f];
  // A named function: {"type": "function", "name"} here, nested under "function" in chat.
  if (body.contains("tool_choice") && body["tool_choice"].is_object() && body["tool_choice"].contains("name"))
    chat["tool_choice"] = {{"type", body["tool_choice"].value("type", json())},
                           {"function", {{"name", body["tool_choice"]["name"]}}}};
  if (body.contains("max_output_tokens")) chat["max_tokens"] = body["max_output_tokens"];
  json messages = json::array();
  if (body.contains("instructions") && !body["instructions"].is_null()) {
    if (!body["instructions"].is_string()) {
      *err = InvalidField("instructions", "expected a string");
      return false;
    }
    messages.push_back({{"role", "system"}, {"content", body["instructions"]}});
  }
  if (!body.contains("input")) {
    *err = InvalidField("input", "is required", "missing_required_parameter");
    return false;
  }
  if (!ConvertInput(body["input"], &messages, err)) return false;
  chat["messages"] = std::move(messages);
  if (body.contains("tools") &&
      !FlatToolsToChat(body["tools"], "parameters", {"function"},
                       "only function tools are supported (built-in tools run on OpenAI's side)", &chat["tools"], err))
    return false;
  if (body.contains("reasoning") && body["reasoning"].is_object() && body["reasoning"].contains("effort") &&
      !body["reasoning"]["effort"].is_null())
    chat["reasoning_effort"] = body["reasoning"]["effort"];
  if (body.contains("text") && body["text"].is_object() && body["text"].contains("format")) {
    // Responses' flat {type, name, schema, strict} → chat's response_format.
    const json& f = body["text"]["format"];
    const std::string type = f.is_object() && f.contains("type") && f["type"].is_string() ? f["type"].get<std::string>() : "";
    if (type == "json_object") {
      chat["response_format"] = {{"type", "json_object"}};
    } else if (type == "json_schema") {
      json js = {{"name", f.contains("name") && f["name"].is_string() ? f["name"] : json("")}};
      if (f.contains("schema")) js["schema"] = f["schema"];
      chat["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(js)}};
    } else if (type != "text") {
      *err = InvalidField("text.format.type", "expected 'text', 'json_object' or 'json_schema'", "invalid_value");
      return false;
    }
  }
  nlohmann::ordered_json ordered;  // the client's key order of the tools' and text.format's schemas
  if (out->source != nullptr) {
    ordered = OrderedChatSchemas(*out->source, "parameters", {"text", "format", "schema"});
    out->source = &ordered;
  }
  const bool parsed = ParseChatRequest(chat, engine, lim, out, err);
  out->source = nullptr;
  if (!parsed) {
    const std::string max = "'max_tokens'";
    if (err->param == "max_tokens" && err->message.rfind(max, 0) == 0) {  // the one field renamed on the way
      err->param = "max_output_tokens";
      err->message = "'max_output_tokens'" + err->message.substr(max.size());
    } else if (err->param == "reasoning_effort") {
      err->param = "reasoning.effort";
    } else if (err->param.rfind("response_format", 0) == 0) {
      err->param = "text.format" + (err->param == "response_format.json_schema.schema" ? std::string(".schema") : "");
    }
    return false;
  }
  out->route = Route::kResponses;
  if (out->constraint_param.rfind("response_format", 0) == 0) out->constraint_param = "text.format.schema";
  out->repeated = json::object();  // the settings a response object repeats
  for (const char* f : {"instructions", "tools", "tool_choice", "temperature", "top_p", "max_output_tokens",
                        "parallel_tool_calls", "metadata", "reasoning", "text"})
    if (body.contains(f)) out->repeated[f] = body[f];
  return true;
}

}  // namespace ax::server
