// JSON Schema -> grammar: dispatch, references, objects and arrays. Scalars are in
// json_schema_scalars.cpp. Output shape (the whitespace policy): compact JSON, an
// optional single space after ':' and ',', nothing else between tokens.
#include "constrain/json_schema.h"

#include <set>

namespace ax::constrain {
namespace {

using Json = nlohmann::ordered_json;

const std::set<std::string> kAnnotations = {
    "title",    "description", "$comment", "examples",  "default",         "$schema",          "$id",
    "deprecated", "readOnly",  "writeOnly", "$anchor",  "contentEncoding", "contentMediaType", "$defs",
    "definitions"};
const std::set<std::string> kObjectKeys = {"properties", "required", "additionalProperties", "unevaluatedProperties"};
const std::set<std::string> kArrayKeys = {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"};
const std::set<std::string> kStringKeys = {"minLength", "maxLength", "pattern", "format"};
const std::set<std::string> kNumberKeys = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
const std::set<std::string> kOtherKeys = {"type", "enum", "const", "$ref", "anyOf", "oneOf", "allOf"};

bool Has(const Json& s, const char* key) { return s.contains(key); }

bool HasAnyOf(const Json& s, const std::set<std::string>& keys) {
  for (const auto& [k, v] : s.items()) {
    if (keys.count(k) != 0) return true;
  }
  return false;
}

// Keys that constrain output, other than `except`.
std::vector<std::string> Constraining(const Json& s, const std::set<std::string>& except) {
  std::vector<std::string> out;
  for (const auto& [k, v] : s.items()) {
    if (kAnnotations.count(k) == 0 && except.count(k) == 0) out.push_back(k);
  }
  return out;
}

std::string PointerEscape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Expr SchemaCompiler::Sep() const { return Expr::Seq({Expr::Lit(","), Expr::Opt(Expr::Lit(" "))}); }
Expr SchemaCompiler::Colon() const { return Expr::Seq({Expr::Lit(":"), Expr::Opt(Expr::Lit(" "))}); }

Expr SchemaCompiler::AnyValue() {
  if (any_value_ < 0) {
    int32_t obj;
    DefineAnyJson(&b_, &any_value_, &obj, &any_string_);
  }
  return Expr::Ref(any_value_);
}

Expr SchemaCompiler::AnyString() {
  AnyValue();
  return Expr::Ref(any_string_);
}

Result<GrammarPtr> SchemaCompiler::Compile() {
  for (const char* defs : {"$defs", "definitions"}) {
    if (!root_.is_object() || !Has(root_, defs)) continue;
    if (!root_[defs].is_object()) return InvalidArgument(path_ + "/" + defs + ": expected an object");
    for (const auto& [k, v] : root_[defs].items()) {
      AX_RETURN_IF_ERROR(Ref(std::string("#/") + defs + "/" + PointerEscape(k), path_).status());
    }
  }
  AX_ASSIGN_OR_RETURN(Expr body, Schema(root_, path_));
  int32_t root = b_.Rule("root");
  b_.Define(root, std::move(body));
  return b_.Build(root, path_);
}

Result<Expr> SchemaCompiler::CompileAt(const std::string& pointer) {
  if (pointer.empty()) return Schema(root_, path_);
  const Json* target = nullptr;
  try {
    Json::json_pointer ptr(pointer);
    if (root_.contains(ptr)) target = &root_.at(ptr);
  } catch (const Json::exception&) {
    target = nullptr;
  }
  if (target == nullptr) return InvalidArgument(path_ + ": '" + pointer + "' does not resolve");
  return Schema(*target, path_ + pointer);
}

Result<Expr> SchemaCompiler::Ref(const std::string& ref, const std::string& path) {
  if (ref.empty() || ref[0] != '#' || (ref.size() > 1 && ref[1] != '/')) {
    return InvalidArgument(path + "/$ref: only local JSON-pointer references ('#', '#/$defs/name') are supported, got '" +
                           ref + "'");
  }
  auto it = refs_.find(ref);
  if (it != refs_.end()) return Expr::Ref(it->second);
  const Json* target = nullptr;
  try {
    Json::json_pointer ptr(ref.substr(1));
    if (root_.contains(ptr)) target = &root_.at(ptr);
  } catch (const Json::exception&) {
    target = nullptr;
  }
  if (target == nullptr) return InvalidArgument(path + "/$ref: '" + ref + "' does not resolve");
  int32_t rule = b_.NewRule("ref" + ref);
  refs_[ref] = rule;  // before compiling the target: recursive references
  AX_ASSIGN_OR_RETURN(Expr body, Schema(*target, path_ + ref.substr(1)));
  b_.Define(rule, std::move(body));
  return Expr::Ref(rule);
}

Result<Expr> SchemaCompiler::Schema(const Json& s, const std::string& path) {
  if (s.is_boolean()) {
    if (s.get<bool>()) return AnyValue();
    return InvalidArgument(path + ": the schema 'false' matches nothing");
  }
  if (!s.is_object()) return InvalidArgument(path + ": expected a schema (an object or a boolean)");
  for (const auto& [k, v] : s.items()) {
    if (kAnnotations.count(k) || kObjectKeys.count(k) || kArrayKeys.count(k) || kStringKeys.count(k) ||
        kNumberKeys.count(k) || kOtherKeys.count(k)) {
      continue;
    }
    return InvalidArgument(path + ": unsupported keyword '" + k + "'");
  }
  for (const char* combinator : {"$ref", "anyOf", "oneOf", "allOf"}) {
    if (!Has(s, combinator)) continue;
    std::vector<std::string> extra = Constraining(s, {combinator});
    if (!extra.empty()) {
      return InvalidArgument(path + "/" + extra[0] + ": keywords beside '" + combinator + "' are unsupported");
    }
    const Json& v = s[combinator];
    std::string p = path + "/" + combinator;
    if (std::string(combinator) == "$ref") {
      if (!v.is_string()) return InvalidArgument(p + ": expected a string");
      return Ref(v.get<std::string>(), path);
    }
    if (!v.is_array() || v.empty()) return InvalidArgument(p + ": expected a non-empty array of schemas");
    if (std::string(combinator) == "allOf" && v.size() != 1) {
      return InvalidArgument(p + ": allOf with more than one schema is unsupported");
    }
    std::vector<Expr> alts;
    for (size_t i = 0; i < v.size(); ++i) {
      AX_ASSIGN_OR_RETURN(Expr e, Schema(v[i], p + "/" + std::to_string(i)));
      alts.push_back(std::move(e));
    }
    return Expr::Alt(std::move(alts));  // oneOf is compiled as anyOf
  }
  if (Has(s, "const")) return Expr::Lit(s["const"].dump());
  if (Has(s, "enum")) {
    const Json& v = s["enum"];
    if (!v.is_array() || v.empty()) return InvalidArgument(path + "/enum: expected a non-empty array");
    std::vector<Expr> alts;
    for (const Json& x : v) alts.push_back(Expr::Lit(x.dump()));
    return Expr::Alt(std::move(alts));
  }
  std::vector<std::string> types;
  if (Has(s, "type")) {
    const Json& t = s["type"];
    if (t.is_string()) {
      types.push_back(t.get<std::string>());
    } else if (t.is_array() && !t.empty()) {
      for (const Json& x : t) {
        if (!x.is_string()) return InvalidArgument(path + "/type: expected a string or an array of strings");
        types.push_back(x.get<std::string>());
      }
    } else {
      return InvalidArgument(path + "/type: expected a string or a non-empty array of strings");
    }
  } else {
    // No type: the types the keywords present are about (any value if none).
    if (HasAnyOf(s, kObjectKeys)) types.push_back("object");
    if (HasAnyOf(s, kArrayKeys)) types.push_back("array");
    if (HasAnyOf(s, kStringKeys)) types.push_back("string");
    if (HasAnyOf(s, kNumberKeys)) types.push_back("number");
    if (types.empty()) return AnyValue();
  }
  std::vector<Expr> alts;
  for (const std::string& t : types) {
    AX_ASSIGN_OR_RETURN(Expr e, Typed(s, t, path));
    alts.push_back(std::move(e));
  }
  return Expr::Alt(std::move(alts));
}

Result<Expr> SchemaCompiler::Typed(const Json& s, const std::string& type, const std::string& path) {
  if (type == "object") return Object(s, path);
  if (type == "array") return Array(s, path);
  if (type == "string") return String(s, path);
  if (type == "integer") return Number(s, /*integer=*/true, path);
  if (type == "number") return Number(s, /*integer=*/false, path);
  if (type == "boolean") return Expr::Alt({Expr::Lit("true"), Expr::Lit("false")});
  if (type == "null") return Expr::Lit("null");
  return InvalidArgument(path + "/type: unknown type '" + type + "'");
}

Result<Expr> SchemaCompiler::Object(const Json& s, const std::string& path) {
  struct Member {
    std::string key;
    int32_t rule;  // key ":" value
    bool required;
  };
  std::vector<Member> members;
  std::set<std::string> required;
  if (Has(s, "required")) {
    const Json& r = s["required"];
    if (!r.is_array()) return InvalidArgument(path + "/required: expected an array of strings");
    for (const Json& x : r) {
      if (!x.is_string()) return InvalidArgument(path + "/required: expected an array of strings");
      required.insert(x.get<std::string>());
    }
  }
  if (Has(s, "unevaluatedProperties") && s["unevaluatedProperties"] != Json(false)) {
    return InvalidArgument(path + "/unevaluatedProperties: only 'false' is supported");
  }
  // Extra properties: absent additionalProperties means none (strict policy).
  std::optional<Expr> extra;
  if (Has(s, "additionalProperties")) {
    const Json& a = s["additionalProperties"];
    if (!(a.is_boolean() && !a.get<bool>())) {
      AX_ASSIGN_OR_RETURN(Expr v, a.is_boolean() ? Result<Expr>(AnyValue()) : Schema(a, path + "/additionalProperties"));
      extra = std::move(v);
    }
  }
  auto add_member = [&](const std::string& key, Expr value) {
    int32_t r = b_.NewRule("member");
    b_.Define(r, Expr::Seq({Expr::Lit(Json(key).dump()), Colon(), std::move(value)}));
    members.push_back({key, r, required.count(key) != 0});
  };
  if (Has(s, "properties")) {
    const Json& props = s["properties"];
    if (!props.is_object()) return InvalidArgument(path + "/properties: expected an object");
    for (const auto& [k, v] : props.items()) {  // the schema's own order (ordered_json)
      if (v.is_boolean() && !v.get<bool>()) {
        if (required.count(k) != 0) return InvalidArgument(path + "/properties/" + k + ": required but 'false'");
        continue;
      }
      AX_ASSIGN_OR_RETURN(Expr e, Schema(v, path + "/properties/" + PointerEscape(k)));
      add_member(k, std::move(e));
    }
  }
  for (const Json& x : Has(s, "required") ? s["required"] : Json::array()) {
    std::string k = x.get<std::string>();
    if (Has(s, "properties") && s["properties"].contains(k)) continue;
    add_member(k, extra.has_value() ? *extra : AnyValue());
  }
  // tail[i][started]: members i.. given whether one was already written.
  size_t n = members.size();
  std::vector<std::array<int32_t, 2>> tail(n + 1);
  for (size_t i = n + 1; i-- > 0;) {
    for (int st = 0; st < 2; ++st) {
      int32_t r = b_.NewRule("props");
      tail[i][st] = r;
      Expr lead = st != 0 ? Sep() : Expr::Empty();
      if (i == n) {
        if (!extra.has_value()) {
          b_.Define(r, Expr::Empty());
          continue;
        }
        int32_t m = b_.NewRule("extra");
        b_.Define(m, Expr::Seq({AnyString(), Colon(), *extra}));
        b_.Define(r, Expr::Alt({Expr::Seq({lead, Expr::Ref(m), Expr::Star(Expr::Seq({Sep(), Expr::Ref(m)}))}),
                                Expr::Empty()}));
        continue;
      }
      Expr present = Expr::Seq({lead, Expr::Ref(members[i].rule), Expr::Ref(tail[i + 1][1])});
      if (members[i].required) {
        b_.Define(r, std::move(present));
      } else {
        b_.Define(r, Expr::Alt({std::move(present), Expr::Ref(tail[i + 1][st])}));
      }
    }
  }
  return Expr::Seq({Expr::Lit("{"), Expr::Ref(tail[0][0]), Expr::Lit("}")});
}

Result<Expr> SchemaCompiler::Array(const Json& s, const std::string& path) {
  auto count = [&](const char* key, int64_t dflt) -> Result<int64_t> {
    if (!Has(s, key)) return dflt;
    const Json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      return InvalidArgument(path + "/" + key + ": expected a non-negative integer");
    }
    if (v.get<int64_t>() > kMaxRepeat) {
      return InvalidArgument(path + "/" + key + ": values above " + std::to_string(kMaxRepeat) + " are unsupported");
    }
    return v.get<int64_t>();
  };
  AX_ASSIGN_OR_RETURN(int64_t min, count("minItems", 0));
  AX_ASSIGN_OR_RETURN(int64_t max, count("maxItems", -1));
  if (Has(s, "uniqueItems") && s["uniqueItems"] != Json(false)) {
    return InvalidArgument(path + "/uniqueItems: only 'false' is supported");
  }
  std::vector<Expr> prefix;
  if (Has(s, "prefixItems")) {
    const Json& p = s["prefixItems"];
    if (!p.is_array()) return InvalidArgument(path + "/prefixItems: expected an array of schemas");
    for (size_t i = 0; i < p.size(); ++i) {
      AX_ASSIGN_OR_RETURN(Expr e, Schema(p[i], path + "/prefixItems/" + std::to_string(i)));
      int32_t r = b_.NewRule("item");
      b_.Define(r, std::move(e));
      prefix.push_back(Expr::Ref(r));
    }
  }
  int64_t k = static_cast<int64_t>(prefix.size());
  std::optional<Expr> item;
  if (!Has(s, "items") || s["items"] != Json(false)) {
    AX_ASSIGN_OR_RETURN(Expr e, Has(s, "items") ? Schema(s["items"], path + "/items") : Result<Expr>(AnyValue()));
    int32_t r = b_.NewRule("item");
    b_.Define(r, std::move(e));
    item = Expr::Ref(r);
  } else {
    max = max < 0 ? k : std::min(max, k);
  }
  if (max >= 0 && min > max) return InvalidArgument(path + "/minItems: more than the array can hold");
  if (max == 0) return Expr::Lit("[]");
  // list(i): the elements from position i on, element i present.
  std::optional<Expr> list;
  if (item.has_value() && (max < 0 || max > k)) {
    int64_t tmin = std::max<int64_t>(1, min - k), tmax = max < 0 ? -1 : max - k;
    list = Expr::Seq({*item, Expr::Repeat(Expr::Seq({Sep(), *item}), static_cast<int32_t>(tmin - 1),
                                          static_cast<int32_t>(tmax < 0 ? -1 : tmax - 1))});
  }
  for (int64_t i = std::min<int64_t>(k, max < 0 ? k : max); i-- > 0;) {
    std::vector<Expr> parts{prefix[i]};
    if (list.has_value()) {
      Expr rest = Expr::Seq({Sep(), *list});
      parts.push_back(i + 1 < min ? std::move(rest) : Expr::Opt(std::move(rest)));
    }
    list = Expr::Seq(std::move(parts));
  }
  if (!list.has_value()) return Expr::Lit("[]");
  return Expr::Seq({Expr::Lit("["), min > 0 ? *list : Expr::Opt(*list), Expr::Lit("]")});
}

Result<GrammarPtr> CompileJsonSchema(const nlohmann::ordered_json& schema) { return SchemaCompiler(schema).Compile(); }

Result<GrammarPtr> CompileJsonSchema(const nlohmann::json& schema) {
  return CompileJsonSchema(nlohmann::ordered_json(schema));
}

}  // namespace ax::constrain
