// The read-only routes: models, health, metrics, runtime report, and the chat page.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "context.h"

namespace ax::server {

extern const char kChatPage[];  // web/chat.html, generated into chat_page.cpp

namespace {

void Json(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

nlohmann::json ModelJson(const ServerContext& ctx) {
  return {{"id", ctx.model_name},      {"object", "model"},
          {"created", ctx.started_at}, {"owned_by", "ax-engine"},
          {"root", ctx.opts.engine.model_dir}, {"max_model_len", ctx.engine.ctx_size()}};
}

nlohmann::json RuntimeJson(const ServerContext& ctx) {
  const RouteInfo r = ctx.engine.route();
  const EngineConfig& e = ctx.opts.engine;
  const EngineStats s = ctx.engine.Stats();
  const SamplingDefaults defaults = ctx.engine.sampling_defaults();
  nlohmann::json j = RuntimeReportJson(ctx.report);
  j["requested_backend"] = e.backend;
  j.update({
      {"model",
       {{"id", ctx.model_name},
        {"dir", e.model_dir},
        {"family", r.family},
        {"architecture", r.architecture},
        {"dtype", r.dtype},
        {"weights", r.weights},
        {"vocab_size", ctx.engine.vocab_size()},
        {"chat_template", ctx.engine.has_chat_template()}}},
      {"chat",
       {{"reasoning_split", ctx.limits.split_reasoning},
        {"reasoning_tags", ctx.limits.reasoning_format == ReasoningFormat::kGemma4 ? "gemma4" : "think"},
        {"tool_call_parser", ToolCallFormatName(ctx.limits.tool_format)}}},
      {"limits",
       {{"ctx_size", ctx.engine.ctx_size()},
        {"max_seqs", e.max_seqs},
        {"max_batch_tokens", e.max_batch_tokens},
        {"kv_block_size", s.block_size},
        {"kv_blocks_total", s.blocks_total},
        {"prefix_caching", e.prefix_caching},
        {"policy", e.policy},
        {"max_draft_tokens", e.max_draft_tokens},
        {"max_queue", ctx.opts.max_queue},
        {"max_n", ctx.opts.max_n},
        {"max_body_bytes", ctx.opts.max_body_bytes},
        {"http_threads", ctx.opts.http_threads},
        {"http_max_threads", ctx.opts.http_max_threads}}},
      {"sampling_defaults",
       {{"source", defaults.source},
        {"temperature", defaults.sampling.temperature},
        {"top_p", defaults.sampling.top_p},
        {"top_k", defaults.sampling.top_k},
        {"min_p", defaults.sampling.min_p},
        {"repetition_penalty", defaults.sampling.repetition_penalty}}},
      {"server", {{"started_at", ctx.started_at}, {"draining", ctx.draining.load()}}},
  });
  return j;
}

}  // namespace

void RegisterInfoRoutes(httplib::Server& http, ServerContext& ctx) {
  http.Get("/health", [&ctx](const httplib::Request&, httplib::Response& res) {
    if (ctx.draining.load()) return Json(res, {{"status", "draining"}}, 503);
    Json(res, {{"status", "ok"}, {"model", ctx.model_name}});
  });
  http.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(ctx.metrics.Render(ctx.engine.Stats(), ctx.Gauges()) + RenderRuntimeInfo(ctx.report),
                    "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.Authorized(req)) return WriteError(res, Unauthorized());
    Json(res, {{"object", "list"}, {"data", nlohmann::json::array({ModelJson(ctx)})}});
  });
  http.Get(R"(/v1/models/(.+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.Authorized(req)) return WriteError(res, Unauthorized());
    const std::string id = req.matches[1];
    if (id != ctx.model_name) return WriteError(res, ModelNotFound(id));
    Json(res, ModelJson(ctx));
  });
  http.Get("/v1/runtime", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.Authorized(req)) return WriteError(res, Unauthorized());
    Json(res, RuntimeJson(ctx));
  });
  // The page itself holds no data; its API calls carry the key the user types in.
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(kChatPage, "text/html; charset=utf-8");
  });
}

}  // namespace ax::server
