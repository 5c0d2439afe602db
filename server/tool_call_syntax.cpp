// The body of one tool call, per syntax (tool_calls.h): name and arguments, the
// arguments as a JSON object with the model's key order.
#include <cctype>

#include "tool_call_stream.h"
#include "tool_calls.h"

namespace ax::server {
namespace {

using OJson = nlohmann::ordered_json;
constexpr const char* kSpace = " \t\r\n";

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

bool StartsWith(const std::string& s, size_t at, const char* p) {
  return s.compare(at, std::char_traits<char>::length(p), p) == 0;
}

size_t SkipSpace(const std::string& s, size_t at) {
  const size_t n = s.find_first_not_of(kSpace, at);
  return n == std::string::npos ? s.size() : n;
}

bool Fail(std::string* why, std::string what) {
  *why = std::move(what);
  return false;
}

// {"name": "f", "arguments" | "parameters": {...} or a string holding that object}.
bool JsonCall(const OJson& j, ToolCall* out, std::string* why) {
  if (!j.is_object()) return Fail(why, "expected a JSON object {\"name\", \"arguments\"}");
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty())
    return Fail(why, "the call has no \"name\" string");
  OJson args = OJson::object();
  auto a = j.find("arguments");
  if (a == j.end()) a = j.find("parameters");
  if (a != j.end()) {
    args = *a;
    if (args.is_string()) args = OJson::parse(a->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (!args.is_object()) return Fail(why, "\"arguments\" is not a JSON object");
  }
  out->name = name->get<std::string>();
  out->arguments = JsonText(args);
  return true;
}

}  // namespace

namespace {

// Without "type": the one JSON type of all its enum / const values ("" if they differ
// or there are none), so {"enum": [1, 2]} reads as an integer.
std::string ValuesType(const nlohmann::json& schema) {
  std::vector<nlohmann::json> values;
  if (schema.contains("const")) values.push_back(schema["const"]);
  if (schema.contains("enum") && schema["enum"].is_array())
    values.insert(values.end(), schema["enum"].begin(), schema["enum"].end());
  std::string type;
  for (const auto& v : values) {
    const std::string t = v.is_string()           ? "string"
                          : v.is_number_integer() ? "integer"
                          : v.is_number()         ? "number"
                          : v.is_boolean()        ? "boolean"
                                                  : "";
    if (t.empty()) return "";
    if (!type.empty() && t != type) {
      const bool numbers = (t == "integer" || t == "number") && (type == "integer" || type == "number");
      if (!numbers) return "";
      type = "number";
      continue;
    }
    type = t;
  }
  return type;
}

}  // namespace

// The JSON schema type the request's tools give parameter `param` of tool `tool` ("" if
// none: an undeclared tool or parameter, or a schema without one type; without "type",
// the one type of its enum / const values).
std::string ParamType(const nlohmann::json& tools, const std::string& tool, const std::string& param) {
  if (!tools.is_array()) return "";
  for (const auto& t : tools) {
    const auto& f = t.contains("function") ? t["function"] : t;
    if (!f.is_object() || f.value("name", "") != tool) continue;
    const auto props = f.value("parameters", nlohmann::json::object()).value("properties", nlohmann::json::object());
    if (!props.is_object() || !props.contains(param) || !props[param].is_object()) return "";
    const auto& type = props[param].value("type", nlohmann::json());
    if (type.is_string()) return type.get<std::string>();
    if (type.is_array())  // ["integer", "null"]: the first that is not null
      for (const auto& v : type)
        if (v.is_string() && v != "null") return v.get<std::string>();
    return ValuesType(props[param]);
  }
  return "";
}

// A parameter value written as text → JSON: the schema's type decides; text that is not
// valid for that type, string parameters and untyped ones stay strings (untyped text
// that is a JSON object or array becomes one).
OJson TypedValue(const std::string& text, const std::string& type) {
  if (type == "string") return text;
  const std::string t = Trim(text);
  if (type.empty() && !(t.size() > 1 && (t[0] == '{' || t[0] == '['))) return text;
  OJson v = OJson::parse(t, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) {
    if (type == "boolean" && (t == "True" || t == "False")) return t == "True";  // Python-style
    return text;
  }
  const bool fits = type.empty() || (type == "integer" && v.is_number_integer()) ||
                    (type == "number" && v.is_number()) || (type == "boolean" && v.is_boolean()) ||
                    (type == "object" && v.is_object()) || (type == "array" && v.is_array()) ||
                    (type == "null" && v.is_null());
  return fits ? v : OJson(text);
}

namespace {

// One leading and one trailing newline around a value are layout, not value.
std::string StripNewlines(std::string v) {
  if (!v.empty() && v.front() == '\n') v.erase(0, 1);
  if (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

// <function=f>\n<parameter=a>\nvalue\n</parameter>\n...</function>
bool Qwen3CoderCall(const std::string& body, const nlohmann::json& tools, ToolCall* out, std::string* why) {
  size_t at = SkipSpace(body, 0);
  if (!StartsWith(body, at, "<function=")) return Fail(why, "expected <function=NAME>");
  at += 10;
  const size_t gt = body.find('>', at);
  if (gt == std::string::npos) return Fail(why, "<function= is not closed by >");
  const std::string name = Trim(body.substr(at, gt - at));
  if (name.empty()) return Fail(why, "the function name is empty");
  at = gt + 1;
  OJson args = OJson::object();
  while (true) {
    at = SkipSpace(body, at);
    if (at >= body.size()) break;  // </function> missing at the very end: accepted
    if (StartsWith(body, at, "</function>")) {
      if (SkipSpace(body, at + 11) != body.size()) return Fail(why, "text after </function>");
      break;
    }
    if (!StartsWith(body, at, "<parameter=")) return Fail(why, "expected <parameter=NAME> or </function>");
    at += 11;
    const size_t pgt = body.find('>', at);
    if (pgt == std::string::npos) return Fail(why, "<parameter= is not closed by >");
    const std::string pname = Trim(body.substr(at, pgt - at));
    at = pgt + 1;
    // The value ends at </parameter>, or (left out) at the next parameter or the end.
    size_t end = body.find("</parameter>", at), next = end;
    if (end == std::string::npos) {
      end = std::min(body.find("<parameter=", at), body.find("</function>", at));
      if (end == std::string::npos) end = body.size();
      next = end;
    } else {
      next = end + 12;
    }
    args[pname] = TypedValue(StripNewlines(body.substr(at, end - at)), ParamType(tools, name, pname));
    at = next;
  }
  out->name = name;
  out->arguments = JsonText(args);
  return true;
}

// f\n<arg_key>a</arg_key>\n<arg_value>v</arg_value>...
bool Glm45Call(const std::string& body, const nlohmann::json& tools, ToolCall* out, std::string* why) {
  size_t at = body.find("<arg_key>");
  const std::string name = Trim(body.substr(0, at));
  if (name.empty() || name.find_first_of(" \t\r\n<>{}") != std::string::npos)
    return Fail(why, "expected a function name before the arguments");
  OJson args = OJson::object();
  while (at != std::string::npos && at < body.size()) {
    at = SkipSpace(body, at);
    if (at >= body.size()) break;
    if (!StartsWith(body, at, "<arg_key>")) return Fail(why, "expected <arg_key>");
    const size_t kend = body.find("</arg_key>", at);
    if (kend == std::string::npos) return Fail(why, "<arg_key> is not closed");
    const std::string key = Trim(body.substr(at + 9, kend - at - 9));
    at = SkipSpace(body, kend + 10);
    if (!StartsWith(body, at, "<arg_value>")) return Fail(why, "expected <arg_value> after </arg_key>");
    const size_t vend = body.find("</arg_value>", at);
    if (vend == std::string::npos) return Fail(why, "<arg_value> is not closed");
    args[key] = TypedValue(body.substr(at + 11, vend - at - 11), ParamType(tools, name, key));
    at = vend + 12;
  }
  out->name = name;
  out->arguments = JsonText(args);
  return true;
}

// Gemma 4's values: <|"|>string<|"|>, {key:value,...}, [value,...], numbers, true,
// false, null. Keys are bare text up to ':'.
class GemmaValueParser {
 public:
  explicit GemmaValueParser(const std::string& s) : s_(s) {}
  bool Value(size_t* at, OJson* out, std::string* why) {
    *at = SkipSpace(s_, *at);
    if (StartsWith(s_, *at, kQuote)) {
      const size_t end = s_.find(kQuote, *at + 5);
      if (end == std::string::npos) return Fail(why, "unterminated <|\"|> string");
      *out = s_.substr(*at + 5, end - *at - 5);
      *at = end + 5;
      return true;
    }
    if (*at < s_.size() && s_[*at] == '{') return Dict(at, out, why);
    if (*at < s_.size() && s_[*at] == '[') return Array(at, out, why);
    size_t end = *at;
    while (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '-' ||
                               s_[end] == '+' || s_[end] == '.'))
      ++end;
    OJson v = OJson::parse(s_.substr(*at, end - *at), nullptr, /*allow_exceptions=*/false);
    if (end == *at || v.is_discarded() || v.is_string() || v.is_structured())
      return Fail(why, "expected a value at offset " + std::to_string(*at));
    *out = std::move(v);
    *at = end;
    return true;
  }
  bool Dict(size_t* at, OJson* out, std::string* why) {
    *out = OJson::object();
    *at = SkipSpace(s_, *at + 1);
    if (*at < s_.size() && s_[*at] == '}') return ++*at, true;
    while (true) {
      const size_t colon = s_.find(':', *at);
      if (colon == std::string::npos) return Fail(why, "expected key: in a {…}");
      const std::string key = Trim(s_.substr(*at, colon - *at));
      if (key.empty() || key.find_first_of("{}[],") != std::string::npos) return Fail(why, "bad key '" + key + "'");
      *at = colon + 1;
      OJson v;
      if (!Value(at, &v, why)) return false;
      (*out)[key] = std::move(v);
      *at = SkipSpace(s_, *at);
      if (*at < s_.size() && s_[*at] == ',') {
        *at = SkipSpace(s_, *at + 1);
        continue;
      }
      if (*at < s_.size() && s_[*at] == '}') return ++*at, true;
      return Fail(why, "expected , or } in a {…}");
    }
  }
  bool Array(size_t* at, OJson* out, std::string* why) {
    *out = OJson::array();
    *at = SkipSpace(s_, *at + 1);
    if (*at < s_.size() && s_[*at] == ']') return ++*at, true;
    while (true) {
      OJson v;
      if (!Value(at, &v, why)) return false;
      out->push_back(std::move(v));
      *at = SkipSpace(s_, *at);
      if (*at < s_.size() && s_[*at] == ',') {
        ++*at;
        continue;
      }
      if (*at < s_.size() && s_[*at] == ']') return ++*at, true;
      return Fail(why, "expected , or ] in a […]");
    }
  }

 private:
  static constexpr const char* kQuote = "<|\"|>";  // 5 bytes
  const std::string& s_;
};

// call:f{a:1,s:<|"|>text<|"|>}
bool Gemma4Call(const std::string& body, ToolCall* out, std::string* why) {
  size_t at = SkipSpace(body, 0);
  if (!StartsWith(body, at, "call:")) return Fail(why, "expected call:NAME{…}");
  const size_t brace = body.find('{', at);
  if (brace == std::string::npos) return Fail(why, "expected {…} after the name");
  const std::string name = Trim(body.substr(at + 5, brace - at - 5));
  if (name.empty()) return Fail(why, "the function name is empty");
  GemmaValueParser p(body);
  OJson args;
  at = brace;
  if (!p.Dict(&at, &args, why)) return false;
  if (SkipSpace(body, at) != body.size()) return Fail(why, "text after the arguments");
  out->name = name;
  out->arguments = JsonText(args);
  return true;
}

}  // namespace

bool ParseGemmaValue(const std::string& text, OJson* out) {
  std::string why;
  size_t at = 0;
  return GemmaValueParser(text).Value(&at, out, &why) && SkipSpace(text, at) == text.size();
}

namespace {

// The end of the JSON value that starts at `at` (an object or array), or npos.
size_t JsonValueEnd(const std::string& s, size_t at) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = at; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

// [<|python_tag|>] {call} [; {call}]...  or  [{call}, ...]
bool Llama3Calls(const std::string& text, std::vector<ToolCall>* out, std::string* why) {
  size_t at = SkipSpace(text, 0);
  if (StartsWith(text, at, "<|python_tag|>")) at = SkipSpace(text, at + 14);
  while (at < text.size()) {
    if (text[at] != '{' && text[at] != '[') return Fail(why, "expected a JSON object");
    const size_t end = JsonValueEnd(text, at);
    if (end == std::string::npos) return Fail(why, "unterminated JSON");
    const OJson j = OJson::parse(text.substr(at, end - at), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Fail(why, "invalid JSON");
    for (const OJson& call : j.is_array() ? j : OJson::array({j})) {
      ToolCall c;
      if (!JsonCall(call, &c, why)) return false;
      out->push_back(std::move(c));
    }
    at = SkipSpace(text, end);
    if (at < text.size() && text[at] == ';') at = SkipSpace(text, at + 1);
  }
  return !out->empty() || Fail(why, "no call");
}

}  // namespace

bool ParseToolCallBody(ToolCallFormat format, const std::string& body, const nlohmann::json& tools,
                       std::vector<ToolCall>* out, std::string* why) {
  ToolCall call;
  bool ok = false;
  switch (format) {
    case ToolCallFormat::kQwen3: {
      const OJson j = OJson::parse(Trim(body), nullptr, /*allow_exceptions=*/false);
      ok = j.is_discarded() ? Fail(why, "invalid JSON inside <tool_call>") : JsonCall(j, &call, why);
      break;
    }
    case ToolCallFormat::kQwen3Coder:
      ok = Qwen3CoderCall(body, tools, &call, why);
      break;
    case ToolCallFormat::kGlm45:
      ok = Glm45Call(body, tools, &call, why);
      break;
    case ToolCallFormat::kGemma4:
      ok = Gemma4Call(body, &call, why);
      break;
    case ToolCallFormat::kLlama3Json: {
      std::vector<ToolCall> calls;
      if (!Llama3Calls(body, &calls, why)) return false;
      for (ToolCall& c : calls) out->push_back(std::move(c));
      return true;
    }
    case ToolCallFormat::kNone:
      return Fail(why, "no tool-call syntax");
  }
  if (ok) out->push_back(std::move(call));
  return ok;
}

}  // namespace ax::server
