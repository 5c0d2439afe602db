// The llama_cpp route's CLI variant (LlamaCliConfig) against a real llama.cpp binary,
// run when AX_LLAMA_CLI (llama-completion, or an older llama-cli) and AX_LLAMA_GGUF
// (stories260K as GGUF: scripts/llama_cpp/stories_to_gguf.py) are set, skipped with the
// reason otherwise (CI has no llama.cpp build). Its greedy text must equal our own
// engine's on stories260K (the same weights) before the reference's first near-tie, and
// its options (seed, n, stop, EOS, cancel) behave as the route's contract says. The
// llama.cpp binary loses output still queued in its logger at exit (session_llama_cli.cpp
// reruns it, at most 4 times): on a heavily loaded machine a test may then fail with
// "the answer was lost", which is llama.cpp's and said so.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "ax/session.h"

namespace ax {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string Stories() { return std::string(AX_SHARED_DIR) + "/models/stories260K"; }

class LlamaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.policy = ResolutionPolicy::kLlamaCpp;
    cfg_.llama_cli.binary = Env("AX_LLAMA_CLI");
    cfg_.llama_cli.gguf = Env("AX_LLAMA_GGUF");
    cfg_.llama_cli.threads = 1;
    cfg_.llama_cli.ctx_size = 256;
    if (cfg_.llama_cli.binary.empty() || !std::filesystem::exists(cfg_.llama_cli.binary))
      GTEST_SKIP() << "no llama.cpp CLI binary (set AX_LLAMA_CLI to llama-completion)";
    if (cfg_.llama_cli.gguf.empty() || !std::filesystem::exists(cfg_.llama_cli.gguf))
      GTEST_SKIP() << "no stories260K GGUF (set AX_LLAMA_GGUF; scripts/llama_cpp/stories_to_gguf.py)";
    auto s = Session::Open(cfg_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    session_ = std::move(s).value();
  }

  static GenerateRequest Text(const std::string& prompt, int64_t max_tokens) {
    GenerateRequest r;
    r.prompt_text = prompt;
    r.max_tokens = max_tokens;
    return r;
  }

  SessionConfig cfg_;
  std::unique_ptr<Session> session_;
};

TEST_F(LlamaCliTest, ReportSaysTextOnlyAndNotOurs) {
  const RuntimeReport& r = session_->report();
  EXPECT_EQ(r.support_tier, SupportTier::kLlamaCpp);
  EXPECT_EQ(r.selected_backend, "llama_cpp");
  EXPECT_EQ(r.resolution_policy, ResolutionPolicy::kLlamaCpp);
  EXPECT_NE(r.resolution_reason.find("CLI"), std::string::npos) << r.resolution_reason;
  EXPECT_FALSE(r.token_ids);
  EXPECT_FALSE(r.throughput_is_ours);
  EXPECT_TRUE(r.upstream_url.empty());
  EXPECT_EQ(session_->engine(), nullptr);
}

TEST_F(LlamaCliTest, GreedyTextEqualsOurEngineOnTheSameWeights) {
  SessionConfig local;
  local.policy = ResolutionPolicy::kRepoOwned;
  local.engine.model_dir = Stories();
  local.engine.backend = "cpu";
  local.engine.threads = 1;
  auto own = Session::Open(local);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  GenerateRequest req = Text("Once upon a time", 8);
  req.ignore_eos = true;
  auto want = (*own)->Generate(req);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  auto got = session_->Generate(req);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->text, want->text);
  EXPECT_EQ(got->finish_reason, FinishReason::kLength);
  EXPECT_FALSE(got->token_ids);
  EXPECT_TRUE(got->output_tokens.empty());
  // Streamed: the same text, chunk by chunk, no ids.
  std::string streamed;
  int finished = 0;
  auto s = session_->Generate(req, [&](const SessionChunk& c) {
    EXPECT_FALSE(c.token.has_value());
    streamed += c.text_delta;
    finished += c.finished;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(streamed, got->text);
  EXPECT_EQ(finished, 1);
}

TEST_F(LlamaCliTest, SeedsChoicesAndStops) {
  GenerateRequest req = Text("Once upon a time", 16);
  req.ignore_eos = true;
  req.sampling.temperature = 1.0;
  req.sampling.seed = 5;
  auto a = session_->Generate(req);
  auto b = session_->Generate(req);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->text, b->text);  // same seed, same text
  SessionOptions three;
  three.n = 3;
  auto many = session_->Generate(req, {}, three);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  ASSERT_EQ(many->choices.size(), 3u);
  EXPECT_EQ(many->choices[0].text, a->text);
  for (int i = 1; i < 3; ++i) {  // choice i is seed + i's answer
    GenerateRequest one = req;
    one.sampling.seed = req.sampling.seed + static_cast<uint64_t>(i);
    auto single = session_->Generate(one);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(many->choices[static_cast<size_t>(i)].text, single->text) << "choice " << i;
  }
  // A stop string ends the text before it: two ASCII letters of the answer after its
  // start (stories260K's scrambled layers print odd bytes too).
  size_t at = 1;
  while (at + 1 < a->text.size() && !(std::isalpha(static_cast<unsigned char>(a->text[at])) &&
                                      std::isalpha(static_cast<unsigned char>(a->text[at + 1]))))
    ++at;
  ASSERT_LT(at + 1, a->text.size()) << a->text;
  GenerateRequest stopped = req;
  stopped.stop = {a->text.substr(at, 2)};
  auto cut = session_->Generate(stopped);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(cut->finish_reason, FinishReason::kStop);
  EXPECT_EQ(cut->text, a->text.substr(0, a->text.find(stopped.stop[0])));
}

TEST_F(LlamaCliTest, RefusesWhatItCannotDoByName) {
  GenerateRequest ids;
  ids.prompt_tokens = {1, 403, 407};
  auto r = session_->Generate(ids);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("prompt_tokens: ", 0), 0u) << r.status().message();
  GenerateRequest opts;
  opts.max_tokens = 4;
  auto chat = session_->Chat({{"user", "Hi"}}, opts);
  ASSERT_FALSE(chat.ok());
  EXPECT_EQ(chat.status().message().rfind("messages: ", 0), 0u) << chat.status().message();
  GenerateRequest ids_stop = Text("Once", 4);
  ids_stop.stop_token_ids = {2};
  EXPECT_FALSE(session_->Generate(ids_stop).ok());
}

TEST_F(LlamaCliTest, CancelEndsTheStream) {
  GenerateRequest req = Text("Once upon a time", 0);  // until the context is full
  req.ignore_eos = true;
  auto stream = session_->Stream(req);
  ASSERT_TRUE(stream.ok());
  SessionChunk c;
  ASSERT_TRUE((*stream)->Next(&c));
  (*stream)->Cancel();
  FinishReason last = FinishReason::kStop;
  while ((*stream)->Next(&c))
    if (c.finished) last = c.finish_reason;
  EXPECT_TRUE((*stream)->status().ok());
  EXPECT_EQ(last, FinishReason::kCancelled);
}

TEST(LlamaCliOpen, ChecksTheBinaryAndTheFile) {
  SessionConfig c;
  c.policy = ResolutionPolicy::kLlamaCpp;
  c.llama_cli.binary = "/nonexistent/llama-completion";
  auto s = Session::Open(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("llama_cli.binary"), std::string::npos) << s.status().message();
  c.llama_cli.binary = "/bin/true";
  c.llama_cli.gguf = "/nonexistent.gguf";
  s = Session::Open(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("llama_cli.gguf"), std::string::npos) << s.status().message();
  c.upstream.url = "http://127.0.0.1:1";
  s = Session::Open(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not both"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace ax
