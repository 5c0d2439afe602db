// The llama_cpp route's CLI variant: llama.cpp's llama-completion run once per choice,
//
//   BINARY -m GGUF -p PROMPT -n MAX --temp T --top-p P --top-k K --min-p M
//          --repeat-penalty R --repeat-last-n CTX --presence-penalty X --frequency-penalty Y
//          -s SEED [--ignore-eos] -no-cnv --no-display-prompt --simple-io [-t N] [-c N] EXTRA...
//
// its stdout read as the answer. llama-completion prints the generated text token by
// token, then " [end of text]\n" when the model ended it (EOS), then "\n\n"; its logs
// and timings go to stderr (kept for error messages). So the text is stdout less that
// tail: the last kTail bytes are held back until the process ends, and bytes of a UTF-8
// sequence not yet complete are held back with them. The CLI prints no ids (the report
// says token_ids false) and no counts we rely on (usage 0). Stop strings are matched
// here: the first one ends the choice (the process is killed), its text not emitted.
// Bytes that form no UTF-8 character come out as U+FFFD, one per byte.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill(), not C's signal handling
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api/session_routes.h"

namespace ax {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kEndOfText = " [end of text]\n";
constexpr std::string_view kTrailer = "\n\n";
constexpr size_t kTail = kEndOfText.size() + kTrailer.size();
constexpr size_t kStderrKept = 4096;

// Bytes at the end of `s` that begin a UTF-8 sequence not yet complete (0 … 3).
size_t IncompleteUtf8Tail(std::string_view s) {
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const auto c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return len > back ? back : 0;
  }
  return 0;
}

// `s` with each byte that is not part of a valid UTF-8 sequence as U+FFFD: llama.cpp
// prints a byte token as that byte, where our detokenizer (and Hugging Face's) gives
// U+FFFD for bytes that form no character.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

// The command line of one choice. REQUIRES: r.prompt_text set.
std::vector<std::string> CommandLine(const LlamaCliConfig& c, const GenerateRequest& r) {
  const SamplingOptions& s = r.sampling;
  const bool penalised = s.repetition_penalty != 1.0 || s.presence_penalty != 0.0 || s.frequency_penalty != 0.0;
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return std::string(buf);
  };
  std::vector<std::string> argv = {
      c.binary, "-m", c.gguf, "-p", *r.prompt_text,
      "-n", std::to_string(r.max_tokens > 0 ? r.max_tokens : -1),  // -1: until EOS or the context is full
      "--temp", num(s.temperature), "--top-p", num(s.top_p),
      "--top-k", std::to_string(s.top_k),  // 0: off, as ours
      "--min-p", num(s.min_p), "--repeat-penalty", num(s.repetition_penalty),
      // Ours penalise every token seen: the window is the whole context, or off.
      "--repeat-last-n", penalised ? std::to_string(c.ctx_size) : "0",
      "--presence-penalty", num(s.presence_penalty), "--frequency-penalty", num(s.frequency_penalty),
      "-s", std::to_string(s.seed & 0xffffffffu),  // llama.cpp's seed is 32-bit
      "-no-cnv", "--no-display-prompt", "--simple-io"};
  if (r.ignore_eos) argv.push_back("--ignore-eos");
  if (c.threads > 0) argv.insert(argv.end(), {"-t", std::to_string(c.threads)});
  if (c.ctx_size > 0) argv.insert(argv.end(), {"-c", std::to_string(c.ctx_size)});
  argv.insert(argv.end(), c.extra_args.begin(), c.extra_args.end());
  return argv;
}

