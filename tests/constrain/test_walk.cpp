// Random walks on the Qwen3 vocabulary: repeatedly accept a random allowed token.
// The output must stay a prefix of a match and, once complete, parse as JSON and
// validate against the schema.
#include <random>

#include <nlohmann/json.hpp>

#include "constrain/schema_validator.h"
#include "constrain/test_util.h"

namespace ax::constrain::test {
namespace {

using Json = nlohmann::json;

const char* const kSchemas[] = {
    R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer",
        "minimum": 0, "maximum": 150}, "tags": {"type": "array", "items": {"enum": ["a", "b c", "dé"]}, "maxItems": 3}},
        "required": ["name", "age"]})",
    R"({"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}, "id": {"type": "string",
        "format": "uuid"}, "score": {"type": "number", "minimum": -1, "maximum": 1}, "ok": {"type": "boolean"}},
        "required": ["when", "id", "score", "ok"]})",
    R"({"$defs": {"t": {"type": "object", "properties": {"v": {"type": "integer"}, "kids": {"type": "array",
        "items": {"$ref": "#/$defs/t"}, "maxItems": 2}}, "required": ["v"]}}, "$ref": "#/$defs/t"})",
    R"({"type": "array", "prefixItems": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": ["integer", "null"]}],
        "items": false, "minItems": 2})",
};

TEST(RandomWalk, OutputsParseAndValidate) {
  const SharedTok* st = LoadShared("qwen3");
  if (st == nullptr) {
    GTEST_SKIP() << "no shared tokenizer qwen3";
  }
  std::mt19937 rng(1234);
  int completed = 0;
  for (const char* text : kSchemas) {
    Json schema = Json::parse(text);
    auto g = CompileJsonSchema(schema);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    for (int walk = 0; walk < 6; ++walk) {
      Matcher m(g.value(), st->vocab, st->eos);
      TokenBitset mask(st->vocab->size());
      std::string out;
      for (int step = 0; step < 400; ++step) {
        m.FillMask(&mask);
        std::vector<int32_t> allowed;
        for (int32_t t = 0; t < mask.size(); ++t) {
          if (mask.Test(t)) allowed.push_back(t);
        }
        ASSERT_FALSE(allowed.empty()) << "dead end after " << out;
        // Prefer eos once possible half of the time, so walks finish.
        int32_t t = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
        if (m.IsComplete() && st->eos >= 0 && rng() % 2 == 0) t = st->eos;
        if (t == st->eos) break;
        ASSERT_TRUE(m.Accept(t));
        out += st->vocab->bytes(t);
      }
      if (!m.IsComplete()) continue;  // ran out of steps inside a long string
      ++completed;
      Json v = Json::parse(out, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(v.is_discarded()) << out;
      std::string err = Validate(v, schema, schema);
      EXPECT_TRUE(err.empty()) << err << "\n" << out;
    }
  }
  EXPECT_GE(completed, 8);
}

}  // namespace
}  // namespace ax::constrain::test
