// Goldens made by Hugging Face tokenizers (scripts/tokenizer-goldens): every
// string must encode to exactly the golden ids, with and without special
// tokens, and decode to the golden text.
#include <chrono>

#include "test_util.h"

namespace ax::test {
namespace {

using nlohmann::json;

std::string Show(const std::string& s) { return json(s).dump(); }

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, EncodeDecodeMatchHuggingFace) {
  const Tokenizer* tok = LoadShared(GetParam());
  if (tok == nullptr) GTEST_SKIP() << "no shared tokenizer for " << GetParam();
  json g = LoadGolden(GetParam());
  if (std::getenv("AX_TOKENIZER_GOLDEN_DIR") == nullptr) {
    ASSERT_GE(g["cases"].size(), GetParam().rfind("synth_", 0) == 0 ? 100u : 220u);
  }
  int failures = 0;
  for (const json& c : g["cases"]) {
    std::string text = c["t"];
    auto ids = c["ids"].get<std::vector<int32_t>>();
    auto sp = c.contains("sp") ? c["sp"].get<std::vector<int32_t>>() : ids;
    std::string d = c.value("d", text);
    std::string dsp = c.value("dsp", d);
    std::string ds = c.value("ds", d);
    bool ok = true;
    auto got = tok->Encode(text, false);
    if (got != ids) {
      ok = false;
      ADD_FAILURE() << GetParam() << " Encode(" << Show(text) << ", false) = " << json(got).dump()
                    << ", HF: " << json(ids).dump();
    }
    auto got_sp = tok->Encode(text, true);
    if (got_sp != sp) {
      ok = false;
      ADD_FAILURE() << GetParam() << " Encode(" << Show(text) << ", true) = " << json(got_sp).dump()
                    << ", HF: " << json(sp).dump();
    }
    EXPECT_EQ(tok->Decode(ids, false), d) << GetParam() << " Decode(ids of " << Show(text) << ")";
    EXPECT_EQ(tok->Decode(sp, false), dsp) << GetParam() << " Decode(special ids of " << Show(text) << ")";
    EXPECT_EQ(tok->Decode(sp, true), ds) << GetParam() << " Decode(skip specials, " << Show(text) << ")";
    if (!ok && ++failures > 20) FAIL() << "too many failures";
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, GoldenTest, ::testing::Values("qwen3", "gemma3", "stories260K"));
INSTANTIATE_TEST_SUITE_P(Synthetic, GoldenTest,
                         ::testing::Values("synth_sp", "synth_bytelevel", "synth_splits1", "synth_splits2",
                                           "synth_wssplit"));

TEST(Stories260K, ReferencePromptIds) {
  const Tokenizer* tok = LoadShared("stories260K");
  if (tok == nullptr) GTEST_SKIP() << "no stories260K";
  json ref = json::parse(ReadText(TokenizerDir("stories260K") + "/reference.json"));
  ASSERT_FALSE(ref["cases"].empty());
  for (const json& c : ref["cases"]) {
    std::string prompt = c["prompt"];
    auto want = c["prompt_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok->Encode(prompt, true), want) << Show(prompt);
  }
  EXPECT_EQ(tok->Encode("Once upon a time", true), (std::vector<int32_t>{1, 403, 407, 261, 378}));
}

TEST(SpecialIds, FromConfigAndPostProcessor) {
  const Tokenizer* s = LoadShared("stories260K");
  const Tokenizer* q = LoadShared("qwen3");
  const Tokenizer* g = LoadShared("gemma3");
  if (s == nullptr || q == nullptr || g == nullptr) GTEST_SKIP() << "shared tokenizers missing";
  EXPECT_EQ(s->bos_id(), 1);
  EXPECT_EQ(s->eos_id(), 2);
  EXPECT_FALSE(q->bos_id().has_value());
  EXPECT_EQ(q->eos_id(), q->PieceToId("<|im_end|>"));
  EXPECT_EQ(g->bos_id(), 2);
  EXPECT_EQ(g->eos_id(), g->PieceToId("<end_of_turn>"));
  EXPECT_EQ(q->vocab_size(), 151669);
  EXPECT_EQ(g->vocab_size(), 262145);
  EXPECT_EQ(s->vocab_size(), 512);
  EXPECT_TRUE(q->IsSpecial(151644));
  EXPECT_FALSE(q->IsSpecial(151667));  // <think> is added but not special
  EXPECT_EQ(q->IdToPiece(151644), "<|im_start|>");
  EXPECT_EQ(s->IdToPiece(403), "\xE2\x96\x81Once");
  EXPECT_EQ(s->PieceToId("\xE2\x96\x81Once"), 403);
  EXPECT_FALSE(s->PieceToId("no such piece").has_value());
}

TEST(Gemma3, LoadsQuickly) {
  std::string dir = TokenizerDir("gemma3");
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no gemma3";
  auto t0 = std::chrono::steady_clock::now();
  auto r = Tokenizer::LoadFromDir(dir);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Reported, not asserted: tests do not judge wall-clock time.
  std::printf("gemma3 tokenizer load: %.3f s\n", s);
}

}  // namespace
}  // namespace ax::test
