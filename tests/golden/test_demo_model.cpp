// The shipped demo model (models/ax-demo-qwen3) against transformers' greedy
// continuations and first-step logits (reference.json, written by
// scripts/demo-model/train.py). Runs without ../shared: this is the model a fresh
// clone has.
#include <gtest/gtest.h>

#include "ax/engine.h"
#include "model_harness.h"
#include "sampling_routes.h"

namespace ax::testing {
namespace {

std::string DemoDir() { return std::string(AX_SOURCE_DIR) + "/models/ax-demo-qwen3"; }

TEST(DemoModel, DoctorAcceptsIt) {
  auto check = Model::Check(DemoDir());
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->config.architecture, "Qwen3ForCausalLM");
  EXPECT_EQ(check->dtype, "BF16");
}

TEST(DemoModel, GreedyContinuationsMatchTransformers) {
  const nlohmann::json ref = ReadJson(DemoDir() + "/reference.json");
  for (const char* policy : {"direct", "ngram"}) {
    EngineConfig cfg;
    cfg.model_dir = DemoDir();
    cfg.backend = "cpu";
    cfg.threads = 2;
    cfg.policy = policy;
    auto engine = Engine::Create(cfg);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    for (const auto& c : ref["cases"]) {
      GenerateRequest req;
      req.prompt_text = c["prompt"].get<std::string>();
      req.max_tokens = static_cast<int64_t>(c["greedy_ids"].size());
      req.ignore_eos = true;
      auto r = (*engine)->Generate(req);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->prompt_tokens, c["prompt_ids"].get<std::vector<int32_t>>()) << c["kind"];
      EXPECT_EQ(r->output_tokens, c["greedy_ids"].get<std::vector<int32_t>>()) << c["kind"] << " " << policy;
      EXPECT_EQ(r->text, c["greedy_text"].get<std::string>()) << c["kind"] << " " << policy;
    }
  }
}

TEST(DemoModel, FirstStepLogitsMatchTransformers) {
  const nlohmann::json ref = ReadJson(DemoDir() + "/reference.json");
  ModelHarness h(DemoDir());
  ASSERT_TRUE(h.status().ok()) << h.status().ToString();
  for (const auto& c : ref["cases"]) {
    const auto ids = c["prompt_ids"].get<std::vector<int32_t>>();
    std::vector<float> logits = h.Chunk(ids, 0, static_cast<int64_t>(ids.size()), false);
    ASSERT_TRUE(h.last_status().ok());
    // transformers computed in float32 from the bf16 weights; we do too.
    EXPECT_LT(RowRelativeError(logits.data(), c["first_step_logits"].get<std::vector<double>>()), 1e-4) << c["kind"];
  }
}

// Penalised requests under n-gram drafting: the backend applies every verify row's
// penalties with the drafts before it counted, so drafting steps read no logits, and
// the tokens equal both a run beside a neighbour that forces the host route and the
// direct policy (lossless), greedy and sampled.
TEST(DemoModel, PenalisedDraftRowsOnTheBackendEqualTheHost) {
  EngineConfig cfg;
  cfg.model_dir = DemoDir();
  cfg.backend = "cpu";
  cfg.threads = 2;
  for (double temperature : {0.0, 0.7}) {
    GenerateRequest req;
    req.prompt_text = "Copy this code exactly:\ndef add(a, b):\n    return a + b\n\ndef add(a, b):\n";
    req.max_tokens = 48;
    req.ignore_eos = true;
    req.sampling.temperature = temperature;
    req.sampling.top_k = temperature > 0 ? 20 : 0;
    req.sampling.repetition_penalty = 1.05;
    req.sampling.frequency_penalty = 0.1;
    req.sampling.seed = 3;
    const GenerateRequest wide = HostRouteNeighbour("Once upon a time", 64);
    const std::string label = "T " + std::to_string(temperature);
    cfg.policy = "ngram";
    const EngineStats alone = ExpectSameAloneAndBeside(cfg, req, wide, label);
    EXPECT_GT(alone.draft_tokens_proposed, 0) << label;
    EXPECT_EQ(alone.steps_reading_logits, 0) << label;
    cfg.policy = "direct";
    auto direct = Engine::Create(cfg);
    ASSERT_TRUE(direct.ok());
    auto d = (*direct)->Generate(req);
    cfg.policy = "ngram";
    auto ngram = Engine::Create(cfg);
    ASSERT_TRUE(ngram.ok());
    auto n = (*ngram)->Generate(req);
    ASSERT_TRUE(d.ok() && n.ok());
    EXPECT_EQ(n->output_tokens, d->output_tokens) << label;
  }
}

}  // namespace
}  // namespace ax::testing
