// ax::Session: resolution policies, the repo-owned route, and the openai_delegated route
// against a real upstream (a second ax-engine-server started here), whose greedy and
// seeded outputs must equal the repo-owned route's on the same model.
#include "ax/session.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server_process.h"

namespace ax {
namespace {

std::string Stories() { return std::string(AX_SHARED_DIR) + "/models/stories260K"; }
std::string Demo() { return std::string(AX_SOURCE_DIR) + "/models/ax-demo-qwen3"; }
// The demo model ships no chat template: chat tests give it plain "role: content" turns.
std::string PlainTemplate() { return std::string(AX_FIXTURES_DIR) + "/chat_template/plain_turns.jinja"; }

SessionConfig LocalConfig(const std::string& dir) {
  SessionConfig c;
  c.policy = ResolutionPolicy::kRepoOwned;
  c.engine.model_dir = dir;
  c.engine.backend = "cpu";
  c.engine.threads = 1;
  c.engine.max_seqs = 4;
  return c;
}

SessionConfig DelegatedConfig(const std::string& url) {
  SessionConfig c;
  c.policy = ResolutionPolicy::kOpenAiDelegated;
  c.upstream.url = url;
  c.upstream.timeout_s = 60;
  return c;
}

std::unique_ptr<Session> MustOpen(const SessionConfig& c) {
  auto s = Session::Open(c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

GenerateRequest TextRequest(const std::string& prompt, int64_t max_tokens) {
  GenerateRequest r;
  r.prompt_text = prompt;
  r.max_tokens = max_tokens;
  return r;
}

// A directory doctor refuses: an architecture this runtime has no graph for.
std::string UnsupportedModelDir() {
  const auto dir = std::filesystem::temp_directory_path() / ("ax-session-mamba-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << R"({"architectures": ["MambaForCausalLM"], "model_type": "mamba",
                                            "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 256})";
  return dir.string();
}

// A port nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(Stories() + "/config.json")) return;
    stories_server_ = new test::ServerProcess({"--model", Stories(), "--port", "0", "--threads", "1", "--backend", "cpu"});
    demo_server_ = new test::ServerProcess(
        {"--model", Demo(), "--port", "0", "--threads", "1", "--backend", "cpu", "--chat-template", PlainTemplate()});
  }
  static void TearDownTestSuite() {
    delete stories_server_;
    delete demo_server_;
    stories_server_ = demo_server_ = nullptr;
  }
  void SetUp() override {
    if (!stories_server_) GTEST_SKIP() << "no stories260K";
    ASSERT_FALSE(stories_server_->url().empty()) << "the stories260K upstream did not start";
    ASSERT_FALSE(demo_server_->url().empty()) << "the demo-model upstream did not start";
  }
  static test::ServerProcess* stories_server_;
  static test::ServerProcess* demo_server_;
};
test::ServerProcess* SessionTest::stories_server_ = nullptr;
test::ServerProcess* SessionTest::demo_server_ = nullptr;

TEST_F(SessionTest, RepoOwnedReportAndTokens) {
  auto s = MustOpen(LocalConfig(Stories()));
  ASSERT_TRUE(s);
  const RuntimeReport& r = s->report();
  EXPECT_EQ(r.selected_backend, "cpu");
  EXPECT_EQ(r.support_tier, SupportTier::kRepoOwned);
  EXPECT_EQ(r.resolution_policy, ResolutionPolicy::kRepoOwned);
  EXPECT_EQ(r.model_id, "stories260K");
  EXPECT_EQ(r.architecture, "LlamaForCausalLM");
  EXPECT_FALSE(r.weight_format.empty());
  EXPECT_TRUE(r.token_ids);
  EXPECT_TRUE(r.throughput_is_ours);
  auto out = s->Generate(TextRequest("Once upon a time", 12));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->output_tokens.size(), 12u);
  EXPECT_EQ(out->finish_reason, FinishReason::kLength);
  EXPECT_FALSE(out->text.empty());
  // Streamed: the same tokens and text, chunk by chunk.
  std::vector<int32_t> ids;
  std::string text;
  auto streamed = s->Generate(TextRequest("Once upon a time", 12), [&](const SessionChunk& c) {
    if (c.token) ids.push_back(*c.token);
    text += c.text_delta;
    return true;
  });
  ASSERT_TRUE(streamed.ok());
  EXPECT_EQ(ids, out->output_tokens);
  EXPECT_EQ(text, out->text);
}

TEST_F(SessionTest, RepoOwnedRefusesWithDoctorsReason) {
  auto s = Session::Open(LocalConfig(UnsupportedModelDir()));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("doctor:"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("MambaForCausalLM"), std::string::npos) << s.status().message();
}

TEST_F(SessionTest, AutoDelegatesOnlyWhenConfiguredAndSaysWhy) {
  SessionConfig c;
  c.policy = ResolutionPolicy::kAuto;
  c.engine.model_dir = UnsupportedModelDir();
  auto refused = Session::Open(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no upstream.url"), std::string::npos) << refused.status().message();

  c.upstream.url = stories_server_->url();
  auto s = MustOpen(c);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->report().support_tier, SupportTier::kOpenAiDelegated);
  EXPECT_EQ(s->report().resolution_policy, ResolutionPolicy::kAuto);
  EXPECT_NE(s->report().resolution_reason.find("doctor:"), std::string::npos) << s->report().resolution_reason;
  EXPECT_NE(s->report().resolution_reason.find("delegated to"), std::string::npos);

  c.engine.model_dir = Stories();  // supported: repo-owned even with an upstream configured
  c.engine.threads = 1;
  auto local = MustOpen(c);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->report().support_tier, SupportTier::kRepoOwned);
  EXPECT_NE(local->report().resolution_reason.find("doctor accepts"), std::string::npos);
}

TEST_F(SessionTest, DelegatedEqualsDirectGreedyAndSeeded) {
  auto local = MustOpen(LocalConfig(Stories()));
  auto remote = MustOpen(DelegatedConfig(stories_server_->url() + "/v1"));
  ASSERT_TRUE(local && remote);
  const RuntimeReport& r = remote->report();
  EXPECT_EQ(r.selected_backend, "openai_delegated");
  EXPECT_EQ(r.support_tier, SupportTier::kOpenAiDelegated);
  EXPECT_EQ(r.model_id, "stories260K");  // the upstream's /v1/models
  EXPECT_EQ(r.upstream_url, stories_server_->url());
  EXPECT_FALSE(r.token_ids);
  EXPECT_FALSE(r.throughput_is_ours);

  GenerateRequest greedy = TextRequest("Once upon a time", 24);
  GenerateRequest seeded = greedy;
  seeded.sampling.temperature = 0.9;
  seeded.sampling.top_p = 0.95;
  seeded.sampling.top_k = 20;
  seeded.sampling.min_p = 0.02;
  seeded.sampling.repetition_penalty = 1.1;
  seeded.sampling.seed = 1234;
  GenerateRequest stopped = greedy;
  for (const GenerateRequest& req : {greedy, seeded}) {
    auto want = local->Generate(req);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto blocking = remote->Generate(req);
    ASSERT_TRUE(blocking.ok()) << blocking.status().ToString();
    EXPECT_EQ(blocking->text, want->text);
    EXPECT_EQ(blocking->finish_reason, want->finish_reason);
    EXPECT_TRUE(blocking->output_tokens.empty());  // text only: never made-up ids
    EXPECT_FALSE(blocking->token_ids);
    EXPECT_EQ(blocking->metrics.completion_tokens, static_cast<int64_t>(want->output_tokens.size()));
    std::string text;
    int chunks = 0;
    auto streamed = remote->Generate(req, [&](const SessionChunk& c) {
      EXPECT_FALSE(c.token.has_value());
      text += c.text_delta;
      ++chunks;
      return true;
    });
    ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
    EXPECT_EQ(text, want->text);
    EXPECT_GT(chunks, 2);
    // Exact ids as the prompt: the same continuation.
    GenerateRequest by_ids = req;
    by_ids.prompt_text.reset();
    by_ids.prompt_tokens = want->prompt_tokens;
    auto ids_out = remote->Generate(by_ids);
    ASSERT_TRUE(ids_out.ok()) << ids_out.status().ToString();
    EXPECT_EQ(ids_out->text, want->text);
  }
  // A stop string: cut at the same place on both routes.
  auto full = local->Generate(greedy);
  ASSERT_TRUE(full.ok());
  ASSERT_GT(full->text.size(), 8u);
  stopped.stop = {full->text.substr(full->text.size() / 2, 3)};
  auto want = local->Generate(stopped);
  auto got = remote->Generate(stopped);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(got->text, want->text);
  EXPECT_EQ(got->finish_reason, FinishReason::kStop);
}

TEST_F(SessionTest, DelegatedChatEqualsDirectChat) {
  SessionConfig cfg = LocalConfig(Demo());
  cfg.engine.chat_template_file = PlainTemplate();
  auto local = MustOpen(cfg);
  auto remote = MustOpen(DelegatedConfig(demo_server_->url()));
  ASSERT_TRUE(local && remote);
  const std::vector<ChatMessage> messages = {{"system", "You write Python."}, {"user", "Read a file line by line."}};
  GenerateRequest opts;
  opts.max_tokens = 20;
  auto want = local->Chat(messages, opts);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  auto got = remote->Chat(messages, opts);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->text, want->text);
  std::string text;
  auto streamed = remote->Chat(messages, opts, [&](const SessionChunk& c) {
    text += c.text_delta;
    return true;
  });
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_EQ(text, want->text);
  GenerateRequest with_prompt = opts;
  with_prompt.prompt_text = "x";
  auto bad = local->Chat(messages, with_prompt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("prompt"), std::string::npos);
}

// n choices: forwarded, and each comes back under its index, blocking and streamed
// (the upstream seeds choice i with seed + i, so they differ).
TEST_F(SessionTest, DelegatedNChoices) {
  auto remote = MustOpen(DelegatedConfig(stories_server_->url()));
  ASSERT_TRUE(remote);
  GenerateRequest req = TextRequest("Once upon a time", 16);
  req.sampling.temperature = 0.9;
  req.sampling.seed = 7;
  SessionOptions three;
  three.n = 3;
  auto whole = remote->Generate(req, {}, three);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_EQ(whole->choices.size(), 3u);
  EXPECT_EQ(whole->text, whole->choices[0].text);
  EXPECT_NE(whole->choices[0].text, whole->choices[1].text);
  std::vector<std::string> texts(3);
  std::vector<int> finished(3);
  auto streamed = remote->Generate(
      req,
      [&](const SessionChunk& c) {
        EXPECT_GE(c.choice, 0);
        EXPECT_LT(c.choice, 3);
        texts[c.choice] += c.text_delta;
        finished[c.choice] += c.finished;
        return true;
      },
      three);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(texts[i], whole->choices[i].text) << "choice " << i;
    EXPECT_EQ(finished[i], 1) << "choice " << i;
  }
}

TEST_F(SessionTest, SessionOptionsAreCheckedByName) {
  auto local = MustOpen(LocalConfig(Stories()));
  auto remote = MustOpen(DelegatedConfig(stories_server_->url()));
  ASSERT_TRUE(local && remote);
  SessionOptions two;
  two.n = 2;
  auto refused = local->Generate(TextRequest("Once", 4), {}, two);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().rfind("n: ", 0), 0u) << refused.status().message();
  SessionOptions tools;
  tools.tools_json = R"([{"type": "function", "function": {"name": "f"}}])";
  auto no_tools = remote->Generate(TextRequest("Once", 4), {}, tools);
  ASSERT_FALSE(no_tools.ok());
  EXPECT_NE(no_tools.status().message().find("tools: chat only"), std::string::npos) << no_tools.status().message();
  tools.tools_json = "[{";
  GenerateRequest opts;
  opts.max_tokens = 4;
  auto bad_json = remote->Chat({{"user", "Hi"}}, opts, {}, tools);
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("tools: not valid JSON"), std::string::npos);
  SessionOptions many;
  many.n = 0;
  EXPECT_FALSE(remote->Generate(TextRequest("Once", 4), {}, many).ok());
}

