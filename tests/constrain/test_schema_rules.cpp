// GBNF grammars with rules given as JSON schemas (CompileGbnf's SchemaRule): literal
// text composed with schema-constrained JSON, the composition a forced tool call uses;
// JSON-schema properties generated in the schema's own order; and special tokens a
// vocabulary gives text to by name.
#include <nlohmann/json.hpp>

#include "constrain/test_util.h"

namespace ax::constrain::test {
namespace {

const char* kParams = R"({"type": "object", "properties": {"zeta": {"type": "integer", "minimum": 0},
  "alpha": {"enum": ["a", "b"]}}, "required": ["zeta"], "$defs": {"n": {"type": "integer"}}})";

TEST(SchemaRules, LiteralsAroundASchema) {
  auto g = CompileGbnf(R"(root ::= "<call>" args "</call>")", {{"args", kParams, ""}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, R"(<call>{"zeta": 3}</call>)"));
  EXPECT_TRUE(Matches(*g, R"(<call>{"zeta":3,"alpha":"b"}</call>)"));
  EXPECT_FALSE(Matches(*g, R"(<call>{"zeta": -3}</call>)"));               // minimum
  EXPECT_FALSE(Matches(*g, R"(<call>{"alpha": "a"}</call>)"));             // required
  EXPECT_FALSE(Matches(*g, R"(<call>{"alpha": "a", "zeta": 1}</call>)"));  // the schema's order
  EXPECT_FALSE(Matches(*g, R"(<call>{"zeta": 3})"));
  EXPECT_FALSE(IsPrefix(*g, "<cal>"));
}

TEST(SchemaRules, SubschemaByPointerResolvesRefsAgainstTheWhole) {
  const std::string schema = R"({"type": "object", "properties": {"n": {"$ref": "#/$defs/n"}},
    "$defs": {"n": {"type": "integer", "maximum": 9}}})";
  auto g = CompileGbnf(R"(root ::= "n=" n)", {{"n", schema, "/properties/n"}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, "n=7"));
  EXPECT_FALSE(Matches(*g, "n=10"));
  EXPECT_FALSE(Matches(*g, "n=\"7\""));
}

TEST(SchemaRules, SeveralSchemasShareOneGrammar) {
  auto g = CompileGbnf(R"(root ::= a | b)",
                       {{"a", R"({"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]})", ""},
                        {"b", R"({"type": "array", "items": {"type": "boolean"}})", ""}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, R"({"s": "x"})"));
  EXPECT_TRUE(Matches(*g, "[true, false]"));
  EXPECT_FALSE(Matches(*g, R"({"s": 1})"));
}

TEST(SchemaRules, Errors) {
  auto err = [](const char* gbnf, std::vector<SchemaRule> rules) {
    auto g = CompileGbnf(gbnf, rules);
    return g.ok() ? std::string("ok") : g.status().message();
  };
  EXPECT_EQ(err(R"(root ::= args)", {{"args", R"({"type": "object", "not": {}})", ""}}),
            "args: unsupported keyword 'not'");
  EXPECT_EQ(err(R"(root ::= args)", {{"args", R"({"type": "object", "properties": {"x": {"type": "integer",
            "multipleOf": 2}}})",
                                      "/properties/x"}}),
            "args/properties/x: unsupported keyword 'multipleOf'");
  EXPECT_EQ(err(R"(root ::= args)", {{"args", "{", ""}}), "args: the JSON schema is not valid JSON");
  EXPECT_EQ(err("root ::= args\nargs ::= \"x\"", {{"args", "{}", ""}}),
            "gbnf: rule 'args' is defined by the grammar and by a schema");
  EXPECT_EQ(err(R"(root ::= args)", {{"a b", "{}", ""}}),
            "gbnf: schema rule name 'a b' is not a rule name ([a-zA-Z0-9_-]+)");
  EXPECT_EQ(err(R"(root ::= args)", {{"args", "{}", "/nope"}}), "args: '/nope' does not resolve");
  EXPECT_EQ(err(R"(root ::= args)", {}), "gbnf: rule 'args' is used but not defined");
}

// Properties come out in the order the schema lists them (ordered_json), not sorted.
TEST(JsonSchemaOrder, PropertiesKeepTheSchemaOrder) {
  const auto schema = nlohmann::ordered_json::parse(
      R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
          "city": {"type": "string"}}, "required": ["name", "age", "city"]})");
  auto g = CompileJsonSchema(schema);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, R"({"name": "Ann", "age": 3, "city": "Oslo"})"));
  EXPECT_FALSE(Matches(*g, R"({"age": 3, "city": "Oslo", "name": "Ann"})"));  // sorted
  // Nested objects and $defs keep theirs too.
  const auto nested = nlohmann::ordered_json::parse(
      R"({"type": "object", "properties": {"b": {"$ref": "#/$defs/p"}}, "required": ["b"],
          "$defs": {"p": {"type": "object", "properties": {"y": {"type": "integer"}, "x": {"type": "integer"}},
                          "required": ["y", "x"]}}})");
  auto n = CompileJsonSchema(nested);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_TRUE(Matches(*n, R"({"b": {"y": 1, "x": 2}})"));
  EXPECT_FALSE(Matches(*n, R"({"b": {"x": 2, "y": 1}})"));
  // A nlohmann::json has sorted its keys already: that order is the one generated.
  auto sorted = CompileJsonSchema(nlohmann::json::parse(schema.dump()));
  ASSERT_TRUE(sorted.ok());
  EXPECT_TRUE(Matches(*sorted, R"({"age": 3, "city": "Oslo", "name": "Ann"})"));
}

// Special tokens are out of reach unless named: then they are their text.
TEST(Vocab, SpecialTokensByName) {
  const SharedTok* st = LoadShared("qwen3");
  if (st == nullptr) GTEST_SKIP() << "no shared tokenizer qwen3";
  const auto id = st->tok->PieceToId("<|im_start|>");
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(st->tok->IsSpecial(*id));
  EXPECT_EQ(st->vocab->bytes(*id), "");
  const auto named = TokenVocab::Build(*st->tok, {"<|im_start|>"});
  EXPECT_EQ(named->bytes(*id), "<|im_start|>");
  EXPECT_EQ(named->bytes(*st->tok->PieceToId("<|im_end|>")), "");
  auto g = CompileGbnf(R"(root ::= "<|im_start|>x")");
  ASSERT_TRUE(g.ok());
  Matcher m(*g, named, -1);
  EXPECT_TRUE(m.Accept(*id));
  Matcher plain(*g, st->vocab, -1);
  EXPECT_FALSE(plain.Accept(*id));
}

}  // namespace
}  // namespace ax::constrain::test
