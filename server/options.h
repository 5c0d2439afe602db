// Command-line options of ax-engine-server.
#pragma once

#include <cstddef>
#include <string>

#include "ax/engine.h"
#include "ax/session.h"

namespace ax::server {

struct ServerOptions {
  EngineConfig engine;            // --model, --backend, --threads, --ctx-size, --max-seqs, ...
  // --support-tier repo_owned (default) | openai_delegated | auto, and the upstream of
  // the delegated route (--upstream-url, --upstream-model, --upstream-api-key,
  // --upstream-timeout): include/ax/session.h.
  ResolutionPolicy support_tier = ResolutionPolicy::kRepoOwned;
  UpstreamConfig upstream;
  std::string host = "127.0.0.1";
  int port = 8080;                // 0: any free port (printed on the "listening" line)
  std::string api_key;            // empty: no authentication
  std::string served_model_name;  // empty: the model directory's name
  int max_queue = 64;             // requests waiting for a seat beyond --max-seqs; more get 503
  size_t max_body_bytes = 8u << 20;
  int max_n = 16;                 // most choices (n × prompts) per request
  int shutdown_timeout_s = 10;    // SIGINT/SIGTERM: in-flight requests get this long, then are cancelled
  int http_threads = 0;           // kept warm; 0: max-seqs + max-queue + 64 (a stream or an idle keep-alive holds one)
  int http_max_threads = 4096;    // the pool grows to this many (a connection holds one until it closes)
  int keep_alive_timeout_s = 5;
  int read_timeout_s = 10;        // a client that stalls mid-request for longer is dropped
  int write_timeout_s = 10;
  int sse_keepalive_ms = 15000;   // a ": keep-alive" SSE comment after this long without output (0: none)       // a client that stops reading for longer is dropped (and cancelled)
  bool log_requests = false;
  // Browsers from this origin ("*": any) may call the API: CORS headers on every
  // response and OPTIONS preflights answered without the API key. Empty: no CORS.
  std::string cors_origin;
  // Chat answers' reasoning as reasoning_content: "auto" splits <think> … </think> when
  // the tokenizer has </think> as one token (Qwen3, QwQ, DeepSeek-R1, GLM-4.x) and
  // Gemma 4's <|channel>thought … <channel|> when the chat template uses that channel;
  // "think" and "gemma4" force those tags, "none" never splits.
  std::string reasoning_parser = "auto";
  // Tool calls in chat answers (server/tool_calls.h): "auto" reads the syntax from the
  // chat template, a syntax name forces it, "none" leaves calls as text.
  std::string tool_call_parser = "auto";
};

// Parses argv. On error (or --help) returns a Status whose message is the usage text
// prefixed by the problem; `help` is set when --help was asked for.
Result<ServerOptions> ParseServerArgs(int argc, char** argv, bool* help);
std::string ServerUsage();

}  // namespace ax::server
