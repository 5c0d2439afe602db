// CompileJsonSchema: error paths, accepted/rejected instances, exact integer
// ranges and number bounds.
#include <nlohmann/json.hpp>

#include "constrain/schema_validator.h"
#include "constrain/test_util.h"

namespace ax::constrain::test {
namespace {

using Json = nlohmann::json;

GrammarPtr MustSchema(const Json& s) {
  auto r = CompileJsonSchema(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << s.dump();
  return r.ok() ? r.value() : nullptr;
}

TEST(JsonSchema, ErrorsNameThePath) {
  struct Bad {
    const char* schema;
    const char* message;
  };
  const Bad kBad[] = {
      {R"({"$defs": {"x": {"if": {}}}, "type": "string"})", "schema/$defs/x: unsupported keyword 'if'"},
      {R"({"properties": {"age": {"type": "integer", "minimum": "3"}}})", "schema/properties/age/minimum: expected a number"},
      {R"({"type": "object", "properties": {"a": {"not": {}}}})", "schema/properties/a: unsupported keyword 'not'"},
      {R"({"$ref": "#/$defs/missing"})", "schema/$ref: '#/$defs/missing' does not resolve"},
      {R"({"$ref": "http://x/y.json"})", "only local JSON-pointer references"},
      {R"({"type": "string", "format": "hostname"})", "schema/format: unsupported format 'hostname'"},
      {R"({"type": "number", "exclusiveMinimum": 0})", "schema/exclusiveMinimum: exclusive bounds"},
      {R"({"type": "number", "minimum": 0.5})", "schema/minimum: only integer-valued bounds"},
      {R"({"type": "array", "uniqueItems": true})", "schema/uniqueItems: only 'false'"},
      {R"({"type": "array", "items": {"type": "strin"}})", "schema/items/type: unknown type 'strin'"},
      {R"({"anyOf": [{"type": "null"}, {"type": "object", "patternProperties": {}}]})",
       "schema/anyOf/1: unsupported keyword 'patternProperties'"},
      {R"({"type": "object", "anyOf": [{}]})", "keywords beside 'anyOf' are unsupported"},
      {R"({"allOf": [{}, {}]})", "schema/allOf: allOf with more than one schema"},
      {R"j({"type": "string", "pattern": "(?=a)"})j", "schema/pattern: at offset"},
      {R"({"type": "string", "pattern": "a", "maxLength": 3})", "schema/maxLength: combining lengths"},
      {R"({"type": "integer", "minimum": 5, "maximum": 4})", "no integer in the range"},
      {R"(false)", "schema: the schema 'false' matches nothing"},
      {R"({"type": "string", "maxLength": 100000})", "schema/maxLength: values above"},
  };
  for (const Bad& b : kBad) {
    auto r = CompileJsonSchema(Json::parse(b.schema));
    ASSERT_FALSE(r.ok()) << b.schema;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.message), std::string::npos) << r.status().ToString();
  }
}

struct InstanceCase {
  const char* schema;
  std::vector<const char*> good, bad;
};

const InstanceCase kInstances[] = {
    {R"({"type": "object", "properties": {"age": {"type": "integer"}, "name": {"type": "string"}}, "required": ["name"]})",
     {R"({"age": 3, "name": "x"})", R"({"name": ""})", R"({"age":-12,"name":"a\"b"})"},
     {R"({"age": 3})", R"({"name": "x", "age": 3})", R"({"name": "x", "extra": 1})", R"({"age": 1.5, "name": "x"})",
      R"({ "name": "x"})", R"({"name":  "x"})"}},
    {R"({"type": "object", "additionalProperties": {"type": "boolean"}})",
     {R"({})", R"({"a": true, "b": false})"}, {R"({"a": 1})"}},
    {R"({"type": "object", "properties": {"a": {"const": 1}}, "additionalProperties": true})",
     {R"({"a": 1, "z": [null]})", R"({"z": {}})"}, {R"({"a": 1 "z": 1})", R"({"z": 1,})"}},
    {R"({"type": ["string", "null"], "maxLength": 2})", {R"("")", R"("ab")", R"("é\n")", "null"}, {R"("abc")", "1"}},
    {R"({"enum": ["red", 1, null, {"a": [1]}]})", {R"("red")", "1", "null", R"({"a":[1]})"}, {R"("blue")", "2"}},
    {R"({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3})",
     {"[1]", "[1, 2]", "[1,2,3]"}, {"[]", "[1,2,3,4]", "[1,]", "[1.0]"}},
    {R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": false})",
     {"[]", R"(["a"])", R"(["a", true])"}, {R"(["a", true, 1])", "[true]"}},
    {R"({"type": "array", "prefixItems": [{"const": 0}], "items": {"type": "null"}, "minItems": 2})",
     {"[0, null]", "[0,null,null]"}, {"[0]", "[null, null]"}},
    {R"({"$defs": {"node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
         "required": ["next"]}}, "$ref": "#/$defs/node"})",
     {R"({"next": null})", R"({"next": {"next": {"next": null}}})"}, {R"({"next": {}})", "{}"}},
    {R"({"type": "string", "format": "date-time"})", {R"("2024-02-29T13:05:59.123Z")", R"("1999-12-31T23:59:60+05:30")"},
     {R"("2024-13-01T00:00:00Z")", R"("2024-01-01 00:00:00Z")"}},
    {R"({"type": "string", "format": "uuid"})", {R"("123e4567-e89b-12d3-a456-426614174000")"}, {R"("123e4567")"}},
    {R"({"type": "string", "format": "email"})", {R"("a.b+c@ex-ample.co.uk")"}, {R"("a@b")", R"("@x.com")"}},
    {R"({"type": "string", "pattern": "^[A-Z]{2}-\\d+$"})", {R"("AB-12")"}, {R"("AB-")", R"("xAB-1")"}},
    {R"({"type": "string", "pattern": "q\""})", {R"("q\"")", R"("xxq\"yy")"}, {R"("q")"}},
    {R"({"type": "number", "minimum": -2, "maximum": 3})",
     {"-2", "-1.5", "0", "-0.5", "3", "3.000", "2.999"}, {"-2.5", "3.01", "4", "1e1", "-3"}},
    {R"({"type": "boolean"})", {"true", "false"}, {"1", "\"true\""}},
    {R"({"oneOf": [{"type": "integer", "minimum": 10}, {"type": "string", "minLength": 3}]})",
     {"10", "12345", R"("abc")"}, {"9", R"("ab")"}},
};

