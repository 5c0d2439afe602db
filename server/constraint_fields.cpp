// The output-constraint fields of the generating routes → GenerateRequest::constraint
// (docs/structured-output.md): OpenAI's response_format, vLLM's structured_outputs and
// its older guided_json / guided_regex / guided_choice / guided_grammar. At most one per
// request. The schema, regex or grammar itself is compiled by the engine at submission;
// its errors come back as a 400 too (routes map InvalidArgument).
#include "constraint_fields.h"

namespace ax::server {
namespace {

using Kind = OutputConstraint::Kind;
using OJson = nlohmann::ordered_json;

// source[path[0]][path[1]]..., or null.
const OJson* At(const OJson* source, std::initializer_list<std::string> path) {
  for (const std::string& key : path) {
    if (source == nullptr || !source->is_object() || !source->contains(key)) return nullptr;
    source = &(*source)[key];
  }
  return source;
}

class ConstraintReader {
 public:
  ConstraintReader(FieldReader& r, OutputConstraint* c, std::string* param, const OJson* source)
      : r_(r), c_(c), param_(param), source_(source) {}

  void Set(const std::string& field, Kind kind, std::string text, std::vector<std::string> choices = {}) {
    if (c_->kind != Kind::kNone) {
      r_.Fail(InvalidField(field, "only one output constraint per request (response_format, structured_outputs or "
                                  "guided_*)"));
      return;
    }
    c_->kind = kind;
    *param_ = field;
    c_->text = std::move(text);
    c_->choices = std::move(choices);
  }

  // A JSON schema given as an object (passed on in the order of `ordered`, the same
  // value in the body's own key order, when known) or as its JSON text.
  void Json(const std::string& field, const nlohmann::json& v, const OJson* ordered) {
    if (v.is_object())
      return Set(field, Kind::kJsonSchema, ordered != nullptr && ordered->is_object() ? ordered->dump() : v.dump());
    if (v.is_string()) return Set(field, Kind::kJsonSchema, v.get<std::string>());
    r_.Fail(InvalidField(field, "expected a JSON Schema object, got " + JsonTypeName(v), "invalid_type"));
  }
  void Text(const std::string& field, Kind kind, const nlohmann::json& v) {
    if (!v.is_string() || v.get<std::string>().empty())
      return r_.Fail(InvalidField(field, "expected a non-empty string, got " + JsonTypeName(v), "invalid_type"));
    Set(field, kind, v.get<std::string>());
  }
  void Choice(const std::string& field, const nlohmann::json& v) {
    std::vector<std::string> choices;
    if (v.is_array())
      for (const auto& e : v)
        if (e.is_string()) choices.push_back(e.get<std::string>());
    if (!v.is_array() || v.empty() || choices.size() != v.size())
      return r_.Fail(InvalidField(field, "expected a non-empty array of strings", "invalid_type"));
    Set(field, Kind::kChoice, "", std::move(choices));
  }

  void ResponseFormat(const nlohmann::json& rf) {
    if (!rf.is_object())
      return r_.Fail("response_format", "expected an object {\"type\": \"text\" | \"json_object\" | \"json_schema\"}, got " +
                                            JsonTypeName(rf));
    FieldReader fr(rf, "response_format.");
    std::string type;
    fr.Enum("type", &type, {"text", "json_object", "json_schema"});
    if (!fr.ok()) return r_.Fail(fr.error());
    if (type == "json_object") return Set("response_format", Kind::kJsonObject, "");
    if (type != "json_schema") return;
    if (!rf.contains("json_schema") || !rf["json_schema"].is_object())
      return r_.Fail(InvalidField("response_format.json_schema",
                                  "expected an object {\"name\": ..., \"schema\": {...}, \"strict\": true}", "invalid_type"));
    const auto& js = rf["json_schema"];
    if (!js.contains("schema"))
      return r_.Fail(InvalidField("response_format.json_schema.schema", "is required", "missing_required_parameter"));
    Json("response_format.json_schema.schema", js["schema"], At(source_, {"response_format", "json_schema", "schema"}));
  }

  void StructuredOutputs(const nlohmann::json& so) {
    if (!so.is_object())
      return r_.Fail("structured_outputs", "expected an object with one of json, regex, choice, grammar, got " +
                                               JsonTypeName(so));
    for (const auto& [key, v] : so.items()) {
      const std::string field = "structured_outputs." + key;
      if (key == "json") {
        Json(field, v, At(source_, {"structured_outputs", "json"}));
      } else if (key == "regex") {
        Text(field, Kind::kRegex, v);
      } else if (key == "choice") {
        Choice(field, v);
      } else if (key == "grammar") {
        Text(field, Kind::kGrammar, v);
      } else {
        r_.Fail(InvalidField(field, "is not supported (json, regex, choice, grammar are)", "unsupported_parameter"));
      }
      if (!r_.ok()) return;
    }
  }

 private:
  FieldReader& r_;
  OutputConstraint* c_;
  std::string* param_;
  const OJson* source_;
};

}  // namespace

void ReadConstraint(FieldReader& r, OutputConstraint* out, std::string* param, const OJson* source) {
  ConstraintReader c(r, out, param, source);
  auto given = [&](const char* name) { return r.ok() && r.Has(name); };
  if (given("response_format")) c.ResponseFormat(r.Get("response_format"));
  if (given("structured_outputs")) c.StructuredOutputs(r.Get("structured_outputs"));
  if (given("guided_json")) c.Json("guided_json", r.Get("guided_json"), At(source, {"guided_json"}));
  if (given("guided_regex")) c.Text("guided_regex", Kind::kRegex, r.Get("guided_regex"));
  if (given("guided_choice")) c.Choice("guided_choice", r.Get("guided_choice"));
  if (given("guided_grammar")) c.Text("guided_grammar", Kind::kGrammar, r.Get("guided_grammar"));
}

}  // namespace ax::server
