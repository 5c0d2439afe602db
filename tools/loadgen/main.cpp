// ax-loadgen: drives an OpenAI-compatible server (ax-engine-server, or any other) with N
// concurrent streaming clients and writes one JSON report: TTFT, inter-token latency
// and end-to-end latency percentiles, per-request decode speed, aggregate tokens/s,
// status counts and errors. docs/server.md shows how to run it. `--soak` runs a timed soak
// with faults instead (soak.h, docs/reliability.md).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "report.h"
#include "soak.h"
#include "sse_client.h"

namespace ax::loadgen {
namespace {

const char* kUsage =
    "usage: ax-loadgen [--url http://127.0.0.1:8080] [--route completions|chat|generate]\n"
    "    [--concurrency N] [--requests M] [--warmup W] [--max-tokens T] [--ignore-eos]\n"
    "    [--prompt TEXT | --prompt-tokens N | --prompt-ids 1,2,3] [--temperature X] [--seed S]\n"
    "    [--policy direct|ngram] [--model NAME] [--api-key KEY] [--timeout S] [--out FILE.json]\n"
    "--prompt-tokens N: a different synthetic prompt of N ids per request (no prefix reuse).\n"
    "soak: ax-loadgen --soak [--url U] [--concurrency 64] [--duration S] [--warmup-s S] [--max-tokens T]\n"
    "    [--faults disconnect=0.08,cancel=0.05,oversized=0.03,malformed=0.06,slow_reader=0.04,past_context=0.04]\n"
    "    [--health-interval-ms 100] [--health-p99-ms 100] [--rss-growth 0.05] [--server-pid PID [--sigterm-at-end]]\n"
    "    [--drain-limit-s 30] [--seed S] [--out FILE.json]   (exit 0 when every check passed)\n";

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  Route route = Route::kCompletions;
  int concurrency = 1, requests = 0, warmup = 0, max_tokens = 128, prompt_tokens = 0, timeout_s = 600;
  bool ignore_eos = false;
  std::string prompt = "Once upon a time", model, api_key, out, policy;
  std::vector<int> prompt_ids;
  double temperature = 0;
  long long seed = -1;
  bool soak = false;
  SoakOptions soak_opts;
};

bool ParseUrl(const std::string& url, Options* o) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    o->host = rest;
    return true;
  }
  o->host = rest.substr(0, colon);
  o->port = std::atoi(rest.substr(colon + 1).c_str());
  return o->port > 0;
}

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--url") { if (!ParseUrl(val(), o)) return false; }
    else if (a == "--route") {
      const std::string r = val();
      if (r == "completions") o->route = Route::kCompletions;
      else if (r == "chat") o->route = Route::kChat;
      else if (r == "generate") o->route = Route::kGenerate;
      else return false;
    }
    else if (a == "--concurrency") o->concurrency = std::atoi(val().c_str());
    else if (a == "--requests") o->requests = std::atoi(val().c_str());
    else if (a == "--warmup") o->warmup = std::atoi(val().c_str());
    else if (a == "--max-tokens") o->max_tokens = std::atoi(val().c_str());
    else if (a == "--prompt") o->prompt = val();
    else if (a == "--prompt-tokens") o->prompt_tokens = std::atoi(val().c_str());
    else if (a == "--prompt-ids") {
      const std::string s = val();
      for (size_t p = 0; p < s.size();) {
        o->prompt_ids.push_back(std::atoi(s.c_str() + p));
        const size_t c = s.find(',', p);
        p = c == std::string::npos ? s.size() : c + 1;
      }
    }
    else if (a == "--temperature") o->temperature = std::atof(val().c_str());
    else if (a == "--seed") o->seed = std::atoll(val().c_str());
    else if (a == "--policy") o->policy = val();
    else if (a == "--model") o->model = val();
    else if (a == "--api-key") o->api_key = val();
    else if (a == "--timeout") o->timeout_s = std::atoi(val().c_str());
    else if (a == "--out") o->out = val();
    else if (a == "--ignore-eos") o->ignore_eos = true;
    else if (a == "--soak")
      o->soak = true;
    else if (a == "--duration")
      o->soak_opts.duration_s = std::atof(val().c_str());
    else if (a == "--warmup-s")
      o->soak_opts.warmup_s = std::atof(val().c_str());
    else if (a == "--faults") {
      if (!ParseFaultMix(val(), &o->soak_opts.mix)) return false;
    } else if (a == "--health-interval-ms")
      o->soak_opts.health_interval_ms = std::atoi(val().c_str());
    else if (a == "--health-p99-ms")
      o->soak_opts.health_p99_limit_ms = std::atof(val().c_str());
    else if (a == "--rss-growth")
      o->soak_opts.rss_growth_limit = std::atof(val().c_str());
    else if (a == "--server-pid")
      o->soak_opts.server_pid = std::atoi(val().c_str());
    else if (a == "--sigterm-at-end")
      o->soak_opts.sigterm_at_end = true;
    else if (a == "--drain-limit-s")
      o->soak_opts.drain_limit_s = std::atof(val().c_str());
    else return false;
  }
  if (o->soak) {
    SoakOptions& s = o->soak_opts;
    s.host = o->host;
    s.port = o->port;
    s.api_key = o->api_key;
    s.concurrency = o->concurrency;
    s.max_tokens = o->max_tokens;
    if (o->seed >= 0) s.seed = static_cast<uint64_t>(o->seed);
    return s.concurrency >= 1 && s.max_tokens >= 8 && s.duration_s > 0 && s.health_interval_ms > 0 &&
           (!s.sigterm_at_end || s.server_pid > 0);
  }
  if (o->requests <= 0) o->requests = 4 * std::max(1, o->concurrency);
  return o->concurrency >= 1 && o->max_tokens >= 1;
}

