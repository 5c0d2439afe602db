// A windowed layer's KV group gives back its blocks behind the window
// (docs/kv-layout.md). On the tiny Gemma 3 fixture (window 6 on 3 of 4 layers, made by
// transformers), block size 4: the windowed layers in their own group of 12 blocks,
// reused as a ring, with every entry behind the window released (-1), against one
// table for every layer (every block kept). Prompt in chunks of 1, 5 and 13 (and whole),
// then decode rows far past the window: the same logits, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/model.h"

namespace ax {
namespace {

constexpr int kBs = 4, kWindowBlocks = 12, kWindow = 6;  // 12 blocks: the whole 40-token prompt

class WindowGroups : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(PromptChunks, WindowGroups, ::testing::Values(1, 5, 13, 40));

TEST_P(WindowGroups, GiveTheLogitsOfOneTable) {
  const std::string dir = std::string(AX_SOURCE_DIR) + "/tests/fixtures/models/tiny-gemma3";
  BackendOptions opts;
  opts.threads = 2;
  auto be_one = CreateBackend("cpu", opts), be_two = CreateBackend("cpu", opts);
  ASSERT_TRUE(be_one.ok() && be_two.ok());
  auto one = Model::Load(dir, **be_one), two = Model::Load(dir, **be_two);
  ASSERT_TRUE(one.ok() && two.ok()) << one.status().ToString();
  ASSERT_EQ((*two)->KvGroupWindows(true), (std::vector<int>{0, kWindow}));
  KvCache kv_one = (*one)->AllocateKvCache(64, kBs).value();
  KvCache kv_two = (*two)->AllocateKvCache({KvGroup{0, 64}, KvGroup{kWindow, kWindowBlocks}}, kBs).value();
  const int64_t vocab = (*one)->config().vocab_size;
  std::vector<int32_t> seq(120);
  for (size_t i = 0; i < seq.size(); ++i) seq[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(vocab));
  constexpr int64_t kPrompt = 40;
  std::vector<int32_t> full, window;
  int64_t released = 0;
  const auto step = [&](int64_t begin, int64_t end) {
    while (static_cast<int64_t>(full.size()) * kBs < end) {
      window.push_back(static_cast<int32_t>(full.size() % kWindowBlocks));
      full.push_back(static_cast<int32_t>(full.size()));
    }
    // Released: every block whose positions are all before the first key `begin` sees.
    for (; released < std::max<int64_t>(0, begin - kWindow + 1) / kBs; ++released)
      window[static_cast<size_t>(released)] = -1;
    ASSERT_LE(std::count_if(window.begin(), window.end(), [](int32_t b) { return b >= 0; }), kWindowBlocks);
    ForwardBatch a, b;
    const bool prompt = begin < kPrompt;
    a.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), full, kBs, true, true, prompt);
    const std::vector<int32_t> tables[] = {full, window};
    b.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), tables, kBs, true, true, prompt);
    std::vector<float> la(a.logit_rows.size() * static_cast<size_t>(vocab)), lb(la.size());
    const Status sa = (*one)->Forward(a, kv_one, ForwardOutput::Logits(la.data()));
    const Status sb = (*two)->Forward(b, kv_two, ForwardOutput::Logits(lb.data()));
    ASSERT_TRUE(sa.ok() && sb.ok()) << sa.ToString() << " " << sb.ToString();
    EXPECT_EQ(la, lb) << "positions " << begin << ".." << end - 1;
  };
  const int64_t chunk = GetParam();
  for (int64_t t = 0; t < kPrompt; t += chunk) step(t, std::min(kPrompt, t + chunk));
  for (int64_t t = kPrompt; t < static_cast<int64_t>(seq.size()); ++t) step(t, t + 1);
  EXPECT_GT(released, 20);
}

// A table whose entries inside a row's window were released is refused, naming the
// block: Validate never lets a forward read a released block.
TEST(WindowGroups, ValidateRefusesAReleasedBlockInsideTheWindow) {
  const std::string dir = std::string(AX_SOURCE_DIR) + "/tests/fixtures/models/tiny-gemma3";
  auto be = CreateBackend("cpu", BackendOptions{});
  ASSERT_TRUE(be.ok());
  auto model = Model::Load(dir, **be);
  ASSERT_TRUE(model.ok());
  KvCache kv = (*model)->AllocateKvCache({KvGroup{0, 16}, KvGroup{kWindow, 8}}, kBs).value();
  const std::vector<int32_t> ids = {5};
  const std::vector<int32_t> full = {0, 1, 2, 3};
  const auto forward = [&](const std::vector<int32_t>& window) {
    ForwardBatch b;
    const std::vector<int32_t> tables[] = {full, window};
    b.AddSequence(ids.data(), 1, 13, tables, kBs, true);  // position 13 sees keys 8..13: blocks 2, 3
    std::vector<float> logits(static_cast<size_t>((*model)->config().vocab_size));
    return (*model)->Forward(b, kv, ForwardOutput::Logits(logits.data()));
  };
  EXPECT_TRUE(forward({-1, -1, 2, 3}).ok());
  const Status s = forward({-1, -1, -1, 3});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("block 2 of group 1 is invalid"), std::string::npos) << s.message();
  // One table for a cache of two groups.
  ForwardBatch one;
  one.AddSequence(ids.data(), 1, 13, full, kBs, true);
  std::vector<float> logits(static_cast<size_t>((*model)->config().vocab_size));
  const Status groups = (*model)->Forward(one, kv, ForwardOutput::Logits(logits.data()));
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.message().find("the KV cache has 2 groups"), std::string::npos) << groups.message();
}

}  // namespace
}  // namespace ax
