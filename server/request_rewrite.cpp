#include "request_rewrite.h"

#include "json_fields.h"

namespace ax::server {

bool JoinTextParts(const nlohmann::json& content, const std::string& path, std::initializer_list<const char*> types,
                   std::string* out, ApiError* err) {
  if (content.is_string()) {
    *out = content.get<std::string>();
    return true;
  }
  std::string names;
  for (const char* t : types) names += std::string(names.empty() ? "" : " or ") + "'" + t + "'";
  if (!content.is_array()) {
    *err = InvalidField(path, "expected a string or an array of " + names + " parts, got " + JsonTypeName(content));
    return false;
  }
  out->clear();
  for (size_t j = 0; j < content.size(); ++j) {
    const std::string pp = path + "[" + std::to_string(j) + "]";
    const nlohmann::json& part = content[j];
    const std::string type = part.is_object() && part.contains("type") && part["type"].is_string()
                                 ? part["type"].get<std::string>()
                                 : "";
    bool known = false;
    for (const char* t : types) known = known || type == t;
    if (!known) {
      *err = InvalidField(pp + ".type", "only " + names + " parts are supported here, got '" + type + "'",
                          "unsupported_value");
      return false;
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      *err = InvalidField(pp + ".text", "expected a string");
      return false;
    }
    if (j > 0) *out += "\n";
    *out += part["text"].get<std::string>();
  }
  return true;
}

bool FlatToolsToChat(const nlohmann::json& tools, const char* schema_field, std::initializer_list<const char*> types,
                     const std::string& what_is_supported, nlohmann::json* out, ApiError* err) {
  if (!tools.is_array()) {
    *err = InvalidField("tools", "expected an array of tools, got " + JsonTypeName(tools));
    return false;
  }
  *out = nlohmann::json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string p = "tools[" + std::to_string(i) + "]";
    const nlohmann::json& t = tools[i];
    if (!t.is_object()) {
      *err = InvalidField(p, "expected a tool object, got " + JsonTypeName(t));
      return false;
    }
    const std::string type = t.contains("type") && t["type"].is_string() ? t["type"].get<std::string>() : "";
    bool known = false;
    for (const char* k : types) known = known || type == k;
    if (!known) {
      *err = InvalidField(p + ".type", what_is_supported, "unsupported_value");
      return false;
    }
    if (!t.contains("name") || !t["name"].is_string()) {
      *err = InvalidField(p + ".name", "expected a string");
      return false;
    }
    const nlohmann::json schema = t.value(schema_field, nlohmann::json::object());
    if (!schema.is_object()) {
      *err = InvalidField(p + "." + schema_field, "expected a JSON schema object");
      return false;
    }
    nlohmann::json f = {{"name", t["name"]}, {"parameters", schema}};
    if (t.contains("description")) f["description"] = t["description"];
    out->push_back({{"type", "function"}, {"function", std::move(f)}});
  }
  return true;
}

nlohmann::ordered_json OrderedChatSchemas(const nlohmann::ordered_json& source, const char* schema_field,
                                          std::initializer_list<const char*> format_path) {
  using OJson = nlohmann::ordered_json;
  OJson out = OJson::object();
  if (source.contains("tools") && source["tools"].is_array()) {
    out["tools"] = OJson::array();
    for (const OJson& t : source["tools"]) {
      const OJson schema = t.is_object() ? t.value(schema_field, OJson::object()) : OJson::object();
      out["tools"].push_back(
          {{"type", "function"},
           {"function", {{"name", t.is_object() ? t.value("name", OJson()) : OJson()}, {"parameters", schema}}}});
    }
  }
  if (format_path.begin() == format_path.end()) return out;
  const OJson* format = &source;
  for (const char* key : format_path) {
    if (!format->is_object() || !format->contains(key)) return out;
    format = &(*format)[key];
  }
  out["response_format"] = {{"json_schema", {{"schema", *format}}}};
  return out;
}

}  // namespace ax::server
