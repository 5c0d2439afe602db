// Constrained decoding end to end on the shipped demo model (CPU backend): seeded
// requests at temperature 1 under a JSON schema, a regex, a choice and any JSON object
// must all produce output that matches, and end by themselves (finish "stop"); a bad
// schema is refused at submission naming the schema path. The model knows nothing of
// the schemas: every token that keeps the output valid comes from the masks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>

#include "ax/engine.h"

namespace ax::testing {
namespace {

std::string DemoDir() { return std::string(AX_SOURCE_DIR) + "/models/ax-demo-qwen3"; }

std::unique_ptr<Engine> DemoEngine(const char* policy = "ngram") {
  EngineConfig cfg;
  cfg.model_dir = DemoDir();
  cfg.backend = "cpu";
  cfg.threads = 2;
  cfg.policy = policy;
  auto engine = Engine::Create(cfg);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

GenerateRequest Sampled(OutputConstraint c, uint64_t seed) {
  GenerateRequest req;
  req.prompt_text = "def read_lines(path):\n";
  req.max_tokens = 200;
  req.sampling.temperature = 1.0;
  req.sampling.seed = seed;
  req.constraint = std::move(c);
  return req;
}

TEST(Constrained, JsonSchemaOutputsParseAndValidate) {
  auto engine = DemoEngine();
  ASSERT_NE(engine, nullptr);
  OutputConstraint c;
  c.kind = OutputConstraint::Kind::kJsonSchema;
  c.text = R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
               "age": {"type": "integer", "minimum": 0, "maximum": 120},
               "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3}},
               "required": ["name", "age", "tags"], "additionalProperties": false})";
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto r = engine->Generate(Sampled(c, seed));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->finish_reason, FinishReason::kStop) << r->text;
    const auto j = nlohmann::json::parse(r->text, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << r->text;
    EXPECT_EQ(j.size(), 3u) << r->text;
    ASSERT_TRUE(j.contains("name") && j["name"].is_string()) << r->text;
    const std::string name = j["name"].get<std::string>();
    EXPECT_LE(std::count_if(name.begin(), name.end(), [](char ch) { return (ch & 0xC0) != 0x80; }), 12) << r->text;
    ASSERT_TRUE(j.contains("age") && j["age"].is_number_integer()) << r->text;
    EXPECT_GE(j["age"].get<int64_t>(), 0);
    EXPECT_LE(j["age"].get<int64_t>(), 120);
    ASSERT_TRUE(j.contains("tags") && j["tags"].is_array()) << r->text;
    EXPECT_LE(j["tags"].size(), 3u);
    for (const auto& t : j["tags"]) EXPECT_TRUE(t == "a" || t == "b" || t == "c") << r->text;
  }
}

TEST(Constrained, RegexChoiceAndJsonObject) {
  auto engine = DemoEngine();
  ASSERT_NE(engine, nullptr);
  OutputConstraint regex;
  regex.kind = OutputConstraint::Kind::kRegex;
  regex.text = "[a-z]{3,8}-[0-9]{2}";
  OutputConstraint choice;
  choice.kind = OutputConstraint::Kind::kChoice;
  choice.choices = {"yes", "no", "maybe later"};
  OutputConstraint object;
  object.kind = OutputConstraint::Kind::kJsonObject;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto r = engine->Generate(Sampled(regex, seed));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(std::regex_match(r->text, std::regex("[a-z]{3,8}-[0-9]{2}"))) << r->text;
    EXPECT_EQ(r->finish_reason, FinishReason::kStop);
    r = engine->Generate(Sampled(choice, seed));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->text == "yes" || r->text == "no" || r->text == "maybe later") << r->text;
    r = engine->Generate(Sampled(object, seed));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->finish_reason == FinishReason::kStop) {
      EXPECT_TRUE(nlohmann::json::parse(r->text, nullptr, false).is_object()) << r->text;
    } else {  // ran out of max_tokens inside the object: a prefix of one
      EXPECT_EQ(r->finish_reason, FinishReason::kLength);
      EXPECT_EQ(r->text.front(), '{') << r->text;
    }
  }
}

// N-gram drafts are cut at the first token the grammar refuses, and verification
// samples each row under the grammar state after the drafts before it: drafting stays
// lossless. The prompt repeats a JSON line, so the table proposes its continuation.
TEST(Constrained, NgramDraftsAreLossless) {
  auto direct = DemoEngine("direct"), ngram = DemoEngine("ngram");
  ASSERT_NE(direct, nullptr);
  ASSERT_NE(ngram, nullptr);
  OutputConstraint c;
  c.kind = OutputConstraint::Kind::kJsonSchema;
  c.text = R"({"type": "object", "properties": {"id": {"type": "integer"}, "path": {"type": "string"}},
               "required": ["id", "path"], "additionalProperties": false})";
  int64_t proposed = 0, accepted = 0;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    GenerateRequest req = Sampled(c, seed + 1);
    req.prompt_text = "{\"id\": 1, \"path\": \"/usr/share/doc\"}\n{\"id\": 2, \"path\": \"/usr/share/doc\"}\n";
    req.sampling.temperature = seed == 0 ? 0.0 : 0.8;  // greedy, then seeded sampling
    auto a = direct->Generate(req), b = ngram->Generate(req);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->output_tokens, b->output_tokens) << "seed " << seed << ": " << a->text << " vs " << b->text;
    EXPECT_EQ(a->finish_reason, b->finish_reason);
    proposed += b->metrics.draft_tokens_proposed;
    accepted += b->metrics.draft_tokens_accepted;
  }
  EXPECT_GT(proposed, 0) << "no drafts: the test checks nothing";
  std::printf("n-gram under a grammar: %lld drafts proposed, %lld accepted\n", static_cast<long long>(proposed),
              static_cast<long long>(accepted));
}

TEST(Constrained, BadConstraintsAreRefusedAtSubmission) {
  auto engine = DemoEngine();
  ASSERT_NE(engine, nullptr);
  OutputConstraint c;
  c.kind = OutputConstraint::Kind::kJsonSchema;
  c.text = R"({"type": "object", "properties": {"x": {"type": "string", "if": {}}}})";
  auto r = engine->Submit(Sampled(c, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("constraint: "), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("properties/x"), std::string::npos) << r.status().message();
  c.text = "{not json";
  r = engine->Submit(Sampled(c, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos) << r.status().message();
  c.kind = OutputConstraint::Kind::kRegex;
  c.text = "(unclosed";
  EXPECT_FALSE(engine->Submit(Sampled(c, 1)).ok());
}

}  // namespace
}  // namespace ax::testing
