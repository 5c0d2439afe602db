#include "soak_faults.h"

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "raw_client.h"

namespace ax::loadgen {
namespace {

using nlohmann::json;
using Result = Outcome::Result;

const char* const kPhrases[] = {"Once upon a time",     "def read_lines(path):\n", "The capital of France is",
                                "import numpy as np\n", "In the beginning",        "for i in range(10):\n"};

std::string Prompt(Rng* rng) {
  return std::string(kPhrases[rng->Int(0, 5)]) + (rng->Int(0, 1) ? " " + std::to_string(rng->Int(0, 9999)) : "");
}

std::vector<int> Ids(const ServerFacts& f, Rng* rng, int n) {
  std::vector<int> ids;
  ids.reserve(static_cast<size_t>(std::max(n, 0)));
  const int v = static_cast<int>(std::max<int64_t>(f.vocab_size - 3, 1));
  for (int k = 0; k < n; ++k) ids.push_back(3 + rng->Int(0, v - 1));
  return ids;
}

json StreamBody(const std::string& prompt, int max_tokens, bool ignore_eos) {
  return {{"prompt", prompt},
          {"max_tokens", max_tokens},
          {"ignore_eos", ignore_eos},
          {"stream", true},
          {"stream_options", {{"include_usage", true}}}};
}

std::string Head(const std::string& s) { return s.substr(0, 200); }

std::string Describe(const RawResponse& r) {
  return "status " + std::to_string(r.status) + (r.error.empty() ? "" : " (" + r.error + ")") + ": " + Head(r.body);
}

// The body is OpenAI's error shape; `code` gets error.code (empty when null).
bool JsonError(const RawResponse& r, std::string* code) {
  const json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object() || !j["error"].contains("message"))
    return false;
  const json& c = j["error"].value("code", json());
  *code = c.is_string() ? c.get<std::string>() : "";
  return true;
}

Outcome Violation(std::string detail, int status = 0) {
  Outcome o;
  o.result = Result::kViolation;
  o.status = status;
  o.detail = std::move(detail);
  return o;
}

// A refusal the request must get: one of `statuses`, OpenAI's error body (unless
// `any_body`), error.code `code` when given.
Outcome ExpectError(const RawResponse& r, std::initializer_list<int> statuses, const std::string& code,
                    bool any_body = false) {
  std::string got;
  const bool status_ok = std::find(statuses.begin(), statuses.end(), r.status) != statuses.end();
  if (!status_ok || (!any_body && !JsonError(r, &got)) || (!code.empty() && got != code))
    return Violation(
        "expected " + std::to_string(*statuses.begin()) + (code.empty() ? "" : " " + code) + ", got " + Describe(r),
        r.status);
  Outcome o;
  o.result = Result::kCleanError;
  o.status = r.status;
  return o;
}

// A stream read to its end: 200, a finish reason, [DONE]; or a clean 503 (server full).
Outcome ExpectStream(const RawResponse& r) {
  if (r.status == 503) return ExpectError(r, {503}, "");
  RequestResult s;
  const bool done = r.status == 200 && ApplySseBody(r.body, Route::kCompletions, NowSeconds(), &s);
  if (!r.complete || !r.error.empty() || !done || s.finish_reason.empty() || !s.error.empty())
    return Violation(
        "stream without a finish reason and [DONE]: " + Describe(r) + (s.error.empty() ? "" : " / " + s.error),
        r.status);
  Outcome o;
  o.result = Result::kTerminal;
  o.status = 200;
  o.finish_reason = s.finish_reason;
  return o;
}

std::string AuthHeader(const ServerFacts& f) {
  return f.api_key.empty() ? "" : "Authorization: Bearer " + f.api_key + "\r\n";
}

RawResponse Post(const ServerFacts& f, const std::string& path, const json& body, RawRequest req = {}) {
  req.bytes = RawPost(path, body.dump(), -1, AuthHeader(f));
  return RawExchange(f.host, f.port, req);
}

Outcome Ordinary(const ServerFacts& f, int max_tokens, Rng* rng, SseClient* client) {
  RequestSpec s;
  const int route = rng->Int(0, f.chat_template ? 2 : 1);
  s.route = route == 0 ? Route::kCompletions : route == 1 ? Route::kGenerate : Route::kChat;
  const bool ids = s.route != Route::kChat && rng->Int(0, 3) == 0;
  json prompt = ids ? json(Ids(f, rng, rng->Int(4, 64))) : json(Prompt(rng));
  if (s.route == Route::kChat)
    s.body["messages"] = {{{"role", "user"}, {"content", prompt}}};
  else if (s.route == Route::kGenerate)
    s.body[ids ? "tokens" : "prompt"] = prompt;
  else
    s.body["prompt"] = prompt;
  s.body["max_tokens"] = rng->Int(8, max_tokens);
  if (rng->Int(0, 1)) s.body["ignore_eos"] = true;
  if (rng->Int(0, 2) == 0) {
    s.body["temperature"] = 0.8;
    s.body["seed"] = rng->Int(0, 1 << 30);
  }
  if (rng->Int(0, 3) == 0) s.body["policy"] = "direct";
  Outcome o;
  o.stream = client->Run(s);
  // The kept-alive connection idled while this client sent faults on other sockets; when
  // the server's 5 s keep-alive timeout closed it just as the request went out, the write
  // fails before the server read a request. Clients reconnect and send again; so does
  // this one, and the report counts it.
  if (o.stream.status == -1 && o.stream.error == "Write") {
    o.resent = true;
    o.stream = client->Run(s);
  }
  o.status = o.stream.status;
  if (o.stream.ok && !o.stream.finish_reason.empty()) {
    o.result = Result::kTerminal;
    o.finish_reason = o.stream.finish_reason;
  } else if (o.stream.status == 503) {
    o.result = Result::kCleanError;
  } else {
    o = Violation(RoutePath(s.route) + std::string(": ") + Head(o.stream.error), o.stream.status);
  }
  return o;
}

Outcome Disconnect(const ServerFacts& f, Rng* rng) {
  RawRequest req;
  req.close_after_events = rng->Int(1, 8);
  req.reset = rng->Int(0, 1) == 1;
  const RawResponse r = Post(f, "/v1/completions", StreamBody(Prompt(rng), 128, true), req);
  if (!r.hung_up) return ExpectStream(r);  // the stream ended before the hang-up: judge it whole
  Outcome o;
  o.result = Result::kHungUp;
  o.status = r.status;
  return o;
}

Outcome Cancel(const ServerFacts& f, Rng* rng) {
  RawRequest req;
  req.close_after_ms = rng->Int(0, 400);
  req.reset = rng->Int(0, 1) == 1;
  const RawResponse r = Post(f, "/v1/completions", StreamBody(Prompt(rng), 128, true), req);
  if (!r.connected) return Violation("connect: " + r.error);
  Outcome o;
  o.result = Result::kHungUp;
  return o;
}

Outcome Oversized(const ServerFacts& f, Rng* rng) {
  const std::string filler(static_cast<size_t>(f.max_body_bytes) + static_cast<size_t>(rng->Int(1, 65536)), 'a');
  const std::string body = json{{"prompt", filler}, {"max_tokens", 4}}.dump();
  RawRequest req;
  if (rng->Int(0, 1) == 0) {
    req.bytes = RawPost("/v1/completions", body, -1, AuthHeader(f));
  } else {  // chunked: no Content-Length to refuse up front
    std::string b =
        "POST /v1/completions HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nTransfer-Encoding: chunked\r\n" +
        AuthHeader(f) + "\r\n";
    for (size_t p = 0; p < body.size(); p += 16384) {
      const std::string part = body.substr(p, 16384);
      char hex[32];
      std::snprintf(hex, sizeof(hex), "%zx\r\n", part.size());
      b += hex + part + "\r\n";
    }
    req.bytes = b + "0\r\n\r\n";
  }
  return ExpectError(RawExchange(f.host, f.port, req), {413}, "request_too_large");
}

Outcome Malformed(const ServerFacts& f, Rng* rng) {
  RawRequest req;
  const std::string auth = AuthHeader(f);
  switch (rng->Int(0, 5)) {
    case 0: req.bytes = RawPost("/v1/completions", R"({"prompt": "Once upon", "max_tokens": )", -1, auth); break;
    case 1: req.bytes = RawPost("/v1/chat/completions", R"([1, 2, 3])", -1, auth); break;
    case 2:
      req.bytes = RawPost("/v1/completions", R"({"prompt": 12, "max_tokens": "many", "stream": true})", -1, auth);
      break;
    case 3: req.bytes = RawPost("/v1/generate", "{\"prompt\": \"\xff\xfe\", \"stream\": true}", -1, auth); break;
    case 4: {  // a body shorter than its Content-Length, then EOF: a 400, or a close without a word
      req.bytes = RawPost("/v1/completions", R"({"prompt": "Once upon a time", "max)", 200, auth);
      req.half_close = true;
      const RawResponse r = RawExchange(f.host, f.port, req);
      if (r.complete && r.status == 0 && r.head.empty() && r.body.empty()) {
        Outcome o;
        o.result = Result::kCleanError;
        return o;
      }
      return ExpectError(r, {400}, "");
    }
    case 5:  // not HTTP: the HTTP library's own 400, no JSON promised
      req.bytes = "SOAK \x01\x02 nonsense\r\n\r\n";
      return ExpectError(RawExchange(f.host, f.port, req), {400}, "", true);
  }
  return ExpectError(RawExchange(f.host, f.port, req), {400}, "");
}

Outcome SlowReader(const ServerFacts& f, Rng* rng) {
  RawRequest req;
  req.rcvbuf = 2048;
  req.read_chunk = 64;
  req.read_delay_ms = 40;
  return ExpectStream(Post(f, "/v1/completions", StreamBody(Prompt(rng), rng->Int(8, 40), false), req));
}

Outcome PastContext(const ServerFacts& f, Rng* rng) {
  const int ctx = static_cast<int>(f.ctx_size);
  json body;
  if (rng->Int(0, 1) == 0)
    body = {{"prompt", Ids(f, rng, ctx + rng->Int(0, 64))}, {"max_tokens", 8}};
  else
    body = {{"prompt", Ids(f, rng, 32)}, {"max_tokens", ctx - rng->Int(0, 31)}};  // together past it
  body["stream"] = rng->Int(0, 1) == 1;
  const std::string path = rng->Int(0, 1) ? "/v1/completions" : "/v1/generate";
  if (path == "/v1/generate") body["tokens"] = body["prompt"], body.erase("prompt");
  return ExpectError(Post(f, path, body), {400}, "context_length_exceeded");
}

}  // namespace

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kStream: return "stream";
    case Kind::kDisconnect: return "disconnect";
    case Kind::kCancel: return "cancel";
    case Kind::kOversized: return "oversized";
    case Kind::kMalformed: return "malformed";
    case Kind::kSlowReader: return "slow_reader";
    case Kind::kPastContext: return "past_context";
  }
  return "?";
}

uint64_t Rng::Next() {  // splitmix64
  uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int Rng::Int(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1)); }

double Rng::Unit() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }

Outcome RunKind(Kind k, const ServerFacts& f, int max_tokens, Rng* rng, SseClient* client) {
  switch (k) {
    case Kind::kStream: return Ordinary(f, max_tokens, rng, client);
    case Kind::kDisconnect: return Disconnect(f, rng);
    case Kind::kCancel: return Cancel(f, rng);
    case Kind::kOversized: return Oversized(f, rng);
    case Kind::kMalformed: return Malformed(f, rng);
    case Kind::kSlowReader: return SlowReader(f, rng);
    case Kind::kPastContext: return PastContext(f, rng);
  }
  return Violation("unknown kind");
}

RequestSpec LongStream(const ServerFacts& f, int i) {
  RequestSpec s;
  s.route = Route::kCompletions;
  s.body = {{"prompt", std::string(kPhrases[i % 6])},
            {"max_tokens", std::max<int64_t>(f.ctx_size - 32, 1)},
            {"ignore_eos", true}};
  return s;
}

}  // namespace ax::loadgen
