// The generating routes: body → ApiRequest → Job → JSON or SSE.
#include <httplib.h>

#include <cstdio>

#include "context.h"
#include "format.h"
#include "sse.h"

namespace ax::server {
namespace {

bool ParseBody(const httplib::Request& req, const ServerContext& ctx, nlohmann::json* body, ApiError* err) {
  if (req.body.size() > ctx.opts.max_body_bytes) {  // a chunked body is not limited by httplib
    *err = PayloadTooLarge(ctx.opts.max_body_bytes);
    return false;
  }
  if (req.body.empty()) {
    *err = MalformedJson("the body is empty (expected a JSON object)");
    return false;
  }
  try {  // nlohmann's parse_error carries the byte position; it stays inside this function
    *body = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::exception& e) {
    *err = MalformedJson(e.what());
    return false;
  }
  if (!body->is_object()) {
    *err = MalformedJson("expected a JSON object, got " + std::string(body->type_name()));
    return false;
  }
  return true;
}

bool Parse(Route route, const nlohmann::json& body, const ServerContext& ctx, ApiRequest* out, ApiError* err) {
  switch (route) {
    case Route::kCompletion: return ParseCompletionRequest(body, ctx.engine, ctx.limits, out, err);
    case Route::kChat: return ParseChatRequest(body, ctx.engine, ctx.limits, out, err);
    case Route::kGenerate: return ParseGenerateRequest(body, ctx.engine, ctx.limits, out, err);
    case Route::kMessages: return ParseMessagesRequest(body, ctx.engine, ctx.limits, out, err);
    case Route::kResponses: return ParseResponsesRequest(body, ctx.engine, ctx.limits, out, err);
  }
  return false;
}

const char* IdPrefix(Route route) {
  switch (route) {
    case Route::kCompletion: return "cmpl-";
    case Route::kChat: return "chatcmpl-";
    case Route::kGenerate: return "gen-";
    case Route::kMessages: return "msg_";
    case Route::kResponses: return "resp_";
  }
  return "req-";
}

void Handle(ServerContext& ctx, Route route, const httplib::Request& req, httplib::Response& res) {
  const auto write_error = route == Route::kMessages ? WriteAnthropicError : WriteError;
  if (!ctx.Authorized(req)) return write_error(res, Unauthorized());
  if (ctx.draining.load()) {
    ctx.metrics.CountRejected("shutting_down");
    res.set_header("Connection", "close");
    return write_error(res, ShuttingDown());
  }
  nlohmann::json body;
  ApiError err;
  if (!ParseBody(req, ctx, &body, &err)) return write_error(res, err);
  // The model first: a request for another model is 404 whatever else it says.
  if (auto it = body.find("model"); it != body.end() && it->is_string() && it->get<std::string>() != ctx.model_name)
    return write_error(res, ModelNotFound(it->get<std::string>()));
  ApiRequest areq;
  // The body in its own key order, for the JSON schemas it passes on (their properties
  // are generated in that order).
  auto source = nlohmann::ordered_json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (source.is_object()) areq.source = &source;
  if (!Parse(route, body, ctx, &areq, &err)) return write_error(res, err);
  areq.source = nullptr;
  auto job = std::make_shared<Job>(ctx.engine, ctx.metrics, ctx.admission, std::move(areq), ctx.NewId(IdPrefix(route)),
                                   ctx.model_name);
  if (!job->Start(&err)) return write_error(res, err);
  PeerWatch peer(req);
  auto fmt = MakeFormatter(route);
  if (job->request().stream) return StreamJob(res, std::move(job), std::move(fmt), std::move(peer), ctx.opts.sse_keepalive_ms);
  if (!WaitForJob(*job, peer)) {
    res.status = 499;  // the client closed the connection (nginx's code); nobody reads this
    return;
  }
  if (job->any_error()) {
    for (const ChoiceState& c : job->choices())
      if (c.reason == FinishReason::kError) return write_error(res, ServerError("generation failed: " + c.error));
  }
  res.status = 200;
  res.set_content(fmt->Response(*job).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

// POST /v1/messages/count_tokens: {"input_tokens"} of the Messages request the body
// would be (its prompt rendered and tokenized as /v1/messages does).
void CountTokens(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!ctx.Authorized(req)) return WriteAnthropicError(res, Unauthorized());
  nlohmann::json body;
  ApiError err;
  if (!ParseBody(req, ctx, &body, &err)) return WriteAnthropicError(res, err);
  if (!body.contains("max_tokens")) body["max_tokens"] = 1;  // not part of this route's body
  ApiRequest areq;
  if (!ParseMessagesRequest(body, ctx.engine, ctx.limits, &areq, &err)) return WriteAnthropicError(res, err);
  res.status = 200;
  res.set_content(nlohmann::json{{"input_tokens", areq.prompts[0].ids.size()}}.dump(), "application/json");
}

}  // namespace

void RegisterGenerationRoutes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/completions",
            [&ctx](const httplib::Request& q, httplib::Response& r) { Handle(ctx, Route::kCompletion, q, r); });
  http.Post("/v1/chat/completions",
            [&ctx](const httplib::Request& q, httplib::Response& r) { Handle(ctx, Route::kChat, q, r); });
  http.Post("/v1/generate",
            [&ctx](const httplib::Request& q, httplib::Response& r) { Handle(ctx, Route::kGenerate, q, r); });
  http.Post("/v1/messages",
            [&ctx](const httplib::Request& q, httplib::Response& r) { Handle(ctx, Route::kMessages, q, r); });
  http.Post("/v1/responses",
            [&ctx](const httplib::Request& q, httplib::Response& r) { Handle(ctx, Route::kResponses, q, r); });
  http.Post("/v1/messages/count_tokens",
            [&ctx](const httplib::Request& q, httplib::Response& r) { CountTokens(ctx, q, r); });
}

}  // namespace ax::server
