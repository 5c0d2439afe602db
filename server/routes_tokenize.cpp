// POST /tokenize and POST /detokenize (vLLM's shapes):
//   /tokenize   {"prompt": text, "add_special_tokens": true} or {"messages": [...], tools,
//               chat_template_kwargs, "add_generation_prompt": true}
//               → {"count", "max_model_len", "tokens"}; a messages body counts exactly the
//               tokens that chat request's usage.prompt_tokens would report
//   /detokenize {"tokens": [ids]} → {"prompt": text}
#include <httplib.h>

#include "api_request.h"
#include "context.h"
#include "json_fields.h"

namespace ax::server {
namespace {

void JsonOk(httplib::Response& res, const nlohmann::json& j) {
  res.status = 200;
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

bool ParseObject(const httplib::Request& req, const ServerContext& ctx, nlohmann::json* body, ApiError* err) {
  if (req.body.size() > ctx.opts.max_body_bytes) {
    *err = PayloadTooLarge(ctx.opts.max_body_bytes);
    return false;
  }
  try {
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

bool Tokenize(const nlohmann::json& body, const Engine& engine, std::vector<int32_t>* ids, ApiError* err) {
  FieldReader r(body);
  if (r.Has("messages")) {
    PromptInput p;
    if (!RenderChatPrompt(body, r, engine, &p, err)) return false;
    *ids = std::move(p.ids);
    return true;
  }
  std::string prompt;
  bool add_special = true;
  if (!r.Has("prompt")) {
    *err = InvalidField("prompt", "is required (or 'messages')", "missing_required_parameter");
    return false;
  }
  r.String("prompt", &prompt);
  r.Bool("add_special_tokens", &add_special);
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  auto t = engine.Tokenize(prompt, add_special);
  if (!t.ok()) {
    *err = FromStatus(t.status(), "prompt");
    return false;
  }
  *ids = std::move(t).value();
  return true;
}

}  // namespace

void RegisterTokenizeRoutes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/tokenize", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.Authorized(req)) return WriteError(res, Unauthorized());
    nlohmann::json body;
    ApiError err;
    if (!ParseObject(req, ctx, &body, &err)) return WriteError(res, err);
    if (auto it = body.find("model"); it != body.end() && it->is_string() && it->get<std::string>() != ctx.model_name)
      return WriteError(res, ModelNotFound(it->get<std::string>()));
    std::vector<int32_t> ids;
    if (!Tokenize(body, ctx.engine, &ids, &err)) return WriteError(res, err);
    JsonOk(res, {{"count", ids.size()}, {"max_model_len", ctx.engine.ctx_size()}, {"tokens", ids}});
  });
  http.Post("/detokenize", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.Authorized(req)) return WriteError(res, Unauthorized());
    nlohmann::json body;
    ApiError err;
    if (!ParseObject(req, ctx, &body, &err)) return WriteError(res, err);
    FieldReader r(body);
    std::vector<int32_t> ids;
    if (!r.Has("tokens")) return WriteError(res, InvalidField("tokens", "is required", "missing_required_parameter"));
    r.IntList("tokens", &ids, 1 << 20);
    if (!r.ok()) return WriteError(res, r.error());
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] < 0 || ids[i] >= ctx.engine.vocab_size())
        return WriteError(res, InvalidField("tokens[" + std::to_string(i) + "]",
                                            "expected a token id below the vocabulary size (" +
                                                std::to_string(ctx.engine.vocab_size()) + "), got " +
                                                std::to_string(ids[i])));
    auto text = ctx.engine.Detokenize(ids);
    if (!text.ok()) return WriteError(res, FromStatus(text.status(), "tokens"));
    JsonOk(res, {{"prompt", *text}});
  });
}

}  // namespace ax::server
