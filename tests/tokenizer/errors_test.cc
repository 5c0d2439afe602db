// Loading errors name the file and the field; no exception escapes.
#include "test_util.h"
#include "tokenizer/utf8.h"

namespace ax::test {
namespace {

std::string MinimalJson(const std::string& model_type) {
  return R"({"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,
    "post_processor":null,"decoder":null,
    "model":{"type":")" + model_type + R"(","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}})";
}

TEST(Errors, MissingFile) {
  auto r = Tokenizer::LoadFromDir("/nonexistent/dir");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/tokenizer.json"), std::string::npos)
      << r.status().message();
}

TEST(Errors, BadJson) {
  auto r = Tokenizer::LoadFromJson("{\"model\": [1, 2", "tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tokenizer.json"), std::string::npos);
}

TEST(Errors, UnsupportedModelType) {
  auto r = Tokenizer::LoadFromJson(MinimalJson("WordPiece"), "tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(r.status().message(), "tokenizer.json: model.type 'WordPiece' is not supported (expected BPE)");
}

TEST(Errors, WrongFieldTypesNameTheField) {
  struct Case {
    std::string json, needle;
  };
  std::vector<Case> cases = {
      {R"({"model":{"type":"BPE","vocab":[],"merges":[]}})", "model.vocab"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a c"]}})", "model.merges[0]"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Bogus"}})",
       "normalizer.type 'Bogus'"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split",
          "pattern":{"Regex":"(unclosed"},"behavior":"Isolated"}})", "pre_tokenizer.pattern.Regex"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"decoder":{"type":"Sequence","decoders":[{"type":"CTC"}]}})",
       "decoder.decoders[0].type 'CTC'"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[],"continuing_subword_prefix":"##"}})",
       "model.continuing_subword_prefix"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":"x","content":"a"}]})",
       "added_tokens[0].id"},
  };
  for (const Case& c : cases) {
    auto r = Tokenizer::LoadFromJson(c.json, "tokenizer.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find("tokenizer.json: " + c.needle), std::string::npos)
        << r.status().message();
  }
}

TEST(Errors, BadConfigNamesTheFile) {
  std::string dir = ::testing::TempDir() + "/ax_tok_cfg";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << MinimalJson("BPE");
  std::ofstream(dir + "/tokenizer_config.json") << R"({"bos_token": "<nope>"})";
  auto r = Tokenizer::LoadFromDir(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bos_token '<nope>'"), std::string::npos) << r.status().message();
  std::ofstream(dir + "/tokenizer_config.json") << "{not json";
  r = Tokenizer::LoadFromDir(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tokenizer_config.json"), std::string::npos) << r.status().message();
}

TEST(Minimal, MergesAndNoDecoder) {
  auto r = Tokenizer::LoadFromJson(MinimalJson("BPE"), "tokenizer.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tokenizer& t = **r;
  EXPECT_EQ(t.Encode("abab", false), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(t.Encode("aba", true), (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(t.Decode({2, 0}, false), "ab a");  // HF joins with spaces without a decoder
  // Invalid UTF-8 input is read lossily instead of crashing.
  // "a\xFFb" reads as "a\uFFFDb"; U+FFFD is not in the vocab and there is no unk
  // token, so it is dropped (as in HF) and "a" "b" merge.
  EXPECT_EQ(t.Encode(std::string("a\xFF" "b"), false), (std::vector<int32_t>{2}));
}

TEST(Utf8, LossyMatchesRust) {
  EXPECT_EQ(tok::Utf8Lossy("a\xF0\x9F\x98"), "a\xEF\xBF\xBD");          // one U+FFFD for a cut sequence
  EXPECT_EQ(tok::Utf8Lossy("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");   // one per bad byte
  EXPECT_EQ(tok::Utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_TRUE(tok::IsValidUtf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(tok::IsValidUtf8("\xC0\x80"));
}

}  // namespace
}  // namespace ax::test

namespace ax::test {
namespace {

// tokenizer_config.json: bos/eos ids, and add_bos_token/add_eos_token rebuilding
// a TemplateProcessing the way transformers' Llama/Gemma fast tokenizers do.
TEST(Config, BosEosAndAddFlags) {
  std::string dir = ::testing::TempDir() + "/ax_tok_cfg2";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << R"({
    "added_tokens":[{"id":3,"content":"<s>","special":true},{"id":4,"content":"</s>","special":true}],
    "post_processor":{"type":"TemplateProcessing","single":"<s> $A",
                      "special_tokens":{"<s>":{"id":"<s>","ids":[3],"tokens":["<s>"]}}},
    "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}})";
  {
    std::ofstream(dir + "/tokenizer_config.json") << R"({"bos_token":{"content":"<s>"},"eos_token":"</s>"})";
    auto r = Tokenizer::LoadFromDir(dir);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->bos_id(), 3);
    EXPECT_EQ((*r)->eos_id(), 4);
    EXPECT_EQ((*r)->Encode("ab", true), (std::vector<int32_t>{3, 2}));  // template kept
  }
  {
    std::ofstream(dir + "/tokenizer_config.json")
        << R"({"bos_token":"<s>","eos_token":"</s>","add_bos_token":false,"add_eos_token":true})";
    auto r = Tokenizer::LoadFromDir(dir);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->Encode("ab", true), (std::vector<int32_t>{2, 4}));
    EXPECT_EQ((*r)->Encode("ab", false), (std::vector<int32_t>{2}));
    EXPECT_EQ((*r)->Decode({2, 4}, true), "ab");
  }
  {
    // Without a config, bos comes from the template and there is no eos.
    std::filesystem::remove(dir + "/tokenizer_config.json");
    auto r = Tokenizer::LoadFromDir(dir);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->bos_id(), 3);
    EXPECT_FALSE((*r)->eos_id().has_value());
  }
}

}  // namespace
}  // namespace ax::test
