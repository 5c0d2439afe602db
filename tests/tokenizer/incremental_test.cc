// IncrementalDecoder: streaming every golden id sequence one id at a time must
// give deltas that are valid UTF-8 and concatenate to Decode(all ids).
#include "test_util.h"
#include "tokenizer/utf8.h"

namespace ax::test {
namespace {

using nlohmann::json;

// Streams ids; checks each delta and returns the concatenation.
std::string Stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip, int* bad_deltas) {
  IncrementalDecoder dec(tok, skip);
  std::string all;
  for (int32_t id : ids) {
    std::string d = dec.Push(id);
    if (!tok::IsValidUtf8(d)) ++*bad_deltas;
    all += d;
  }
  std::string tail = dec.Flush();
  if (!tok::IsValidUtf8(tail)) ++*bad_deltas;
  return all + tail;
}

class IncrementalTest : public ::testing::TestWithParam<std::string> {};

TEST_P(IncrementalTest, DeltasConcatenateToDecode) {
  const Tokenizer* tok = LoadShared(GetParam());
  if (tok == nullptr) GTEST_SKIP() << "no shared tokenizer for " << GetParam();
  json g = LoadGolden(GetParam());
  std::vector<int32_t> everything;
  for (const json& c : g["cases"]) {
    auto ids = c["ids"].get<std::vector<int32_t>>();
    auto sp = c.contains("sp") ? c["sp"].get<std::vector<int32_t>>() : ids;
    for (const auto* seq : {&ids, &sp}) {
      for (bool skip : {false, true}) {
        int bad = 0;
        EXPECT_EQ(Stream(*tok, *seq, skip, &bad), tok->Decode(*seq, skip))
            << GetParam() << " text " << json(c["t"]).dump() << " skip=" << skip;
        EXPECT_EQ(bad, 0) << GetParam() << " text " << json(c["t"]).dump();
      }
    }
    everything.insert(everything.end(), sp.begin(), sp.end());
  }
  // One long stream of all goldens back to back.
  for (bool skip : {false, true}) {
    int bad = 0;
    EXPECT_EQ(Stream(*tok, everything, skip, &bad), tok->Decode(everything, skip)) << "skip=" << skip;
    EXPECT_EQ(bad, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, IncrementalTest, ::testing::Values("qwen3", "gemma3", "stories260K"));
INSTANTIATE_TEST_SUITE_P(Synthetic, IncrementalTest,
                         ::testing::Values("synth_sp", "synth_bytelevel", "synth_splits1", "synth_splits2",
                                           "synth_wssplit"));

// Byte-fallback runs are decoded as a whole by HF: a run whose last byte is bad
// turns every byte of it into U+FFFD, so nothing may be emitted mid-run.
TEST(IncrementalTest, ByteFallbackRunDecidedAtItsEnd) {
  const Tokenizer* tok = LoadShared("stories260K");
  if (tok == nullptr) GTEST_SKIP() << "no stories260K";
  auto byte = [&](int b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    return *tok->PieceToId(name);
  };
  int32_t a = *tok->PieceToId("\xE2\x96\x81" "a");
  std::vector<std::vector<int32_t>> cases = {
      {a, byte(0xE4), byte(0xB8), byte(0xAD), a},              // valid 中
      {a, byte(0xE4), byte(0xB8), byte(0xAD), byte(0xFF), a},  // valid then invalid byte
      {byte(0xE4), byte(0xB8)},                                // cut off at the end
      {1, byte(0xF0), byte(0x9F), byte(0x98), byte(0x80), 2},  // <s> 😀 </s>
  };
  for (const auto& ids : cases) {
    for (bool skip : {false, true}) {
      int bad = 0;
      EXPECT_EQ(Stream(*tok, ids, skip, &bad), tok->Decode(ids, skip));
      EXPECT_EQ(bad, 0);
    }
  }
}

// ByteLevel splits a character over several tokens: the decoder holds the
// partial bytes back instead of emitting U+FFFD.
TEST(IncrementalTest, HoldsBackPartialUtf8) {
  const Tokenizer* tok = LoadShared("qwen3");
  if (tok == nullptr) GTEST_SKIP() << "no qwen3";
  std::vector<int32_t> ids = tok->Encode("🤖🚀 ok", false);
  IncrementalDecoder dec(*tok, false);
  std::string all;
  for (int32_t id : ids) {
    std::string d = dec.Push(id);
    EXPECT_EQ(d.find(tok::kReplacementChar), std::string::npos);
    all += d;
  }
  all += dec.Flush();
  EXPECT_EQ(all, "🤖🚀 ok");
}

}  // namespace
}  // namespace ax::test