TEST(JsonSchema, AcceptsValidRejectsInvalid) {
  for (const InstanceCase& c : kInstances) {
    GrammarPtr g = MustSchema(Json::parse(c.schema));
    ASSERT_NE(g, nullptr);
    for (const char* s : c.good) EXPECT_TRUE(Matches(g, s)) << c.schema << "\n  should accept " << s;
    for (const char* s : c.bad) EXPECT_FALSE(Matches(g, s)) << c.schema << "\n  should reject " << s;
  }
}

TEST(JsonSchema, IntegerRangesAreExact) {
  const std::pair<std::optional<int64_t>, std::optional<int64_t>> kRanges[] = {
      {0, 9}, {0, 100}, {7, 1234}, {-15, 15}, {-1200, -3}, {1, std::nullopt}, {std::nullopt, -7},
      {99, 101}, {std::nullopt, 250}, {-3, std::nullopt}, {123, 123}};
  for (auto [lo, hi] : kRanges) {
    Json s = {{"type", "integer"}};
    if (lo) s["minimum"] = *lo;
    if (hi) s["maximum"] = *hi;
    GrammarPtr g = MustSchema(s);
    ASSERT_NE(g, nullptr);
    for (int64_t n = -1500; n <= 1500; ++n) {
      bool want = (!lo || n >= *lo) && (!hi || n <= *hi);
      ASSERT_EQ(Matches(g, std::to_string(n)), want) << s.dump() << " n=" << n;
    }
    EXPECT_FALSE(Matches(g, "007"));
    EXPECT_FALSE(Matches(g, "-0"));
  }
  GrammarPtr ex = MustSchema(Json::parse(R"({"type": "integer", "exclusiveMinimum": 2.5, "exclusiveMaximum": 5})"));
  EXPECT_FALSE(Matches(ex, "2"));
  EXPECT_TRUE(Matches(ex, "3"));
  EXPECT_TRUE(Matches(ex, "4"));
  EXPECT_FALSE(Matches(ex, "5"));
}

TEST(JsonSchema, AnyJsonObject) {
  GrammarPtr g = AnyJsonObject();
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(Matches(g, R"({"a": [1, -2.5e+3, "x\u00e9", {"b": null}], "c": true})"));
  EXPECT_TRUE(Matches(g, "{}"));
  EXPECT_FALSE(Matches(g, "[]"));
  EXPECT_FALSE(Matches(g, R"({"a" : 1})"));
  EXPECT_FALSE(Matches(g, R"({"a": 01})"));
}

}  // namespace
}  // namespace ax::constrain::test