TEST_F(SessionTest, DelegatedErrorsCarryTheUpstreamsMessage) {
  auto remote = MustOpen(DelegatedConfig(stories_server_->url()));
  ASSERT_TRUE(remote);
  GenerateRequest bad = TextRequest("Once", 4);
  bad.sampling.temperature = -1;  // the upstream refuses it
  for (bool streaming : {false, true}) {
    auto out = streaming ? remote->Generate(bad, [](const SessionChunk&) { return true; }) : remote->Generate(bad);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(out.status().message().find("HTTP 400"), std::string::npos) << out.status().message();
    EXPECT_NE(out.status().message().find("temperature"), std::string::npos) << out.status().message();
  }
  GenerateRequest constrained = TextRequest("Once", 4);
  constrained.constraint.kind = OutputConstraint::Kind::kJsonObject;
  auto refused = remote->Generate(constrained);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("constraint"), std::string::npos);
}

TEST_F(SessionTest, UnreachableAndSilentUpstreams) {
  auto closed = Session::Open(DelegatedConfig("http://127.0.0.1:" + std::to_string(ClosedPort())));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(closed.status().message().find("unreachable"), std::string::npos) << closed.status().message();

  // A socket that accepts connections (the kernel's backlog) and never answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  SessionConfig c = DelegatedConfig("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  c.upstream.timeout_s = 1;
  auto silent = Session::Open(c);
  close(fd);
  ASSERT_FALSE(silent.ok());
  EXPECT_EQ(silent.status().code(), StatusCode::kDeadlineExceeded) << silent.status().ToString();

  auto bad_url = Session::Open(DelegatedConfig("localhost:8080"));
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.status().message().find("upstream.url"), std::string::npos);
}

