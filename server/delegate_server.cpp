#include "delegate_server.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <vector>

#include "context.h"
#include "delegate_request.h"
#include "errors.h"
#include "http_listener.h"
#include "http_pool.h"
#include "metrics.h"
#include "peer.h"
#include "sse.h"

namespace ax::server {

struct DelegateServer::State {
  State(const ServerOptions& o, Session& s)
      : opts(o),
        session(s),
        model_name(o.served_model_name.empty() ? s.report().model_id : o.served_model_name),
        started_at(static_cast<int64_t>(std::time(nullptr))) {}

  const ServerOptions opts;
  Session& session;
  const std::string model_name;
  const int64_t started_at;
  ServerMetrics metrics;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> next_id{1};

  std::string NewId(const char* prefix) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%s%08llx%08llx", prefix, static_cast<unsigned long long>(started_at & 0xffffffff),
                  static_cast<unsigned long long>(next_id.fetch_add(1)));
    return buf;
  }
};

namespace {

using State = DelegateServer::State;

void Json(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// The finish_reason of a choice: "tool_calls" when it stopped after calls (as our own
// route says it).
const char* FinishName(FinishReason r, bool calls) {
  if (r == FinishReason::kLength) return "length";
  return calls ? "tool_calls" : "stop";
}

// One response body or chunk in OpenAI's shape for the route.
struct Shaper {
  bool chat;
  std::string id, model;
  int64_t created;

  nlohmann::json Base(bool chunk) const {
    const char* object = chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
    return {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
  }
  // A blocking answer's choice.
  nlohmann::json Choice(int index, const SessionChoice& c) const {
    const bool calls = !c.tool_calls.empty();
    nlohmann::json j = {{"index", index}, {"finish_reason", FinishName(c.finish_reason, calls)}};
    if (!chat) {
      j["text"] = c.text;
      j["logprobs"] = nullptr;
      return j;
    }
    nlohmann::json m = {{"role", "assistant"}, {"content", c.text}};
    if (!c.reasoning.empty()) m["reasoning_content"] = m["reasoning"] = c.reasoning;
    if (calls) {
      if (c.text.empty()) m["content"] = nullptr;
      m["tool_calls"] = nlohmann::json::array();
      for (const ax::ToolCall& call : c.tool_calls)
        m["tool_calls"].push_back({{"id", call.id},
                                   {"type", "function"},
                                   {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    }
    j["message"] = std::move(m);
    return j;
  }
  // A streamed piece of a choice (first: the choice's first chunk, which names the role).
  nlohmann::json Piece(const SessionChunk& c, bool first) const {
    nlohmann::json j = {{"index", c.choice}, {"finish_reason", nullptr}};
    if (!chat) {
      j["text"] = c.text_delta;
      j["logprobs"] = nullptr;
      return j;
    }
    nlohmann::json d = nlohmann::json::object();
    if (first) d["role"] = "assistant";
    if (!c.text_delta.empty() || first) d["content"] = c.text_delta;
    if (!c.reasoning_delta.empty()) d["reasoning_content"] = c.reasoning_delta;
    if (!c.tool_calls.empty()) {
      d["tool_calls"] = nlohmann::json::array();
      for (const ToolCallPart& p : c.tool_calls) {
        nlohmann::json part = {{"index", p.index}};
        if (!p.id.empty()) part["id"] = p.id;
        if (!p.id.empty() || !p.name.empty()) part["type"] = "function";
        part["function"] = {{"arguments", p.arguments}};
        if (!p.name.empty()) part["function"]["name"] = p.name;
        d["tool_calls"].push_back(std::move(part));
      }
    }
    j["delta"] = std::move(d);
    return j;
  }
  nlohmann::json Finished(int index, FinishReason r, bool calls) const {
    nlohmann::json j = {{"index", index}, {"finish_reason", FinishName(r, calls)}};
    if (chat) {
      j["delta"] = nlohmann::json::object();
    } else {
      j["text"] = "";
      j["logprobs"] = nullptr;
    }
    return j;
  }
  static nlohmann::json Usage(const RequestMetrics& m) {
    return {{"prompt_tokens", m.prompt_tokens},
            {"completion_tokens", m.completion_tokens},
            {"total_tokens", m.prompt_tokens + m.completion_tokens}};
  }
};

// The request parameter a Session refusal names ("n: ...", "tools: ..."), else the
// prompt or messages.
std::string ParamOf(const Status& s, bool chat) {
  const std::string& m = s.message();
  const size_t colon = m.find(": ");
  std::string head = colon == std::string::npos ? "" : m.substr(0, colon);
  for (const char* name :
       {"n", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "max_tokens", "repetition_penalty"})
    if (head == name) return head;
  return chat ? "messages" : "prompt";
}

bool ReadBody(const httplib::Request& req, const State& st, nlohmann::json* body, ApiError* err) {
  if (req.body.size() > st.opts.max_body_bytes) {
    *err = PayloadTooLarge(st.opts.max_body_bytes);
    return false;
  }
  *body = nlohmann::json::parse(req.body, nullptr, false);
  if (body->is_discarded() || !body->is_object()) {
    *err = MalformedJson("expected a JSON object");
    return false;
  }
  return true;
}

// Streams the session's chunks as SSE, each choice's under its index. The first chunk
// was taken before the response status was chosen, so that an upstream failing at once
// still gets its 4xx/502/504.
void StreamAnswer(httplib::Response& res, State& st, std::shared_ptr<SessionStream> stream, SessionChunk first,
                  const Shaper& shape, int n, bool include_usage, PeerWatch peer) {
  struct Pump {
    std::shared_ptr<SessionStream> stream;
    std::optional<SessionChunk> pending;
    std::vector<char> started, calls;  // per choice: its first chunk sent; it made tool calls
    int finished = 0;
    bool done = false;
    PeerWatch peer;
  };
  auto p = std::make_shared<Pump>();
  p->stream = std::move(stream);
  p->pending = std::move(first);
  p->started.assign(static_cast<size_t>(n), 0);
  p->calls.assign(static_cast<size_t>(n), 0);
  p->peer = std::move(peer);
  ++st.in_flight;
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [p, &st, shape, n, include_usage](size_t, httplib::DataSink& sink) {
        if (p->done) return false;
        SessionChunk c;
        if (p->pending) {
          c = std::move(*p->pending);
          p->pending.reset();
        } else if (!p->stream->Next(&c)) {  // failed mid-stream: an error event, then the end
          ApiError e = FromStatus(p->stream->status(), "");
          const std::string ev = "data: " + ErrorJson(e) + "\n\n";
          sink.write(ev.data(), ev.size());
          st.metrics.CountFinish(FinishReason::kError);
          p->done = true;
          sink.done();
          return true;
        }
        std::string out;
        const size_t i = static_cast<size_t>(c.choice);
        const bool has_piece = !c.text_delta.empty() || !c.reasoning_delta.empty() || !c.tool_calls.empty();
        if (has_piece || !p->started[i]) {
          nlohmann::json j = shape.Base(true);
          j["choices"] = {shape.Piece(c, !p->started[i])};
          out += SseEvent(j);
          p->started[i] = 1;
        }
        if (!c.tool_calls.empty()) p->calls[i] = 1;
        if (c.finished) {
          nlohmann::json j = shape.Base(true);
          j["choices"] = {shape.Finished(c.choice, c.finish_reason, p->calls[i])};
          out += SseEvent(j);
          st.metrics.CountFinish(c.finish_reason);
          p->done = ++p->finished == n;
        }
        if (p->done) {
          if (include_usage) {
            nlohmann::json u = shape.Base(true);
            u["choices"] = nlohmann::json::array();
            u["usage"] = Shaper::Usage(p->stream->result().metrics);
            out += SseEvent(u);
          }
          out += "data: [DONE]\n\n";
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) {
          p->stream->Cancel();
          return false;
        }
        if (p->done)
          sink.done();
        else if (p->peer.Closed())
          p->stream->Cancel();
        return true;
      },
      [p, &st](bool) {
        if (!p->done) p->stream->Cancel();
        --st.in_flight;
      });
}

void Generate(const httplib::Request& req, httplib::Response& res, State& st, bool chat) {
  if (!KeyAccepted(req, st.opts.api_key)) return WriteError(res, Unauthorized());
  if (st.draining) return WriteError(res, ShuttingDown());
  nlohmann::json body;
  ApiError err;
  DelegatedCall call;
  if (!ReadBody(req, st, &body, &err) || !ParseDelegatedCall(body, chat, st.opts.max_n, &call, &err))
    return WriteError(res, err);
  if (body.contains("model") && body["model"].is_string() && body["model"] != st.model_name)
    return WriteError(res, ModelNotFound(body["model"].get<std::string>()));
  Shaper shape{chat, st.NewId(chat ? "chatcmpl-" : "cmpl-"), st.model_name, static_cast<int64_t>(std::time(nullptr))};
  auto opened = chat ? st.session.StreamChat(call.messages, call.request, call.options)
                     : st.session.Stream(call.request, call.options);
  if (!opened.ok()) return WriteError(res, FromStatus(opened.status(), ParamOf(opened.status(), chat)));
  std::shared_ptr<SessionStream> stream = *opened;
  SessionChunk first;
  if (!stream->Next(&first)) {
    st.metrics.CountFinish(FinishReason::kError);
    return WriteError(res, FromStatus(stream->status(), ""));
  }
  const int n = call.options.n;
  if (call.stream) return StreamAnswer(res, st, stream, std::move(first), shape, n, call.include_usage, PeerWatch(req));
  ++st.in_flight;
  SessionChunk c = first;
  int finished = c.finished ? 1 : 0;
  while (finished < n && stream->Next(&c)) finished += c.finished ? 1 : 0;
  --st.in_flight;
  if (finished < n) {
    st.metrics.CountFinish(FinishReason::kError);
    return WriteError(res, FromStatus(stream->status(), ""));
  }
  const SessionResult r = stream->result();
  nlohmann::json j = shape.Base(false);
  j["choices"] = nlohmann::json::array();
  for (size_t i = 0; i < r.choices.size(); ++i) {
    st.metrics.CountFinish(r.choices[i].finish_reason);
    j["choices"].push_back(shape.Choice(static_cast<int>(i), r.choices[i]));
  }
  j["usage"] = Shaper::Usage(r.metrics);
  Json(res, j);
}

nlohmann::json ModelJson(const State& st) {
  return {{"id", st.model_name}, {"object", "model"}, {"created", st.started_at}, {"owned_by", "ax-engine (delegated)"}};
}

void RegisterRoutes(HttpListener& http, State& st) {
  http.Post("/v1/completions", [&st](const httplib::Request& q, httplib::Response& r) { Generate(q, r, st, false); });
  http.Post("/v1/chat/completions", [&st](const httplib::Request& q, httplib::Response& r) { Generate(q, r, st, true); });
  http.Get("/v1/models", [&st](const httplib::Request& q, httplib::Response& r) {
    if (!KeyAccepted(q, st.opts.api_key)) return WriteError(r, Unauthorized());
    Json(r, {{"object", "list"}, {"data", nlohmann::json::array({ModelJson(st)})}});
  });
  http.Get("/health", [&st](const httplib::Request&, httplib::Response& r) {
    if (st.draining) return Json(r, {{"status", "draining"}}, 503);
    Json(r, {{"status", "ok"},
             {"model", st.model_name},
             {"support_tier", SupportTierName(st.session.report().support_tier)}});
  });
  http.Get("/v1/runtime", [&st](const httplib::Request& q, httplib::Response& r) {
    if (!KeyAccepted(q, st.opts.api_key)) return WriteError(r, Unauthorized());
    nlohmann::json j = RuntimeReportJson(st.session.report());
    j["model"] = {{"id", st.model_name}, {"upstream_model", st.session.report().model_id}};
    j["server"] = {{"started_at", st.started_at}, {"draining", st.draining.load()}};
    Json(r, j);
  });
  http.Get("/metrics", [&st](const httplib::Request&, httplib::Response& r) {
    std::string out;
    st.metrics.RenderHttp(&out);
    r.set_content(out + RenderRuntimeInfo(st.session.report()), "text/plain; version=0.0.4");
  });
  // Routes that need our engine: named, not a bare 404.
  for (const char* path : {"/v1/generate", "/tokenize", "/detokenize", "/v1/messages", "/v1/messages/count_tokens",
                           "/v1/responses"})
    http.Post(path, [path, &st](const httplib::Request&, httplib::Response& r) {
      ApiError e;
      e.http_status = 501;
      e.message = std::string("POST ") + path + " needs this server's own engine; on the " +
                  SupportTierName(st.session.report().support_tier) +
                  " route only /v1/completions and /v1/chat/completions are served (GET /v1/runtime)";
      e.code = "unsupported_on_delegated_route";
      WriteError(r, e);
    });
  http.set_error_handler([](const httplib::Request& q, httplib::Response& r) {
    if (!r.body.empty()) return;
    if (r.status == 404) return WriteError(r, UnknownRoute(q.method, q.path));
    ApiError e = ServerError("HTTP " + std::to_string(r.status));
    e.http_status = r.status;
    WriteError(r, e);
  });
  http.set_logger([&st](const httplib::Request& q, const httplib::Response& r) {
    st.metrics.CountResponse(RouteLabel(q.path), r.status);
    if (st.opts.log_requests) std::fprintf(stderr, "ax-engine-server: %s %s %d\n", q.method.c_str(), q.path.c_str(), r.status);
  });
}

}  // namespace

DelegateServer::DelegateServer(const ServerOptions& opts, Session& session)
    : st_(std::make_unique<State>(opts, session)), http_(std::make_unique<HttpListener>()) {
  const size_t warm = static_cast<size_t>(opts.http_threads), most = static_cast<size_t>(opts.http_max_threads);
  http_->new_task_queue = [warm, most] { return new GrowingThreadPool(warm, most); };
  http_->set_payload_max_length(opts.max_body_bytes);
  http_->set_read_timeout(opts.read_timeout_s, 0);
  http_->set_write_timeout(opts.write_timeout_s, 0);
  http_->set_keep_alive_timeout(opts.keep_alive_timeout_s);
  http_->set_tcp_nodelay(true);
  RegisterRoutes(*http_, *st_);
}

DelegateServer::~DelegateServer() = default;

const std::string& DelegateServer::model_name() const { return st_->model_name; }

int DelegateServer::Bind() {
  const auto& o = st_->opts;
  const int port = o.port == 0 ? http_->bind_to_any_port(o.host) : (http_->bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) std::fprintf(stderr, "ax-engine-server: cannot listen on %s:%d\n", o.host.c_str(), o.port);
  else http_->RaiseBacklog(1024);
  return port <= 0 ? -1 : port;
}

void DelegateServer::Serve() { http_->listen_after_bind(); }

void DelegateServer::Shutdown(const std::function<bool()>& hurry) {
  using Clock = std::chrono::steady_clock;
  st_->draining = true;
  http_->StopAccepting();
  const auto idle = [&] { return st_->in_flight.load() == 0; };
  const auto deadline = Clock::now() + std::chrono::seconds(st_->opts.shutdown_timeout_s);
  while (!idle() && Clock::now() < deadline && !hurry()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!idle()) {
    st_->session.CancelAll();
    const auto last = Clock::now() + std::chrono::seconds(2);
    while (!idle() && Clock::now() < last) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http_->EndConnections();
}

}  // namespace ax::server