// Request i's body: the prompt (synthetic ids differ per request), sampling, limits.
RequestSpec MakeSpec(const Options& o, int i, int64_t vocab) {
  RequestSpec s;
  s.route = o.route;
  nlohmann::json prompt;
  if (!o.prompt_ids.empty()) {
    prompt = o.prompt_ids;
  } else if (o.prompt_tokens > 0) {
    std::vector<int> ids;
    ids.reserve(static_cast<size_t>(o.prompt_tokens));
    const int64_t v = std::max<int64_t>(vocab - 3, 1);
    for (int k = 0; k < o.prompt_tokens; ++k)
      ids.push_back(static_cast<int>(3 + (static_cast<int64_t>(i) * 7919 + static_cast<int64_t>(k) * 104729) % v));
    prompt = ids;
  } else {
    prompt = o.prompt;
  }
  nlohmann::json& b = s.body;
  if (o.route == Route::kChat) b["messages"] = {{{"role", "user"}, {"content", o.prompt}}};
  else if (o.route == Route::kGenerate) b[prompt.is_string() ? "prompt" : "tokens"] = prompt;
  else b["prompt"] = prompt;
  if (!o.model.empty()) b["model"] = o.model;
  b["max_tokens"] = o.max_tokens;
  b["temperature"] = o.temperature;
  if (o.seed >= 0) b["seed"] = o.seed + i;
  if (o.ignore_eos) b["ignore_eos"] = true;
  if (!o.policy.empty()) b["policy"] = o.policy;
  return s;
}

bool WriteText(const std::string& path, const std::string& text) {
  if (path.empty()) return true;
  std::ofstream f(path);
  f << text << "\n";
  if (!f) std::fprintf(stderr, "ax-loadgen: cannot write %s\n", path.c_str());
  return static_cast<bool>(f);
}

int Soak(const Options& o) {
  nlohmann::json report;
  const bool pass = RunSoak(o.soak_opts, &report);
  const std::string text = report.dump(2);
  if (!WriteText(o.out, text)) return 1;
  std::printf("%s\n", text.c_str());
  return pass ? 0 : 1;
}

}  // namespace

int Main(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (o.soak) return Soak(o);
  SseClient probe(o.host, o.port, o.api_key, o.timeout_s);
  const nlohmann::json runtime = probe.GetJson("/v1/runtime");
  const int64_t vocab = runtime.is_object() ? runtime["model"].value("vocab_size", int64_t{32000}) : 32000;
  for (int w = 0; w < o.warmup; ++w) (void)probe.Run(MakeSpec(o, -1 - w, vocab));

  std::vector<RequestResult> results(static_cast<size_t>(o.requests));
  std::atomic<int> next{0};
  const double t0 = NowSeconds();
  std::vector<std::thread> clients;
  clients.reserve(static_cast<size_t>(o.concurrency));
  for (int c = 0; c < o.concurrency; ++c)
    clients.emplace_back([&] {
      SseClient cli(o.host, o.port, o.api_key, o.timeout_s);
      for (int i; (i = next.fetch_add(1)) < o.requests;) results[static_cast<size_t>(i)] = cli.Run(MakeSpec(o, i, vocab));
    });
  for (auto& t : clients) t.join();
  const double wall = NowSeconds() - t0;

  nlohmann::json config = {{"url", "http://" + o.host + ":" + std::to_string(o.port)},
                           {"route", RoutePath(o.route)},
                           {"concurrency", o.concurrency},
                           {"requests", o.requests},
                           {"warmup", o.warmup},
                           {"max_tokens", o.max_tokens},
                           {"ignore_eos", o.ignore_eos},
                           {"temperature", o.temperature},
                           {"policy", o.policy}};
  nlohmann::json report = BuildReport(results, wall, config);
  report["server_runtime"] = runtime;
  const std::string text = report.dump(2);
  if (!WriteText(o.out, text)) return 1;
  std::printf("%s\n", text.c_str());
  return report["errors"].get<int64_t>() == 0 ? 0 : 1;
}

}  // namespace ax::loadgen

int main(int argc, char** argv) { return ax::loadgen::Main(argc, argv); }
