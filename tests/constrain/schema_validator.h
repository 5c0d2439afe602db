// A small JSON Schema validator for the subset the compiler supports (standard
// semantics: an absent additionalProperties allows extra properties), used to
// check what constrained generation produces.
#pragma once

#include <cmath>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

namespace ax::constrain::test {

inline size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Empty when `v` is valid, else where and why not.
inline std::string Validate(const nlohmann::json& v, const nlohmann::json& s, const nlohmann::json& root,
                            const std::string& at = "$") {
  using Json = nlohmann::json;
  if (s.is_boolean()) return s.get<bool>() ? "" : at + ": false schema";
  if (s.contains("$ref")) return Validate(v, root.at(Json::json_pointer(s["$ref"].get<std::string>().substr(1))), root, at);
  for (const char* k : {"anyOf", "oneOf", "allOf"}) {
    if (!s.contains(k)) continue;
    bool all = std::string(k) == "allOf";
    for (const Json& sub : s[k]) {
      bool ok = Validate(v, sub, root, at).empty();
      if (ok && !all) return "";
      if (!ok && all) return at + ": allOf";
    }
    if (!all) return at + ": no " + k + " branch matches";
  }
  if (s.contains("const") && v != s["const"]) return at + ": const";
  if (s.contains("enum")) {
    bool found = false;
    for (const Json& e : s["enum"]) found = found || e == v;
    if (!found) return at + ": enum";
  }
  if (s.contains("type")) {
    Json types = s["type"].is_array() ? s["type"] : Json::array({s["type"]});
    bool ok = false;
    for (const Json& t : types) {
      std::string ts = t.get<std::string>();
      ok = ok || (ts == "object" && v.is_object()) || (ts == "array" && v.is_array()) ||
           (ts == "string" && v.is_string()) || (ts == "boolean" && v.is_boolean()) || (ts == "null" && v.is_null()) ||
           (ts == "number" && v.is_number()) || (ts == "integer" && v.is_number() && v.get<double>() == std::floor(v.get<double>()));
    }
    if (!ok) return at + ": type " + types.dump();
  }
  if (v.is_object()) {
    for (const Json& r : s.value("required", Json::array())) {
      if (!v.contains(r.get<std::string>())) return at + ": missing " + r.dump();
    }
    for (const auto& [k, x] : v.items()) {
      std::string e;
      if (s.contains("properties") && s["properties"].contains(k)) {
        e = Validate(x, s["properties"][k], root, at + "." + k);
      } else if (s.contains("additionalProperties")) {
        e = Validate(x, s["additionalProperties"], root, at + "." + k);
      }
      if (!e.empty()) return e;
    }
  }
  if (v.is_array()) {
    size_t n = v.size(), k = s.contains("prefixItems") ? s["prefixItems"].size() : 0;
    if (n < s.value("minItems", size_t{0})) return at + ": minItems";
    if (s.contains("maxItems") && n > s["maxItems"].get<size_t>()) return at + ": maxItems";
    for (size_t i = 0; i < n; ++i) {
      std::string e;
      if (i < k) {
        e = Validate(v[i], s["prefixItems"][i], root, at + "[" + std::to_string(i) + "]");
      } else if (s.contains("items")) {
        e = Validate(v[i], s["items"], root, at + "[" + std::to_string(i) + "]");
      }
      if (!e.empty()) return e;
    }
  }
  if (v.is_string()) {
    std::string str = v.get<std::string>();
    size_t n = CodePoints(str);
    if (n < s.value("minLength", size_t{0})) return at + ": minLength";
    if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return at + ": maxLength";
    if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>()))) {
      return at + ": pattern";
    }
  }
  if (v.is_number()) {
    double x = v.get<double>();
    if (s.contains("minimum") && x < s["minimum"].get<double>()) return at + ": minimum";
    if (s.contains("maximum") && x > s["maximum"].get<double>()) return at + ": maximum";
    if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>()) return at + ": exclusiveMinimum";
    if (s.contains("exclusiveMaximum") && x >= s["exclusiveMaximum"].get<double>()) return at + ": exclusiveMaximum";
  }
  return "";
}

}  // namespace ax::constrain::test
