// The engine over hybrid models (GatedDelta layers with a recurrent state slot per
// sequence; tests/fixtures/models/tiny-qwen3*): the greedy continuation equals
// transformers', a request's tokens do not change beside others, under preemption
// (the slot is given back and the sequence recomputed from position 0, which clears
// it), with n-gram drafting (each drafted chunk keeps its rows' states; a rejection
// restores the accepted one: the same tokens as direct decoding) or with a repeated
// prompt (a prefix miss, never a hit); and at the model, a sequence's logits are the
// same bits alone and batched, and a restored checkpoint continues exactly like a
// sequence that never saw the rejected drafts.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core_harness.h"

namespace ax::testing {
namespace {

std::string Fixture(const std::string& name) { return std::string(AX_FIXTURES_DIR) + "/models/" + name; }

struct Ref {
  std::vector<int32_t> prompt, greedy;
};

Ref LoadRef(const std::string& dir) {
  std::ifstream in(dir + "/reference.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  return {j["prompt_ids"].get<std::vector<int32_t>>(), j["greedy_ids"].get<std::vector<int32_t>>()};
}

CoreRequest Greedy(std::vector<int32_t> prompt, int64_t max_tokens) {
  CoreRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  r.sampling.temperature = 0;  // greedy
  return r;
}

// Four prompts of different lengths cut from the fixture's (and one with a changed token).
std::vector<CoreRequest> Mixed(const Ref& ref, int64_t max_tokens) {
  std::vector<CoreRequest> out;
  out.push_back(Greedy(ref.prompt, max_tokens));
  out.push_back(Greedy({ref.prompt.begin(), ref.prompt.begin() + 7}, max_tokens));
  std::vector<int32_t> changed(ref.prompt.begin() + 10, ref.prompt.begin() + 60);
  changed[3] = 5;
  out.push_back(Greedy(changed, max_tokens));
  out.push_back(Greedy({ref.prompt.begin() + 50, ref.prompt.end()}, max_tokens));
  return out;
}

CoreOptions F32(DecodePolicy policy = DecodePolicy::kDirect) {
  CoreOptions o;
  o.precision = Precision::kF32;
  o.policy = policy;
  o.draft_guard = false;  // drafting decided by the drafts alone, not by wall-clock time
  return o;
}

// The fixture's first 12 ids four times: the n-gram table proposes their continuation.
std::vector<int32_t> Repetitive(const Ref& ref) {
  std::vector<int32_t> p;
  for (int r = 0; r < 4; ++r) p.insert(p.end(), ref.prompt.begin(), ref.prompt.begin() + 12);
  return p;
}

class HybridEngine : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return Fixture(GetParam()); }
  std::vector<Output> Alone(const std::vector<CoreRequest>& reqs, const CoreOptions& o) {
    std::vector<Output> outs;
    for (const CoreRequest& r : reqs) {
      CoreHarness h(dir(), o);
      outs.push_back(h.RunTogether({r})[0]);
    }
    return outs;
  }
};

// Through the engine (chunked prefill of 64 + 36, then decode): transformers' 24 ids.
TEST_P(HybridEngine, GreedyContinuationMatchesTransformers) {
  const Ref ref = LoadRef(dir());
  CoreHarness h(dir(), F32());
  const auto out = h.RunTogether({Greedy(ref.prompt, static_cast<int64_t>(ref.greedy.size()))});
  EXPECT_EQ(out[0].tokens, ref.greedy);
}

TEST_P(HybridEngine, BatchedEqualsAlone) {
  const Ref ref = LoadRef(dir());
  const auto alone = Alone(Mixed(ref, 20), F32());
  CoreHarness h(dir(), F32());
  const auto together = h.RunTogether(Mixed(ref, 20));
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_EQ(together[i].tokens, alone[i].tokens) << "request " << i;
  EXPECT_GT(h.core().Stats().tokens_per_step(), 1.5);  // they really shared steps
}

// Greedy n-gram = direct, alone and batched, on prompts whose repeats make the table
// propose drafts (most rejected by this random model: each rejection restores a state).
TEST_P(HybridEngine, GreedyNgramEqualsDirect) {
  const Ref ref = LoadRef(dir());
  std::vector<CoreRequest> reqs = Mixed(ref, 24);
  reqs.push_back(Greedy(Repetitive(ref), 24));
  const auto direct = Alone(reqs, F32());
  const auto ngram_alone = Alone(reqs, F32(DecodePolicy::kNgram));
  CoreHarness h(dir(), F32(DecodePolicy::kNgram));
  const auto together = h.RunTogether(reqs);
  int64_t proposed = 0;
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(ngram_alone[i].tokens, direct[i].tokens) << "request " << i;
    EXPECT_EQ(together[i].tokens, direct[i].tokens) << "request " << i;
    EXPECT_EQ(together[i].metrics.policy, "ngram");
    proposed += ngram_alone[i].metrics.draft_tokens_proposed + together[i].metrics.draft_tokens_proposed;
  }
  EXPECT_GT(proposed, 0);
}

