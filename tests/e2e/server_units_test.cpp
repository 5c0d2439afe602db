// Unit tests of the server library without HTTP: field validation, error shapes,
// request parsing against a real (tiny) engine, metrics text, options.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api_request.h"
#include "ax/tools.h"
#include "common_fields.h"
#include "context.h"
#include "errors.h"
#include "json_fields.h"
#include "metrics.h"
#include "options.h"
#include "reasoning.h"
#include "sse.h"

namespace ax::server {
namespace {

using nlohmann::json;

TEST(FieldReader, TypesRangesAndFirstErrorSticks) {
  json j = {{"a", 1.5}, {"b", "x"}, {"c", 3}, {"d", nullptr}, {"e", 2.0}};
  FieldReader r(j, "outer.");
  double a = 0;
  r.Double("a", &a, 0, 2);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(a, 1.5);
  int64_t d = 7;
  r.Int("d", &d, 0, 10);  // null: default kept
  EXPECT_EQ(d, 7);
  int64_t e = 0;
  r.Int("e", &e, 0, 10);  // integral float accepted
  EXPECT_EQ(e, 2);
  double b = 0;
  r.Double("b", &b, 0, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "outer.b");
  EXPECT_NE(r.error().message.find("expected a number"), std::string::npos);
  int64_t c = 0;
  r.Int("c", &c, 0, 1);  // a later failure does not replace the first
  EXPECT_EQ(r.error().param, "outer.b");
}

TEST(FieldReader, OpenBoundsListsAndEnums) {
  json j = {{"p", 0.0}, {"s", {"a", 1}}, {"ids", {1, -2}}, {"k", "z"}};
  {
    FieldReader r(j);
    double p = 1;
    r.Double("p", &p, 0, 1, /*lo_open=*/true);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("(0, 1]"), std::string::npos);
  }
  {
    FieldReader r(j);
    std::vector<std::string> s;
    r.StringOrList("s", &s, 4);
    EXPECT_EQ(r.error().param, "s[1]");
  }
  {
    FieldReader r(j);
    std::vector<int32_t> ids;
    r.IntList("ids", &ids, 4);
    EXPECT_EQ(r.error().param, "ids[1]");
  }
  {
    FieldReader r(j);
    std::string k;
    r.Enum("k", &k, {"x", "y"});
    EXPECT_NE(r.error().message.find("'x', 'y'"), std::string::npos);
  }
}

TEST(Errors, OpenAiShape) {
  const json e = json::parse(ErrorJson(InvalidField("top_p", "bad")));
  ASSERT_TRUE(e.contains("error"));
  EXPECT_EQ(e["error"]["param"], "top_p");
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e["error"]["code"], "invalid_value");
  const json u = json::parse(ErrorJson(Unauthorized()));
  EXPECT_TRUE(u["error"]["param"].is_null());
  EXPECT_EQ(Overloaded(3).http_status, 503);
  EXPECT_EQ(Overloaded(3).retry_after_s, 3);
  EXPECT_EQ(FromStatus(InvalidArgument("x"), "prompt").http_status, 400);
  EXPECT_EQ(FromStatus(ResourceExhausted("x"), "prompt").http_status, 400);
  EXPECT_EQ(FromStatus(Internal("x"), "prompt").http_status, 500);
}