// One llama.cpp process: spawned with stdout and stderr on pipes.
class Process {
 public:
  ~Process() {
    Kill();
    Wait();  // reaps it
    for (int fd : {out_, err_})
      if (fd >= 0) close(fd);
  }
  Status Spawn(const std::vector<std::string>& argv) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return Internal(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      return Unavailable("llama.cpp CLI " + argv[0] + ": cannot run it: " + std::strerror(rc));
    }
    return Status::Ok();
  }
  // Waits for output: on_out gets stdout's bytes as they come (false: stop reading);
  // stderr is kept (its last kStderrKept bytes). Returns once stdout closed or stopped.
  void Read(const std::function<bool(std::string_view)>& on_out) {
    char buf[4096];
    bool out_open = true, err_open = true;
    while (out_open) {
      pollfd fds[2] = {{out_, POLLIN, 0}, {err_open ? err_ : -1, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) {
        const ssize_t n = read(err_, buf, sizeof(buf));
        if (n <= 0) err_open = false;
        else {
          stderr_.append(buf, static_cast<size_t>(n));
          if (stderr_.size() > 2 * kStderrKept) stderr_.erase(0, stderr_.size() - kStderrKept);
        }
      }
      if (fds[0].revents) {
        const ssize_t n = read(out_, buf, sizeof(buf));
        if (n <= 0) out_open = false;
        else if (!on_out(std::string_view(buf, static_cast<size_t>(n)))) return;
      }
    }
    // Whatever stderr still has (the timings, an error message).
    while (err_open) {
      const ssize_t n = read(err_, buf, sizeof(buf));
      if (n <= 0) break;
      stderr_.append(buf, static_cast<size_t>(n));
    }
  }
  void Kill() {  // NOLINT(readability-make-member-function-const): it ends the child, not a read
    if (pid_ > 0 && !reaped_) kill(pid_, SIGKILL);
  }
  // The exit status (-signal when killed by one).
  int Wait() {
    if (pid_ <= 0 || reaped_) return status_;
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return status_;
  }
  std::string StderrTail() const {
    return stderr_.size() > kStderrKept ? stderr_.substr(stderr_.size() - kStderrKept) : stderr_;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string stderr_;
};

// The choices of one request, one process after another on a worker thread.
class CliStream final : public SessionStream {
 public:
  CliStream(LlamaCliConfig config, std::vector<GenerateRequest> choices)
      : config_(std::move(config)), requests_(std::move(choices)), t0_(Clock::now()) {
    result_.token_ids = false;
    result_.choices.resize(requests_.size());
    finished_.assign(requests_.size(), 0);
    worker_ = std::thread([this] { Run(); });
  }
  ~CliStream() override {
    Cancel();
    worker_.join();
  }

  bool Next(SessionChunk* chunk) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || ended_; });
    if (queue_.empty()) return false;
    *chunk = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (running_) running_->Kill();
  }
  Status status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  SessionResult result() const override {
    std::lock_guard<std::mutex> lock(mu_);
    SessionResult r = result_;
    r.text = r.choices[0].text;
    r.finish_reason = r.choices[0].finish_reason;
    return r;
  }

 private:
  void Run() {
    Status failed;
    for (size_t i = 0; i < requests_.size() && failed.ok(); ++i) failed = RunChoice(static_cast<int>(i));
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed.ok() && !cancelled_) status_ = failed;
    // Choices that did not end on their own: cancelled, or cut short by a failure (then
    // no finished chunks: Next ends and status() says why).
    for (size_t k = 0; k < requests_.size(); ++k) {
      if (finished_[k]) continue;
      result_.choices[k].finish_reason = status_.ok() ? FinishReason::kCancelled : FinishReason::kError;
      if (status_.ok()) Emit(static_cast<int>(k), "", FinishReason::kCancelled);
    }
    result_.metrics.total_seconds = Seconds();
    ended_ = true;
    cv_.notify_all();
  }

  // The choice's process, run again (at most kRuns times) while its output is lost:
  // llama.cpp's logger, which prints the answer, is an asynchronous queue that is never
  // flushed at exit (common/log.cpp leaks it on purpose, llama.cpp issue 22142), so
  // what is still queued when llama-completion returns is lost, and it exits 0. That
  // shows as stdout without its closing "\n\n" (stories260K, a run of a few ms: about
  // one run in ten on an idle machine, most runs on a loaded one). The seed makes a rerun print the same
  // text, so a rerun's first bytes are checked against what was emitted already and
  // only the rest is emitted.
  Status RunChoice(int index) {
    constexpr int kRuns = 4;
    std::string emitted;  // the raw bytes emitted so far
    for (int run = 1;; ++run) {
      bool lost = false;
      Status s = RunProcess(index, &emitted, &lost);
      if (!lost) return s;
      if (run == kRuns)
        return Unavailable("llama.cpp CLI " + config_.binary + ": its output ended without the closing blank line " +
                           std::to_string(kRuns) + " times (the answer was lost)");
    }
  }

  // One process; its choice's chunks and finished chunk queued as they come.
  // *already: raw bytes an earlier run emitted (this run's must begin with them); the
  // ones emitted now are appended. *lost: it exited 0 without its closing "\n\n".
  Status RunProcess(int index, std::string* already, bool* lost) {
    const GenerateRequest& r = requests_[static_cast<size_t>(index)];
    auto proc = std::make_shared<Process>();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) return Status::Ok();
      AX_RETURN_IF_ERROR(proc->Spawn(CommandLine(config_, r)));
      running_ = proc;
    }
    // Bytes held back while the process runs: the tail, and a stop string just before it.
    size_t keep = kTail;
    for (const std::string& s : r.stop) keep = std::max(keep, kTail + s.size());
    std::string text;                  // stdout so far
    size_t emitted = already->size();  // of which emitted (by this run or an earlier one)
    bool differs = false;              // this run's text does not begin with *already
    std::optional<FinishReason> finish;
    // Emits text[emitted, end) up to the first stop string in it. While running, the
    // last `keep` bytes (maybe the tail, maybe a stop string's start) and an incomplete
    // UTF-8 sequence stay back.
    auto flush = [&](bool at_end) {
      if (text.size() < already->size() || differs) return;
      if (text.compare(0, already->size(), *already) != 0) {
        differs = true;
        return;
      }
      const size_t end = at_end ? text.size() : text.size() > keep ? text.size() - keep : 0;
      size_t limit = end;
      // A stop string counts once it cannot be part of the tail.
      const size_t searchable = at_end ? text.size() : text.size() - kTail;
      size_t stop_at = std::string::npos;
      for (const std::string& s : r.stop) {
        const size_t at = text.find(s, emitted);
        if (at != std::string::npos && at + s.size() <= searchable) stop_at = std::min(stop_at, at);
      }
      if (stop_at != std::string::npos) {
        limit = stop_at;
        finish = FinishReason::kStop;
      }
      if (!finish && !at_end) limit -= IncompleteUtf8Tail(std::string_view(text).substr(emitted, limit - emitted));
      if (limit <= emitted) return;
      already->append(text, emitted, limit - emitted);
      const std::string out = ValidUtf8(std::string_view(text).substr(emitted, limit - emitted));
      emitted = limit;
      std::lock_guard<std::mutex> lock(mu_);
      if (result_.metrics.ttft_seconds == 0) result_.metrics.ttft_seconds = Seconds();
      result_.choices[static_cast<size_t>(index)].text += out;
      Emit(index, out, std::nullopt);
    };
    proc->Read([&](std::string_view bytes) {
      text.append(bytes);
      if (text.size() > kTail) flush(false);
      return !finish.has_value() && !differs;  // a stop string: the rest is not wanted
    });
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.reset();
      if (cancelled_) return Status::Ok();
    }
    if (finish || differs) proc->Kill();
    const int code = proc->Wait();
    if (differs)
      return Unavailable("llama.cpp CLI " + config_.binary + ": a rerun (the first lost its output) printed other text");
    if (!finish) {
      if (code != 0)
        return Unavailable("llama.cpp CLI " + config_.binary + " exited with status " + std::to_string(code) + ": " +
                           proc->StderrTail());
      // The tail: " [end of text]\n" when the model ended the text, then "\n\n".
      auto strip = [&text](std::string_view suffix) {
        const bool has = text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(),
                                                                      suffix.data(), suffix.size()) == 0;
        if (has) text.resize(text.size() - suffix.size());
        return has;
      };
      if (!strip(kTrailer)) {
        *lost = true;
        return Status::Ok();
      }
      const bool eos = strip(kEndOfText);
      flush(/*at_end=*/true);
      if (differs || text.size() < already->size())
        return Unavailable("llama.cpp CLI " + config_.binary + ": a rerun (the first lost its output) printed other text");
      if (!finish) finish = eos ? FinishReason::kStop : FinishReason::kLength;
    }
    std::lock_guard<std::mutex> lock(mu_);
    result_.choices[static_cast<size_t>(index)].finish_reason = *finish;
    finished_[static_cast<size_t>(index)] = true;
    Emit(index, "", *finish);
    return Status::Ok();
  }

  // REQUIRES: mu_ held.
  void Emit(int index, const std::string& text, std::optional<FinishReason> finish) {
    SessionChunk c;
    c.choice = index;
    c.text_delta = text;
    if (finish) {
      c.finished = true;
      c.finish_reason = *finish;
    }
    queue_.push_back(std::move(c));
    cv_.notify_all();
  }

  double Seconds() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

  const LlamaCliConfig config_;
  const std::vector<GenerateRequest> requests_;
  const Clock::time_point t0_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SessionChunk> queue_;
  SessionResult result_;
  std::shared_ptr<Process> running_;      // the process of the choice running now
  std::vector<char> finished_;            // [choices]: its finished chunk was queued
  bool cancelled_ = false;
  bool ended_ = false;
  Status status_;
  std::thread worker_;  // last: starts once every member above exists
};

