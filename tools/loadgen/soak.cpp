#include "soak.h"

#include <httplib.h>
#include <csignal>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "report.h"
#include "soak_faults.h"

namespace ax::loadgen {
namespace {

using nlohmann::json;
using Result = Outcome::Result;

void Sleep(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Per kind: how many were sent and how each was answered.
struct Tally {
  int64_t sent = 0, terminal = 0, clean_error = 0, hung_up = 0, violations = 0, resent = 0;
  std::map<std::string, int64_t> statuses, finish_reasons;
};

class Ledger {
 public:
  void Record(Kind k, const Outcome& o) {
    std::lock_guard<std::mutex> lock(mu_);
    Tally& t = tallies_[static_cast<size_t>(k)];
    ++t.sent;
    ++t.statuses[std::to_string(o.status)];
    if (o.resent) ++t.resent;
    if (!o.finish_reason.empty()) ++t.finish_reasons[o.finish_reason];
    switch (o.result) {
      case Result::kTerminal: ++t.terminal; break;
      case Result::kCleanError: ++t.clean_error; break;
      case Result::kHungUp: ++t.hung_up; break;
      case Result::kViolation:
        ++t.violations;
        if (samples_.size() < 20) samples_.push_back(std::string(KindName(k)) + ": " + o.detail);
        break;
    }
    if (k == Kind::kStream && o.result == Result::kTerminal) streams_.push_back(o.stream);
  }
  int64_t Total(int64_t Tally::*field) const {
    int64_t n = 0;
    for (const Tally& t : tallies_) n += t.*field;
    return n;
  }
  const Tally& Of(Kind k) const { return tallies_[static_cast<size_t>(k)]; }
  json Json() const {
    json j = json::object();
    for (int k = 0; k < kNumKinds; ++k) {
      const Tally& t = tallies_[static_cast<size_t>(k)];
      j[KindName(static_cast<Kind>(k))] = {{"sent", t.sent},
                                           {"terminal", t.terminal},
                                           {"clean_error", t.clean_error},
                                           {"hung_up", t.hung_up},
                                           {"violations", t.violations},
                                           {"resent_after_stale_keepalive", t.resent},
                                           {"statuses", t.statuses},
                                           {"finish_reasons", t.finish_reasons}};
    }
    return j;
  }
  const std::vector<std::string>& samples() const { return samples_; }
  const std::vector<RequestResult>& streams() const { return streams_; }

 private:
  std::mutex mu_;
  std::array<Tally, kNumKinds> tallies_;
  std::vector<std::string> samples_;
  std::vector<RequestResult> streams_;
};

// One /proc sample of the server process and the machine's load.
struct ProcSample {
  double t_s = 0;
  int64_t rss_kb = 0, threads = 0, fds = 0;
  double load1 = 0;
};

int64_t StatusField(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return std::atoll(line.c_str() + key.size());
  return -1;
}

ProcSample SampleProc(int pid, double t) {
  ProcSample s;
  s.t_s = t;
  const std::string dir = "/proc/" + std::to_string(pid);
  s.rss_kb = StatusField(dir + "/status", "VmRSS:");
  s.threads = StatusField(dir + "/status", "Threads:");
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++s.fds;
  std::ifstream("/proc/loadavg") >> s.load1;
  return s;
}

// Polls /health on a fresh connection every interval, and /proc every second, until stopped.
class Watcher {
 public:
  Watcher(const SoakOptions& o, double t0) : o_(o), t0_(t0), thread_([this] { Loop(); }) {}
  ~Watcher() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<double> health_ms, health_t_s;
  int64_t health_failures = 0;
  std::vector<std::string> failure_samples;
  std::vector<ProcSample> proc;

 private:
  void Loop() {
    double next_proc = 0;
    while (!stop_) {
      const double start = NowSeconds();
      httplib::Client cli(o_.host, o_.port);
      cli.set_connection_timeout(5, 0);
      cli.set_read_timeout(5, 0);
      auto res = cli.Get("/health");
      const double ms = (NowSeconds() - start) * 1e3;
      health_ms.push_back(ms);
      health_t_s.push_back(start - t0_);
      if (!res || res->status != 200) {
        ++health_failures;
        if (failure_samples.size() < 5)
          failure_samples.push_back(res ? "status " + std::to_string(res->status) : httplib::to_string(res.error()));
      }
      if (o_.server_pid > 0 && start >= next_proc) {
        proc.push_back(SampleProc(o_.server_pid, start - t0_));
        next_proc = start + 1.0;
      }
      Sleep(std::max(0.0, o_.health_interval_ms / 1e3 - (NowSeconds() - start)));
    }
  }
  const SoakOptions& o_;
  double t0_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Prometheus text → {"name{labels}": value}.
std::map<std::string, double> Scrape(const SoakOptions& o) {
  httplib::Client cli(o.host, o.port);
  cli.set_read_timeout(5, 0);
  std::map<std::string, double> m;
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200) return m;
  std::istringstream in(res->body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    if (sp != std::string::npos) m[line.substr(0, sp)] = std::atof(line.c_str() + sp + 1);
  }
  return m;
}

double Get(const std::map<std::string, double>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? -1 : it->second;
}

bool Idle(const std::map<std::string, double>& m) {
  return Get(m, "ax_server_requests_in_flight") == 0 && Get(m, "ax_requests_running") == 0 &&
         Get(m, "ax_queue_depth") == 0 && Get(m, "ax_kv_blocks_used") == 0;
}

ServerFacts Facts(const SoakOptions& o) {
  ServerFacts f;
  f.host = o.host;
  f.port = o.port;
  f.api_key = o.api_key;
  SseClient probe(o.host, o.port, o.api_key, 30);
  const json rt = probe.GetJson("/v1/runtime");
  if (!rt.is_object()) return f;
  f.ctx_size = rt["limits"].value("ctx_size", f.ctx_size);
  f.max_body_bytes = rt["limits"].value("max_body_bytes", f.max_body_bytes);
  f.vocab_size = rt["model"].value("vocab_size", f.vocab_size);
  f.chat_template = rt["model"].value("chat_template", false);
  return f;
}

Kind PickKind(const FaultMix& m, double u) {
  const std::pair<double, Kind> shares[] = {{m.disconnect, Kind::kDisconnect},  {m.cancel, Kind::kCancel},
                                            {m.oversized, Kind::kOversized},    {m.malformed, Kind::kMalformed},
                                            {m.slow_reader, Kind::kSlowReader}, {m.past_context, Kind::kPastContext}};
  for (const auto& [share, kind] : shares) {
    if (u < share) return kind;
    u -= share;
  }
  return Kind::kStream;
}

json Check(bool pass, const json& value, const json& limit) {
  return {{"pass", pass}, {"value", value}, {"limit", limit}};
}

bool ProcessGone(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return true;
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// SIGTERM while `n` long streams are admitted; every stream must still end with a finish
// reason and [DONE], and the process must go within drain_limit_s.
json Drain(const SoakOptions& o, const ServerFacts& f, json* checks) {
  const int n = o.concurrency;
  std::vector<RequestResult> results(static_cast<size_t>(n));
  std::vector<std::thread> streams;
  streams.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    streams.emplace_back([&, i] {
      SseClient cli(o.host, o.port, o.api_key, 120);
      results[static_cast<size_t>(i)] = cli.Run(LongStream(f, i));
    });
  double admitted = 0;
  for (const double until = NowSeconds() + 30; NowSeconds() < until; Sleep(0.05)) {
    admitted = Get(Scrape(o), "ax_server_requests_in_flight");
    if (admitted >= n) break;
  }
  const double t_sig = NowSeconds();
  kill(o.server_pid, SIGTERM);
  for (auto& t : streams) t.join();
  const double streams_done_s = NowSeconds() - t_sig;
  while (!ProcessGone(o.server_pid) && NowSeconds() - t_sig < o.drain_limit_s) Sleep(0.02);
  const double exit_s = NowSeconds() - t_sig;
  const bool gone = ProcessGone(o.server_pid);
  std::map<std::string, int64_t> finish;
  int64_t ended = 0;
  json bad = json::array();
  for (const RequestResult& r : results) {
    if (r.ok && !r.finish_reason.empty()) {
      ++ended;
      ++finish[r.finish_reason];
    } else if (bad.size() < 5) {
      bad.push_back("status " + std::to_string(r.status) + ": " + r.error.substr(0, 200));
    }
  }
  (*checks)["drain_streams_terminated"] = Check(ended == n, ended, n);
  (*checks)["drain_completed"] = Check(gone, exit_s, o.drain_limit_s);
  return {{"streams", n},
          {"admitted_before_sigterm", admitted},
          {"ended_with_finish_reason", ended},
          {"finish_reasons", finish},
          {"failures", bad},
          {"streams_done_after_sigterm_s", streams_done_s},
          {"process_gone_after_sigterm_s", exit_s}};
}

// The RSS check: the peak after warm-up over the peak during it.
json RssReport(const std::vector<ProcSample>& proc, double warmup_s, double limit, json* checks) {
  int64_t warm = 0, after = 0;
  json series = json::array();
  for (size_t i = 0; i < proc.size(); ++i) {
    const ProcSample& s = proc[i];
    int64_t& peak = s.t_s <= warmup_s ? warm : after;
    peak = std::max(peak, s.rss_kb);
    if (i % 5 == 0 || i + 1 == proc.size())
      series.push_back({{"t_s", std::round(s.t_s * 10) / 10},
                        {"rss_kb", s.rss_kb},
                        {"threads", s.threads},
                        {"fds", s.fds},
                        {"load1", s.load1}});
  }
  const double growth = warm > 0 ? static_cast<double>(after) / static_cast<double>(warm) - 1 : 0;
  (*checks)["rss_growth_after_warmup"] = Check(warm > 0 && after > 0 && growth <= limit, growth, limit);
  std::vector<double> load;
  load.reserve(proc.size());
  for (const ProcSample& s : proc) load.push_back(s.load1);
  return {{"warmup_peak_rss_kb", warm},
          {"after_warmup_peak_rss_kb", after},
          {"growth", growth},
          {"load1", Summary(load)},
          {"samples_every_5s", series}};
}

}  // namespace

bool ParseFaultMix(const std::string& spec, FaultMix* mix) {
  const std::map<std::string, double*> fields = {
      {"disconnect", &mix->disconnect}, {"cancel", &mix->cancel},           {"oversized", &mix->oversized},
      {"malformed", &mix->malformed},   {"slow_reader", &mix->slow_reader}, {"past_context", &mix->past_context}};
  std::istringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || !fields.count(item.substr(0, eq))) return false;
    char* end = nullptr;
    const double v = std::strtod(item.c_str() + eq + 1, &end);
    if (*end != '\0' || v < 0 || v > 1) return false;
    *fields.at(item.substr(0, eq)) = v;
  }
  double sum = 0;
  for (const auto& [name, v] : fields) sum += *v;
  return sum <= 1;
}

bool RunSoak(const SoakOptions& o, json* report) {
  signal(SIGPIPE, SIG_IGN);
  const ServerFacts facts = Facts(o);
  const double warmup = o.warmup_s >= 0 ? o.warmup_s : std::min(60.0, o.duration_s / 4);
  const auto metrics_before = Scrape(o);
  Ledger ledger;
  const double t0 = NowSeconds();
  Watcher watch(o, t0);
  std::vector<std::thread> clients;
  clients.reserve(static_cast<size_t>(o.concurrency));
  for (int c = 0; c < o.concurrency; ++c)
    clients.emplace_back([&, c] {
      SseClient cli(o.host, o.port, o.api_key, 120);
      for (uint64_t i = 0; NowSeconds() - t0 < o.duration_s; ++i) {
        Rng rng(o.seed * 0x100000001b3ull + static_cast<uint64_t>(c) * 0x10000000ull + i);
        const Kind k = PickKind(o.mix, rng.Unit());
        ledger.Record(k, RunKind(k, facts, o.max_tokens, &rng, &cli));
      }
    });
  for (auto& t : clients) t.join();
  const double load_s = NowSeconds() - t0;
  // Back to idle: nothing in flight, every KV block free (cancellations land within a step).
  std::map<std::string, double> after;
  const double q0 = NowSeconds();
  for (after = Scrape(o); !Idle(after) && NowSeconds() - q0 < o.quiesce_limit_s; after = Scrape(o)) Sleep(0.1);
  const double quiesce_s = NowSeconds() - q0;
  Sleep(1.5);  // one more /proc sample at idle
  watch.Stop();

  json checks = json::object();
  const int64_t violations = ledger.Total(&Tally::violations);
  checks["accepted_requests_answered"] = Check(violations == 0, violations, 0);
  checks["server_idle_after_load"] = Check(Idle(after), quiesce_s, o.quiesce_limit_s);
  const double used = Get(after, "ax_kv_blocks_used"), free = Get(after, "ax_kv_blocks_free"),
               total = Get(after, "ax_kv_blocks_total");
  checks["kv_blocks_all_free"] = Check(used == 0 && free == total && total > 0,
                                       {{"used", used}, {"free", free}, {"total", total}}, "used 0, free == total");
  const double failed = Get(after, "ax_engine_requests_total{outcome=\"failed\"}") +
                        Get(after, "ax_requests_finished_total{reason=\"error\"}");
  checks["no_engine_failures"] = Check(failed == 0, failed, 0);
  const double cancelled = Get(after, "ax_engine_requests_total{outcome=\"cancelled\"}") -
                           std::max(0.0, Get(metrics_before, "ax_engine_requests_total{outcome=\"cancelled\"}"));
  const int64_t hung_up = ledger.Of(Kind::kDisconnect).hung_up;
  checks["hang_ups_cancel_in_engine"] =
      Check(hung_up == 0 || cancelled > 0, cancelled, "> 0 when streams were hung up");
  const json health = Summary(watch.health_ms);
  checks["health_p99_ms"] = Check(health["p99"].get<double>() <= o.health_p99_limit_ms && !watch.health_ms.empty(),
                                  health["p99"], o.health_p99_limit_ms);
  checks["health_failures"] = Check(watch.health_failures == 0, watch.health_failures, 0);
  json rss;
  if (o.server_pid > 0) rss = RssReport(watch.proc, warmup, o.rss_growth_limit, &checks);
  json drain;
  if (o.sigterm_at_end && o.server_pid > 0) drain = Drain(o, facts, &checks);

  std::vector<std::string> metric_keys = {"ax_kv_blocks_total",         "ax_kv_blocks_used",
                                          "ax_kv_blocks_free",          "ax_kv_blocks_cached",
                                          "ax_kv_blocks_used_peak",     "ax_server_requests_in_flight",
                                          "ax_requests_running",        "ax_queue_depth",
                                          "ax_generation_tokens_total", "ax_engine_preemptions_total"};
  json metrics = json::object();
  for (const auto& [k, v] : after)
    if (std::find(metric_keys.begin(), metric_keys.end(), k) != metric_keys.end() ||
        k.rfind("ax_engine_requests_total", 0) == 0 || k.rfind("ax_requests_finished_total", 0) == 0 ||
        k.rfind("ax_requests_rejected_total", 0) == 0)
      metrics[k] = v;
  bool pass = true;
  for (const auto& [name, c] : checks.items()) pass = pass && c["pass"].get<bool>();
  const json mix = {{"disconnect", o.mix.disconnect},   {"cancel", o.mix.cancel},
                    {"oversized", o.mix.oversized},     {"malformed", o.mix.malformed},
                    {"slow_reader", o.mix.slow_reader}, {"past_context", o.mix.past_context}};
  *report = {{"tool", "ax-loadgen --soak"},
             {"config",
              {{"url", "http://" + o.host + ":" + std::to_string(o.port)},
               {"concurrency", o.concurrency},
               {"duration_s", o.duration_s},
               {"warmup_s", warmup},
               {"max_tokens", o.max_tokens},
               {"health_interval_ms", o.health_interval_ms},
               {"seed", o.seed},
               {"fault_mix", mix},
               {"server_ctx_size", facts.ctx_size},
               {"server_max_body_bytes", facts.max_body_bytes}}},
             {"pass", pass},
             {"checks", checks},
             {"load_s", load_s},
             {"requests", ledger.Json()},
             {"violation_samples", ledger.samples()},
             {"streams", BuildReport(ledger.streams(), load_s, json::object())},
             {"health_ms", health},
             {"health_failure_samples", watch.failure_samples},
             {"metrics_after_load", metrics},
             {"server_process", rss},
             {"drain", drain}};
  (*report)["streams"].erase("config");
  (*report)["streams"].erase("tool");
  return pass;
}

}  // namespace ax::loadgen