TEST(Metrics, HistogramIsCumulative) {
  Histogram h({0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string out;
  h.Render(&out, "x", "help");
  EXPECT_NE(out.find("x_bucket{le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_count 3\n"), std::string::npos);
}

TEST(Metrics, RendersEngineStatsAndCounters) {
  ServerMetrics m;
  m.CountResponse("/v1/completions", 200);
  m.CountFinish(FinishReason::kCancelled);
  EngineStats s;
  s.blocks_used = 3;
  const std::string out = m.Render(s, ServerGauges{});
  EXPECT_NE(out.find("ax_http_requests_total{route=\"/v1/completions\",code=\"200\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("ax_requests_finished_total{reason=\"cancelled\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("ax_kv_blocks_used 3\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE ax_time_to_first_token_seconds histogram"), std::string::npos);
}

TEST(Options, DefaultsAndErrors) {
  bool help = false;
  const char* ok[] = {"srv", "--model", "m", "--port", "0", "--max-queue=3", "--policy", "direct"};
  auto o = ParseServerArgs(8, const_cast<char**>(ok), &help);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->port, 0);
  EXPECT_EQ(o->max_queue, 3);
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->http_threads, o->engine.max_seqs + 3 + 64);
  const char* bad[] = {"srv", "--model", "m", "--port", "99999"};
  EXPECT_FALSE(ParseServerArgs(5, const_cast<char**>(bad), &help).ok());
  const char* none[] = {"srv"};
  EXPECT_FALSE(ParseServerArgs(1, const_cast<char**>(none), &help).ok());
  const char* f32[] = {"srv", "--model", "m", "--precision", "f32"};
  auto p = ParseServerArgs(5, const_cast<char**>(f32), &help);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->engine.precision, "f32");
  const char* half[] = {"srv", "--model", "m", "--precision", "fp16"};
  auto h = ParseServerArgs(5, const_cast<char**>(half), &help);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("--precision: expected auto, bf16 or f32, got 'fp16'"), std::string::npos);
}

TEST(Routes, LabelsAndSse) {
  EXPECT_EQ(RouteLabel("/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(RouteLabel("/v1/models/abc"), "/v1/models/{model}");
  EXPECT_EQ(RouteLabel("/etc/passwd"), "other");
  EXPECT_EQ(SseEvent(json{{"a", 1}}), "data: {\"a\":1}\n\n");
}

TEST(MaxTokens, FitsTheContext) {
  ParseLimits lim;
  lim.ctx_size = 100;
  int64_t out = 0;
  ApiError err;
  EXPECT_TRUE(ResolveMaxTokens(std::nullopt, "max_tokens", 16, 10, lim, "prompt", &out, &err));
  EXPECT_EQ(out, 16);
  EXPECT_TRUE(ResolveMaxTokens(std::nullopt, "max_tokens", 1000, 10, lim, "prompt", &out, &err));
  EXPECT_EQ(out, 90);
  EXPECT_FALSE(ResolveMaxTokens(91, "max_completion_tokens", 16, 10, lim, "prompt", &out, &err));
  EXPECT_EQ(err.param, "max_completion_tokens");
  EXPECT_EQ(err.code, "context_length_exceeded");
  EXPECT_FALSE(ResolveMaxTokens(std::nullopt, "max_tokens", 16, 100, lim, "messages", &out, &err));
  EXPECT_EQ(err.param, "messages");
}

class ParseWithEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = std::string(AX_SHARED_DIR) + "/models/stories260K";
    if (!std::filesystem::exists(dir + "/config.json")) return;
    EngineConfig cfg;
    cfg.model_dir = dir;
    cfg.threads = 1;
    auto e = Engine::Create(cfg);
    if (e.ok()) engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override {
    if (!engine_) GTEST_SKIP() << "stories260K not found under AX_SHARED_DIR";
    lim_.ctx_size = engine_->ctx_size();
  }
  static Engine* engine_;
  ParseLimits lim_;
};
Engine* ParseWithEngine::engine_ = nullptr;

TEST_F(ParseWithEngine, CompletionPromptForms) {
  ApiRequest r;
  ApiError err;
  ASSERT_TRUE(ParseCompletionRequest(json{{"prompt", {"a b", {1, 2, 3}}}, {"n", 2}, {"max_tokens", 5}}, *engine_,
                                     lim_, &r, &err))
      << err.message;
  EXPECT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.num_choices(), 4);
  EXPECT_EQ(r.prompts[1].ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.base.max_tokens, 5);
  const GenerateRequest c3 = r.ChoiceRequest(3);
  EXPECT_EQ(c3.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(c3.sampling.seed, r.base.sampling.seed + 1);
  ApiRequest d;
  ASSERT_TRUE(ParseCompletionRequest(json{{"prompt", "x"}}, *engine_, lim_, &d, &err));
  EXPECT_EQ(d.base.max_tokens, 16);  // OpenAI's default for completions
}

TEST_F(ParseWithEngine, ChatWithoutTemplateAndGenerate) {
  ApiRequest r;
  ApiError err;
  EXPECT_FALSE(ParseChatRequest(json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}}, *engine_, lim_, &r, &err));
  EXPECT_EQ(err.code, "chat_template_missing");
  ApiRequest g;
  ASSERT_TRUE(ParseGenerateRequest(json{{"tokens", {1, 5}}, {"top_logprobs", 3}}, *engine_, lim_, &g, &err));
  EXPECT_TRUE(g.logprobs);
  EXPECT_EQ(g.top_logprobs, 3);
  ApiRequest bad;
  EXPECT_FALSE(ParseGenerateRequest(json{{"tokens", {1, 100000}}}, *engine_, lim_, &bad, &err));
  EXPECT_EQ(err.param, "tokens[1]");
}