// Fields the CLI cannot be asked for: refused by name rather than dropped.
Status CheckCliRequest(const GenerateRequest& r, const SessionOptions& o, int64_t ctx_size) {
  auto refuse = [](const std::string& field, const std::string& why) {
    return InvalidArgument(field + ": not supported by the llama_cpp route's CLI variant (" + why + ")");
  };
  if (!r.prompt_tokens.empty())
    return refuse("prompt_tokens", "the CLI takes prompt text; exact ids need llama-server's upstream.url");
  if (!r.prompt_text) return InvalidArgument("prompt: expected prompt_text");
  if (r.constraint.kind != OutputConstraint::Kind::kNone) return refuse("constraint", "no grammar is passed");
  if (r.prompt_logprobs >= 0) return refuse("prompt_logprobs", "text only");
  if (r.sampling.logprobs || r.sampling.top_logprobs > 0) return refuse("sampling.logprobs", "text only");
  if (!r.stop_token_ids.empty()) return refuse("stop_token_ids", "the CLI prints no ids");
  if (!r.policy.empty()) return refuse("policy", "llama.cpp decodes as it does");
  if (r.priority != 0) return refuse("priority", "a process per request");
  if (!r.skip_special_tokens) return refuse("skip_special_tokens", "the CLI prints text as it does");
  if (r.max_tokens < 0) return InvalidArgument("max_tokens: expected 0 (until EOS) or more");
  const SamplingOptions& sp = r.sampling;
  if ((sp.repetition_penalty != 1.0 || sp.presence_penalty != 0.0 || sp.frequency_penalty != 0.0) && ctx_size <= 0)
    return InvalidArgument(
        "repetition_penalty: llama.cpp's penalties look back --repeat-last-n ids; set llama_cli.ctx_size (its "
        "context, the window that sees every token as ours do)");
  for (const std::string& s : r.stop)
    if (s.empty()) return InvalidArgument("stop: an empty stop string");
  if (o.n < 1 || o.n > 128) return InvalidArgument("n: expected 1 to 128 choices, got " + std::to_string(o.n));
  for (const auto& [name, set] : {std::pair<const char*, bool>{"tools", !o.tools_json.empty()},
                                  {"tool_choice", !o.tool_choice_json.empty()},
                                  {"parallel_tool_calls", o.parallel_tool_calls.has_value()},
                                  {"reasoning_effort", !o.reasoning_effort.empty()}})
    if (set) return InvalidArgument(std::string(name) + ": chat only (a completion has no tools or reasoning)");
  return Status::Ok();
}

