// ax-loadgen: drives an OpenAI-compatible server (ax-engine-server, or any other) with N
// concurrent streaming clients and writes one JSON report: TTFT, inter-token latency
// and end-to-end latency percentiles, per-request decode speed, aggregate tokens/s,
// status counts and errors. docs/server.md shows how to run it.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "report.h"
#include "sse_client.h"

namespace ax::loadgen {
namespace {

const char* kUsage =
    "usage: ax-loadgen [--url http://127.0.0.1:8080] [--route completions|chat|generate]\n"
    "    [--concurrency N] [--requests M] [--warmup W] [--max-tokens T] [--ignore-eos]\n"
    "    [--prompt TEXT | --prompt-tokens N | --prompt-ids 1,2,3] [--temperature X] [--seed S]\n"
    "    [--policy direct|ngram] [--model NAME] [--api-key KEY] [--timeout S] [--out FILE.json]\n"
    "--prompt-tokens N: a different synthetic prompt of N ids per request (no prefix reuse).\n";

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
    else return false;
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

}  // namespace

int Main(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
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
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    f << text << "\n";
    if (!f) {
      std::fprintf(stderr, "ax-loadgen: cannot write %s\n", o.out.c_str());
      return 1;
    }
  }
  std::printf("%s\n", text.c_str());
  return report["errors"].get<int64_t>() == 0 ? 0 : 1;
}

}  // namespace ax::loadgen

int main(int argc, char** argv) { return ax::loadgen::Main(argc, argv); }
