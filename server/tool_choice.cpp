#include "tool_choice.h"

namespace ax::server {
namespace {

using json = nlohmann::json;

const json* FunctionOf(const json& tool) {
  if (!tool.is_object()) return nullptr;
  const auto f = tool.find("function");
  return f != tool.end() && f->is_object() ? &*f : nullptr;
}

}  // namespace

ToolChoice ReadToolChoice(FieldReader& r, const json& body) {
  ToolChoice choice;
  if (!r.ok() || !body.contains("tool_choice")) return choice;
  const json& tc = body["tool_choice"];
  const json& tools = body.value("tools", json::array());
  const bool have_tools = tools.is_array() && !tools.empty();
  if (tc.is_string()) {
    std::string s;
    r.Enum("tool_choice", &s, {"none", "auto", "required"});
    if (s == "none") choice.kind = ToolChoice::Kind::kNone;
    if (s == "required") choice.kind = ToolChoice::Kind::kRequired;
  } else if (tc.is_object() && tc.value("type", json()) == "function" && tc.contains("function") &&
             tc["function"].is_object() && tc["function"].value("name", json()).is_string()) {
    choice.kind = ToolChoice::Kind::kNamed;
    choice.name = tc["function"]["name"].get<std::string>();
    bool known = false;
    for (const json& t : have_tools ? tools : json::array())
      if (const json* f = FunctionOf(t); f && f->value("name", json()) == choice.name) known = true;
    if (r.ok() && have_tools && !known)
      r.Fail(InvalidField("tool_choice.function.name", "'" + choice.name + "' is not one of the request's tools"));
  } else {
    r.Fail(InvalidField("tool_choice",
                        "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": "
                        "{\"name\": ...}}",
                        "invalid_type"));
  }
  if (r.ok() && choice.forced() && !have_tools)
    r.Fail(InvalidField("tool_choice", "a forced tool choice needs 'tools'", "missing_required_parameter"));
  return choice;
}

}  // namespace ax::server