class LlamaCliSession final : public Session {
 public:
  LlamaCliSession(LlamaCliConfig config, RuntimeReport report)
      : config_(std::move(config)), report_(std::move(report)) {}
  ~LlamaCliSession() override { CancelAll(); }

  void CancelAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : streams_)
      if (auto s = w.lock()) s->Cancel();
  }
  const RuntimeReport& report() const override { return report_; }
  Engine* engine() override { return nullptr; }

 protected:
  Result<std::shared_ptr<SessionStream>> Start(const GenerateRequest& request, const std::vector<ChatMessage>* messages,
                                               bool, const SessionOptions& extra) override {
    if (messages)
      return InvalidArgument(
          "messages: the llama_cpp route's CLI variant serves completions only; chats need llama-server (upstream.url)");
    AX_RETURN_IF_ERROR(CheckCliRequest(request, extra, config_.ctx_size));
    // Choice i seeded seed + i, as the server's own n > 1 seeds its choices.
    std::vector<GenerateRequest> choices(static_cast<size_t>(extra.n), request);
    for (int i = 0; i < extra.n; ++i) choices[static_cast<size_t>(i)].sampling.seed += static_cast<uint64_t>(i);
    auto stream = std::make_shared<CliStream>(config_, std::move(choices));
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(streams_, [](const std::weak_ptr<CliStream>& w) { return w.expired(); });
    streams_.push_back(stream);
    return std::shared_ptr<SessionStream>(stream);
  }

 private:
  const LlamaCliConfig config_;
  const RuntimeReport report_;
  std::mutex mu_;
  std::vector<std::weak_ptr<CliStream>> streams_;
};

}  // namespace

Result<std::unique_ptr<Session>> OpenLlamaCliSession(const LlamaCliConfig& config, RuntimeReport report) {
  if (access(config.binary.c_str(), X_OK) != 0)
    return InvalidArgument("llama_cli.binary: '" + config.binary + "' is not an executable file");
  std::error_code ec;
  if (config.gguf.empty() || !std::filesystem::is_regular_file(config.gguf, ec))
    return InvalidArgument("llama_cli.gguf: '" + config.gguf + "' is not a file (expected a GGUF model)");
  if (config.threads < 0) return InvalidArgument("llama_cli.threads: expected 0 (llama.cpp's default) or more");
  if (config.ctx_size < 0) return InvalidArgument("llama_cli.ctx_size: expected 0 (llama.cpp's default) or more");
  report.selected_backend = SupportTierName(SupportTier::kLlamaCpp);
  report.support_tier = SupportTier::kLlamaCpp;
  report.backend_detail = "llama.cpp CLI " + config.binary + " (a process per choice)";
  report.model_id = std::filesystem::path(config.gguf).stem().string();
  report.token_ids = false;  // the CLI prints text, no ids
  report.throughput_is_ours = false;
  return std::unique_ptr<Session>(new LlamaCliSession(config, std::move(report)));
}

}  // namespace ax
