// Tokenizer::TokenBytes: the raw bytes of each token concatenate to the decoded
// text (mid-text), including tokens that hold part of a UTF-8 character.
#include "tokenizer/test_util.h"

namespace ax::test {
namespace {

class TokenBytesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenBytesTest, ConcatenateToDecodedText) {
  const Tokenizer* tok = LoadShared(GetParam());
  if (tok == nullptr) {
    GTEST_SKIP() << "no shared tokenizer " << GetParam();
  }
  const std::string text = "x Hello, wörld! 日本語 🎉 {\"a\": [1, 2.5]}\n\ttab";
  std::vector<int32_t> ids = tok->Encode(text, /*add_special_tokens=*/false);
  std::string bytes;
  for (int32_t id : ids) bytes += tok->TokenBytes(id);
  std::string decoded = tok->Decode(ids, /*skip_special_tokens=*/false);
  // SentencePiece encodes a leading space that the decoder strips at text start.
  if (bytes.size() == decoded.size() + 1 && bytes[0] == ' ') bytes.erase(0, 1);
  EXPECT_EQ(bytes, decoded);
  for (int32_t id = 0; id < tok->vocab_size(); ++id) {
    if (tok->IsSpecial(id)) {
      ASSERT_TRUE(tok->TokenBytes(id).empty()) << id;
    }
  }
}

TEST(TokenBytes, ByteTokensKeepPartialUtf8) {
  const Tokenizer* qwen = LoadShared("qwen3");
  if (qwen != nullptr) {
    auto id = qwen->PieceToId("\xC3\xA6");  // byte-level char for byte 0xE6
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(qwen->TokenBytes(*id), "\xE6");
  }
  const Tokenizer* gemma = LoadShared("gemma3");
  if (gemma != nullptr) {
    auto id = gemma->PieceToId("<0xE6>");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(gemma->TokenBytes(*id), "\xE6");
    auto sp = gemma->PieceToId("\xE2\x96\x81the");  // "▁the"
    ASSERT_TRUE(sp.has_value());
    EXPECT_EQ(gemma->TokenBytes(*sp), " the");
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, TokenBytesTest, ::testing::Values("stories260K", "qwen3", "gemma3"));

}  // namespace
}  // namespace ax::test