TEST_F(SessionTest, CancelEndsAStreamOnEitherRoute) {
  // The demo model (15.7M parameters) takes long enough over 480 tokens that the cancel
  // lands mid-stream.
  auto local = MustOpen(LocalConfig(Demo()));
  auto remote = MustOpen(DelegatedConfig(demo_server_->url()));
  ASSERT_TRUE(local && remote);
  for (Session* s : {local.get(), remote.get()}) {
    GenerateRequest long_req = TextRequest("def read_lines(path):\n", 480);
    long_req.ignore_eos = true;
    auto stream = s->Stream(long_req);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    SessionChunk c;
    ASSERT_TRUE((*stream)->Next(&c)) << (*stream)->status().ToString();
    s->CancelAll();
    SessionChunk last = c;
    while ((*stream)->Next(&c)) last = c;
    EXPECT_TRUE((*stream)->status().ok()) << (*stream)->status().ToString();
    EXPECT_TRUE(last.finished);
    EXPECT_EQ(last.finish_reason, FinishReason::kCancelled);
    EXPECT_EQ((*stream)->result().finish_reason, FinishReason::kCancelled);
  }
}

TEST(SessionPolicy, NamesAndErrors) {
  EXPECT_STREQ(ResolutionPolicyName(ResolutionPolicy::kOpenAiDelegated), "openai_delegated");
  auto p = ParseResolutionPolicy("repo_owned", "--support-tier");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, ResolutionPolicy::kRepoOwned);
  auto bad = ParseResolutionPolicy("mlx", "--support-tier");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--support-tier"), std::string::npos);
  SessionConfig c;
  c.policy = ResolutionPolicy::kOpenAiDelegated;
  auto no_url = Session::Open(c);
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.status().message().find("upstream.url"), std::string::npos);
  auto llama = ParseResolutionPolicy("llama_cpp", "--support-tier");
  ASSERT_TRUE(llama.ok());
  EXPECT_EQ(*llama, ResolutionPolicy::kLlamaCpp);
  EXPECT_STREQ(SupportTierName(SupportTier::kLlamaCpp), "llama_cpp");
  c.policy = ResolutionPolicy::kLlamaCpp;
  auto llama_no_url = Session::Open(c);
  ASSERT_FALSE(llama_no_url.ok());
  EXPECT_NE(llama_no_url.status().message().find("llama-server"), std::string::npos);
}

}  // namespace
}  // namespace ax