// Omitted sampling fields take the engine's defaults (generation_config.json); sent
// ones override them, top_k -1 included.
TEST_F(ParseWithEngine, OmittedSamplingFieldsTakeTheModelDefaults) {
  ParseLimits lim = lim_;
  lim.sampling_defaults.temperature = 0.6;
  lim.sampling_defaults.top_p = 0.95;
  lim.sampling_defaults.top_k = 20;
  lim.sampling_defaults.min_p = 0.05;
  lim.sampling_defaults.repetition_penalty = 1.1;
  ApiRequest r;
  ApiError err;
  ASSERT_TRUE(ParseCompletionRequest(json{{"prompt", "x"}}, *engine_, lim, &r, &err)) << err.message;
  EXPECT_DOUBLE_EQ(r.base.sampling.temperature, 0.6);
  EXPECT_DOUBLE_EQ(r.base.sampling.top_p, 0.95);
  EXPECT_EQ(r.base.sampling.top_k, 20);
  EXPECT_DOUBLE_EQ(r.base.sampling.min_p, 0.05);
  EXPECT_DOUBLE_EQ(r.base.sampling.repetition_penalty, 1.1);
  ApiRequest o;
  ASSERT_TRUE(ParseCompletionRequest(json{{"prompt", "x"}, {"temperature", 0}, {"top_k", -1}, {"min_p", 0}}, *engine_,
                                     lim, &o, &err))
      << err.message;
  EXPECT_DOUBLE_EQ(o.base.sampling.temperature, 0.0);
  EXPECT_EQ(o.base.sampling.top_k, 0);
  EXPECT_DOUBLE_EQ(o.base.sampling.min_p, 0.0);
  EXPECT_DOUBLE_EQ(o.base.sampling.top_p, 0.95);  // still the default
  // stories260K's generation_config.json has do_sample false: greedy defaults.
  EXPECT_EQ(engine_->sampling_defaults().source, "none");
  EXPECT_DOUBLE_EQ(engine_->sampling_defaults().sampling.temperature, 0.0);
}

// EngineConfig::generation_config: "auto" takes a do_sample generation_config.json
// (transformers' top_k 50 where the file has none), "none" keeps greedy defaults.
TEST(SamplingDefaults, FromGenerationConfig) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("ax_gen_defaults_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  SynthModelOptions so;
  so.shape = "tiny-qwen3";
  so.out_dir = dir.string();
  ASSERT_TRUE(SynthModel(so).ok());
  {
    std::ofstream f(dir / "generation_config.json");
    f << R"({"do_sample": true, "temperature": 0.6, "top_p": 0.95, "eos_token_id": 2})";
  }
  for (const char* mode : {"auto", "none"}) {
    EngineConfig cfg;
    cfg.model_dir = dir.string();
    cfg.threads = 1;
    cfg.generation_config = mode;
    auto e = Engine::Create(cfg);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    const SamplingDefaults d = (*e)->sampling_defaults();
    if (std::string(mode) == "auto") {
      EXPECT_EQ(d.source, "generation_config.json");
      EXPECT_DOUBLE_EQ(d.sampling.temperature, 0.6);
      EXPECT_DOUBLE_EQ(d.sampling.top_p, 0.95);
      EXPECT_EQ(d.sampling.top_k, 50);
    } else {
      EXPECT_EQ(d.source, "none");
      EXPECT_DOUBLE_EQ(d.sampling.temperature, 0.0);
    }
  }
  EngineConfig bad;
  bad.model_dir = dir.string();
  bad.generation_config = "vllm";
  auto e = Engine::Create(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("generation_config"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The reasoning split is the same whatever the chunking: every split point of each
// text, and every single-byte chunking, joins to the split of the whole.
TEST(ReasoningSplitter, SplitsAtThinkTagsWhateverTheChunking) {
  struct Case {
    std::string text;
    bool start_inside;
    std::string reasoning, content;
    bool ends_inside;
  };
  const Case cases[] = {
      {"<think>\nplan\n</think>\n\nAnswer", false, "\nplan\n", "\n\nAnswer", false},
      {"plan only</think>answer", true, "plan only", "answer", false},
      {"no tags at all <thin", false, "", "no tags at all <thin", false},
      {"<think>cut off mid thought </thi", false, "cut off mid thought </thi", "", true},
      {"pre <think>a<b</think>c <think>d</think>", false, "a<b", "pre c <think>d</think>", false},
      {"", true, "", "", true},
  };
  for (const Case& c : cases) {
    const auto run = [&](size_t chunk) {
      ReasoningSplitter sp(c.start_inside);
      ReasoningSplitter::Piece all;
      for (size_t i = 0; i < c.text.size(); i += chunk) {
        const auto p = sp.Feed(c.text.substr(i, chunk));
        all.reasoning += p.reasoning;
        all.content += p.content;
      }
      EXPECT_EQ(sp.in_reasoning(), c.ends_inside) << c.text;
      const auto tail = sp.Finish();
      all.reasoning += tail.reasoning;
      all.content += tail.content;
      return all;
    };
    for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, c.text.size() + 1}) {
      const auto got = run(std::max<size_t>(chunk, 1));
      EXPECT_EQ(got.reasoning, c.reasoning) << c.text << " chunk " << chunk;
      EXPECT_EQ(got.content, c.content) << c.text << " chunk " << chunk;
    }
  }
  EXPECT_TRUE(PromptOpensThinking("<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(PromptOpensThinking("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
}

}  // namespace
}  // namespace ax::server
