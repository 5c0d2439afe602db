// Errors as OpenAI's API answers them:
//   HTTP 400 {"error": {"message": "...", "type": "invalid_request_error",
//                       "param": "temperature", "code": "invalid_value"}}
// Every route builds an ApiError and hands it to WriteError; nothing else writes an
// error body, so every failure has the same shape (docs/API-COMPATIBILITY.md).
#pragma once

#include <cstddef>
#include <string>

#include "ax/status.h"
#include <nlohmann/json.hpp>

namespace httplib {
struct Response;
}

namespace ax::server {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;      // the offending field, e.g. "messages[1].content"; empty → null
  std::string code;       // machine-readable, e.g. "context_length_exceeded"; empty → null
  int retry_after_s = 0;  // > 0: sent as a Retry-After header
};

// 400: a field is missing, has the wrong type or an out-of-range value.
ApiError InvalidField(const std::string& param, const std::string& message, const std::string& code = "invalid_value");
// 400: the body is not JSON (or not a JSON object).
ApiError MalformedJson(const std::string& detail);
ApiError Unauthorized();                                           // 401
ApiError UnknownRoute(const std::string& method, const std::string& path);  // 404
ApiError ModelNotFound(const std::string& model);                  // 404
ApiError PayloadTooLarge(size_t limit_bytes);                      // 413
ApiError Overloaded(int retry_after_s);                            // 503 + Retry-After
ApiError ShuttingDown();                                           // 503
ApiError ServerError(const std::string& message);                  // 500
// 502 (upstream_error) / 504 (upstream_timeout): a delegated route's upstream failed.
ApiError UpstreamError(int http_status, const std::string& code, const std::string& message);

// An engine Status (from Tokenize or Submit) as an HTTP error about `param`:
// InvalidArgument and ResourceExhausted (a request that can never fit) are 400,
// Unavailable (an upstream unreachable or failing) 502, DeadlineExceeded (an upstream
// timeout) 504, the rest 500.
ApiError FromStatus(const Status& status, const std::string& param);

// {"error": {...}} as compact JSON.
std::string ErrorJson(const ApiError& e);
// Sets status, body and headers (Retry-After) of `res`.
void WriteError(httplib::Response& res, const ApiError& e);
// The same error in Anthropic's shape (the /v1/messages routes):
//   {"type": "error", "error": {"type": "invalid_request_error", "message": "..."}}
// with the type from the status (401 authentication_error, 404 not_found_error, 413
// request_too_large, 500 api_error, 503 overloaded_error).
nlohmann::json AnthropicErrorJson(const ApiError& e);
void WriteAnthropicError(httplib::Response& res, const ApiError& e);

}  // namespace ax::server