// A KV pool too small for all four: sequences are preempted, give their state slot
// back, and recompute from position 0 in whatever slot they get next.
TEST_P(HybridEngine, PreemptionRecomputesTheStateAndKeepsTheTokens) {
  const Ref ref = LoadRef(dir());
  const auto alone = Alone(Mixed(ref, 20), F32());
  CoreOptions o = F32();
  o.num_blocks = 40;  // 160 tokens of KV for requests that need ~300 together
  o.ctx_size = 160;
  o.max_seqs = 3;  // and three state slots for four requests
  CoreHarness h(dir(), o);
  const auto together = h.RunTogether(Mixed(ref, 20));
  EXPECT_GT(h.core().Stats().preemptions, 0);
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_EQ(together[i].tokens, alone[i].tokens) << "request " << i;
  EXPECT_EQ(h.core().Stats().blocks_used, 0);
}

// The same prompt twice with prefix caching on: the state at the prefix's end is not
// kept, so the second request reports a miss and computes everything again.
TEST_P(HybridEngine, RepeatedPromptIsAPrefixMiss) {
  const Ref ref = LoadRef(dir());
  CoreHarness h(dir(), F32());
  const auto first = h.RunTogether({Greedy(ref.prompt, 8)});
  const auto second = h.RunTogether({Greedy(ref.prompt, 8)});
  EXPECT_EQ(second[0].tokens, first[0].tokens);
  EXPECT_EQ(second[0].metrics.prefix_hit_tokens, 0);
  EXPECT_EQ(h.core().Stats().prefix_hit_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(Hybrid, HybridEngine,
                         ::testing::Values("tiny-qwen3_5", "tiny-qwen3_5-moe", "tiny-qwen3-next"));

// At the model: sequence A's logits (a prompt chunk, then decode rows) are the same
// bits alone (state slot 0) and beside two other sequences (A in slot 2).
TEST(HybridModel, RowsAreBatchInvariant) {
  const std::string dir = Fixture("tiny-qwen3_5-moe");
  const Ref ref = LoadRef(dir);
  BackendOptions bo;
  bo.threads = 2;
  auto be = std::move(CreateBackend("cpu", bo).value());
  ModelLoadOptions mo;
  mo.max_batch_tokens = 128;
  auto model = std::move(Model::Load(dir, *be, mo).value());
  const int bs = 4;
  KvCache kv = model->AllocateKvCache(256, bs, 4).value();
  const int64_t vocab = model->config().vocab_size;
  std::vector<int32_t> a(ref.prompt.begin(), ref.prompt.begin() + 30), b(ref.prompt.begin() + 40, ref.prompt.end());
  auto table = [&](int first) {
    std::vector<int32_t> t;
    for (int i = 0; i < 32; ++i) t.push_back(first + i);
    return t;
  };
  // steps[i]: A's logits rows after step i (the prompt chunk, then 3 decode tokens).
  auto run = [&](bool batched) {
    std::vector<std::vector<float>> steps;
    std::vector<int32_t> seq = a;
    for (int step = 0; step < 4; ++step) {
      ForwardBatch fb;
      const int64_t begin = step == 0 ? 0 : static_cast<int64_t>(seq.size()) - 1;
      const int64_t n = static_cast<int64_t>(seq.size()) - begin;
      if (batched) {  // a prompt chunk of B first (slot 0), then A, then C decoding (slot 1)
        fb.AddSequence(b.data(), step == 0 ? 20 : 1, step == 0 ? 0 : 19 + step, table(64), bs, true, false, true);
        fb.state_slots.back() = 0;
      }
      fb.AddSequence(seq.data() + begin, n, static_cast<int32_t>(begin), table(0), bs, true, true, step == 0);
      fb.state_slots.back() = batched ? 2 : 0;
      if (batched) {
        fb.AddSequence(b.data() + 5, 1, step == 0 ? 0 : step, table(128), bs, true);
        fb.state_slots.back() = 1;
      }
      std::vector<float> logits(fb.logit_rows.size() * static_cast<size_t>(vocab));
      EXPECT_TRUE(model->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());
      const size_t first_row = batched ? 1 : 0;
      steps.emplace_back(logits.begin() + static_cast<ptrdiff_t>(first_row * vocab),
                         logits.begin() + static_cast<ptrdiff_t>((first_row + n) * vocab));
      const float* last = steps.back().data() + (n - 1) * vocab;
      seq.push_back(static_cast<int32_t>(std::max_element(last, last + vocab) - last));
    }
    return steps;
  };
  const auto alone = run(false), together = run(true);
  for (size_t i = 0; i < alone.size(); ++i) {
    ASSERT_EQ(alone[i].size(), together[i].size());
    EXPECT_EQ(std::memcmp(alone[i].data(), together[i].data(), alone[i].size() * sizeof(float)), 0) << "step " << i;
  }
}

// A drafted chunk [t, d1, d2, d3] that keeps its rows' states, restored to row j, then
// continued with the token the model would have given: the same logits as a sequence
// that only ever computed [t, d1..dj] (every j, the last one without a restore).
TEST(HybridModel, RestoredCheckpointContinuesLikeNoDraftsWereSeen) {
  const std::string dir = Fixture("tiny-qwen3-next");
  const Ref ref = LoadRef(dir);
  BackendOptions bo;
  bo.threads = 2;
  bo.precision = Precision::kF32;
  auto be = std::move(CreateBackend("cpu", bo).value());
  ModelLoadOptions mo;
  mo.max_batch_tokens = 64;
  auto model = std::move(Model::Load(dir, *be, mo).value());
  const int64_t vocab = model->config().vocab_size;
  std::vector<int32_t> table;
  for (int i = 0; i < 64; ++i) table.push_back(63 - i);
  const std::vector<int32_t> prompt(ref.prompt.begin(), ref.prompt.begin() + 20);
  const std::vector<int32_t> drafts = {17, 99, 5};
  // Prefill prompt[0, 19), then rows (starting at position 19) with logits; keep: states kept.
  const auto forward = [&](KvCache& kv, const std::vector<int32_t>& ids, int32_t pos, bool keep) {
    ForwardBatch fb;
    fb.AddSequence(ids.data(), static_cast<int64_t>(ids.size()), pos, table, 4, true, true, pos == 0);
    fb.state_slots.back() = 1;
    fb.keep_states.back() = keep;
    std::vector<float> logits(fb.logit_rows.size() * static_cast<size_t>(vocab));
    EXPECT_TRUE(model->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());
    return logits;
  };
  const std::vector<int32_t> head(prompt.begin(), prompt.end() - 1);
  for (int j = 0; j <= 3; ++j) {
    // With drafts: [last, d1, d2, d3] kept, restore row j, then the next token at 20 + j.
    KvCache kv = model->AllocateKvCache(64, 4, 2, 3).value();
    forward(kv, head, 0, false);
    std::vector<int32_t> chunk = {prompt.back()};
    chunk.insert(chunk.end(), drafts.begin(), drafts.end());
    forward(kv, chunk, 19, true);
    if (j < 3) {
      ASSERT_TRUE(model->RestoreState(kv, 1, j).ok());
    }
    const std::vector<float> got = forward(kv, {42}, 20 + j, false);
    // Without: [last, d1..dj] only, then the same token.
    KvCache plain = model->AllocateKvCache(64, 4, 2, 3).value();
    forward(plain, head, 0, false);
    forward(plain, std::vector<int32_t>(chunk.begin(), chunk.begin() + 1 + j), 19, false);
    const std::vector<float> want = forward(plain, {42}, 20 + j, false);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << "accepted " << j;
  }
  KvCache kv = model->AllocateKvCache(64, 4, 2, 3).value();
  EXPECT_FALSE(model->RestoreState(kv, 1, 3).ok());  // 3 checkpoints: rows 0..2
}

// Two chunks of different sequences may not share a state slot.
TEST(HybridModel, SharedStateSlotOfTwoSequencesIsRefused) {
  const std::string dir = Fixture("tiny-qwen3_5");
  BackendOptions bo;
  auto be = std::move(CreateBackend("cpu", bo).value());
  auto model = std::move(Model::Load(dir, *be).value());
  KvCache kv = model->AllocateKvCache(64, 4, 2).value();
  const std::vector<int32_t> ids = {3, 4, 5}, t0 = {0, 1}, t1 = {2, 3};
  ForwardBatch fb;
  fb.AddSequence(ids.data(), 3, 0, t0, 4, true, false, true);
  fb.AddSequence(ids.data(), 3, 0, t1, 4, true, false, true);
  fb.state_slots = {1, 1};
  std::vector<float> logits(2 * static_cast<size_t>(model->config().vocab_size));
  const Status st = model->Forward(fb, kv, ForwardOutput::Logits(logits.data()));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("state slot 1"), std::string::npos) << st.message();
  fb.state_slots = {1, 2};
  EXPECT_FALSE(model->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());  // only 2 slots
  fb.state_slots = {1, 0};
  EXPECT_TRUE(model->Forward(fb, kv, ForwardOutput::Logits(logits.data())).ok());
}

}  // namespace
}  // namespace ax::testing
