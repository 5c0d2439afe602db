#include "errors.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace ax::server {

ApiError InvalidField(const std::string& param, const std::string& message, const std::string& code) {
  ApiError e;
  e.message = param.empty() ? message : "'" + param + "': " + message;
  e.param = param;
  e.code = code;
  return e;
}

ApiError MalformedJson(const std::string& detail) {
  ApiError e;
  e.message = "the request body is not valid JSON: " + detail;
  e.code = "invalid_json";
  return e;
}

ApiError Unauthorized() {
  ApiError e;
  e.http_status = 401;
  e.message = "missing or incorrect API key: send 'Authorization: Bearer <key>'";
  e.code = "invalid_api_key";
  return e;
}

ApiError UnknownRoute(const std::string& method, const std::string& path) {
  ApiError e;
  e.http_status = 404;
  e.message = "no route " + method + " " + path +
              " (routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions, POST /v1/generate, "
              "POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/responses, "
              "POST /tokenize, POST /detokenize, GET /health, GET /metrics, GET /v1/runtime, GET / (chat page))";
  e.code = "unknown_url";
  return e;
}

ApiError ModelNotFound(const std::string& model) {
  ApiError e;
  e.http_status = 404;
  e.message = "the model '" + model + "' does not exist on this server (GET /v1/models lists it)";
  e.param = "model";
  e.code = "model_not_found";
  return e;
}

ApiError PayloadTooLarge(size_t limit_bytes) {
  ApiError e;
  e.http_status = 413;
  e.message = "the request body is larger than this server accepts (" + std::to_string(limit_bytes) +
              " bytes; see --max-body-bytes)";
  e.code = "request_too_large";
  return e;
}

ApiError Overloaded(int retry_after_s) {
  ApiError e;
  e.http_status = 503;
  e.message = "the request queue is full; retry after " + std::to_string(retry_after_s) + " s";
  e.type = "server_error";
  e.code = "queue_full";
  e.retry_after_s = retry_after_s;
  return e;
}

ApiError ShuttingDown() {
  ApiError e;
  e.http_status = 503;
  e.message = "the server is shutting down";
  e.type = "server_error";
  e.code = "shutting_down";
  return e;
}

ApiError ServerError(const std::string& message) {
  ApiError e;
  e.http_status = 500;
  e.message = message;
  e.type = "server_error";
  e.code = "internal_error";
  return e;
}

ApiError UpstreamError(int http_status, const std::string& code, const std::string& message) {
  ApiError e;
  e.http_status = http_status;
  e.message = message;
  e.type = "server_error";
  e.code = code;
  return e;
}

ApiError FromStatus(const Status& status, const std::string& param) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kResourceExhausted:
    case StatusCode::kNotFound:
    case StatusCode::kUnimplemented:
      return InvalidField(param, status.message());
    case StatusCode::kOk:
    case StatusCode::kDataLoss:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kCancelled:
    case StatusCode::kInternal:
      break;
    case StatusCode::kUnavailable:
      return UpstreamError(502, "upstream_error", status.message());
    case StatusCode::kDeadlineExceeded:
      return UpstreamError(504, "upstream_timeout", status.message());
  }
  return ServerError(status.ToString());
}

std::string ErrorJson(const ApiError& e) {
  const auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  nlohmann::json j = {{"error",
                       {{"message", e.message}, {"type", e.type}, {"param", or_null(e.param)}, {"code", or_null(e.code)}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteError(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  res.set_content(ErrorJson(e), "application/json");
}

nlohmann::json AnthropicErrorJson(const ApiError& e) {
  std::string type = "invalid_request_error";
  switch (e.http_status) {
    case 401: type = "authentication_error"; break;
    case 403: type = "permission_error"; break;
    case 404: type = "not_found_error"; break;
    case 413: type = "request_too_large"; break;
    case 429: type = "rate_limit_error"; break;
    case 503: type = "overloaded_error"; break;
    default:
      if (e.http_status >= 500) type = "api_error";
  }
  return {{"type", "error"}, {"error", {{"type", type}, {"message", e.message}}}};
}

void WriteAnthropicError(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  res.set_content(AnthropicErrorJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

}  // namespace ax::server
