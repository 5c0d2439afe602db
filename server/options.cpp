#include "options.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <map>

#include "tool_calls.h"

namespace ax::server {
namespace {

Status ParseInt(const std::string& flag, const std::string& v, int64_t lo, int64_t hi, int64_t* out) {
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi)
    return InvalidArgument("--" + flag + ": expected an integer in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "], got '" + v + "'");
  *out = x;
  return Status::Ok();
}

template <typename T>
std::function<Status(const std::string&)> IntFlag(const std::string& flag, T* out, int64_t lo, int64_t hi) {
  return [flag, out, lo, hi](const std::string& v) {
    int64_t x = 0;
    AX_RETURN_IF_ERROR(ParseInt(flag, v, lo, hi, &x));
    *out = static_cast<T>(x);
    return Status::Ok();
  };
}

std::function<Status(const std::string&)> StrFlag(std::string* out) {
  return [out](const std::string& v) {
    *out = v;
    return Status::Ok();
  };
}

}  // namespace

std::string ServerUsage() {
  return "usage: ax-engine-server --model DIR [--host 127.0.0.1] [--port 8080] [--api-key KEY]\n"
         "    [--max-seqs N] [--ctx-size N] [--backend auto|cpu|cuda] [--threads N] [--max-queue N]\n"
         "    [--precision auto|bf16|f32]\n"
         "    [--max-batch-tokens N] [--kv-cache-mb N] [--no-prefix-caching] [--served-model-name NAME]\n"
         "    [--policy ngram|direct] [--max-draft-tokens N] [--generation-config auto|none]\n"
         "    [--chat-template FILE] [--cors-origin ORIGIN|*] [--reasoning-parser auto|think|gemma4|none]\n"
         "    [--tool-call-parser auto|none|qwen3|qwen3-coder|glm45|gemma4|llama3-json]\n"
         "    [--max-body-bytes N] [--max-n N] [--http-threads N] [--http-max-threads N] [--shutdown-timeout S]\n"
         "    [--read-timeout S] [--write-timeout S] [--sse-keepalive-ms MS] [--log-requests]\n"
         "    [--support-tier repo_owned|openai_delegated|llama_cpp|auto --upstream-url URL [--upstream-model NAME]\n"
         "     [--upstream-api-key KEY] [--upstream-timeout S] [--upstream-connect-timeout S]]\n"
         "An OpenAI-compatible HTTP/SSE server for one model (docs/server.md). --port 0 binds a\n"
         "free port; the chosen one is printed as 'ax-engine-server: listening on http://HOST:PORT'.\n"
         "--support-tier openai_delegated serves through the OpenAI-compatible server at --upstream-url\n"
         "(no --model needed), llama_cpp through llama.cpp's llama-server there; auto runs --model here\n"
         "when doctor accepts it, else delegates through the OpenAI API.\n";
}

Result<ServerOptions> ParseServerArgs(int argc, char** argv, bool* help) {
  ServerOptions o;
  *help = false;
  bool no_prefix = false;
  std::string tier;
  const int64_t kBig = int64_t{1} << 40;
  std::map<std::string, std::function<Status(const std::string&)>> valued = {
      {"model", StrFlag(&o.engine.model_dir)},
      {"host", StrFlag(&o.host)},
      {"port", IntFlag("port", &o.port, 0, 65535)},
      {"api-key", StrFlag(&o.api_key)},
      {"served-model-name", StrFlag(&o.served_model_name)},
      {"max-seqs", IntFlag("max-seqs", &o.engine.max_seqs, 1, 4096)},
      {"ctx-size", IntFlag("ctx-size", &o.engine.ctx_size, 0, kBig)},
      {"backend", StrFlag(&o.engine.backend)},
      {"precision", StrFlag(&o.engine.precision)},
      {"policy", StrFlag(&o.engine.policy)},
      {"generation-config", StrFlag(&o.engine.generation_config)},
      {"chat-template", StrFlag(&o.engine.chat_template_file)},
      {"cors-origin", StrFlag(&o.cors_origin)},
      {"reasoning-parser", StrFlag(&o.reasoning_parser)},
      {"tool-call-parser", StrFlag(&o.tool_call_parser)},
      {"max-draft-tokens", IntFlag("max-draft-tokens", &o.engine.max_draft_tokens, 0, 64)},
      {"threads", IntFlag("threads", &o.engine.threads, 0, 4096)},
      {"max-queue", IntFlag("max-queue", &o.max_queue, 0, 1 << 20)},
      {"max-batch-tokens", IntFlag("max-batch-tokens", &o.engine.max_batch_tokens, 1, kBig)},
      {"kv-cache-mb", IntFlag("kv-cache-mb", &o.engine.kv_cache_mb, 0, kBig)},
      {"max-body-bytes", IntFlag("max-body-bytes", &o.max_body_bytes, 64, kBig)},
      {"max-n", IntFlag("max-n", &o.max_n, 1, 1024)},
      {"http-threads", IntFlag("http-threads", &o.http_threads, 0, 1 << 16)},
      {"http-max-threads", IntFlag("http-max-threads", &o.http_max_threads, 1, 1 << 16)},
      {"shutdown-timeout", IntFlag("shutdown-timeout", &o.shutdown_timeout_s, 0, 86400)},
      {"read-timeout", IntFlag("read-timeout", &o.read_timeout_s, 1, 86400)},
      {"write-timeout", IntFlag("write-timeout", &o.write_timeout_s, 1, 86400)},
      {"sse-keepalive-ms", IntFlag("sse-keepalive-ms", &o.sse_keepalive_ms, 0, 86400000)},
      {"support-tier", StrFlag(&tier)},
      {"upstream-url", StrFlag(&o.upstream.url)},
      {"upstream-model", StrFlag(&o.upstream.model)},
      {"upstream-api-key", StrFlag(&o.upstream.api_key)},
      {"upstream-timeout", IntFlag("upstream-timeout", &o.upstream.timeout_s, 1, 86400)},
      {"upstream-connect-timeout", IntFlag("upstream-connect-timeout", &o.upstream.connect_timeout_s, 1, 86400)},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return InvalidArgument(ServerUsage());
    }
    if (arg == "--no-prefix-caching") {
      no_prefix = true;
      continue;
    }
    if (arg == "--log-requests") {
      o.log_requests = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return InvalidArgument("unexpected argument '" + arg + "'\n" + ServerUsage());
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= argc) return InvalidArgument("--" + name + " needs a value\n" + ServerUsage());
      value = argv[++i];
    }
    auto it = valued.find(name);
    if (it == valued.end()) return InvalidArgument("unknown option --" + name + "\n" + ServerUsage());
    Status st = it->second(value);
    if (!st.ok()) return InvalidArgument(st.message() + "\n" + ServerUsage());
  }
  if (!tier.empty()) {
    auto p = ParseResolutionPolicy(tier, "--support-tier");
    if (!p.ok()) return InvalidArgument(p.status().message() + "\n" + ServerUsage());
    o.support_tier = *p;
  }
  if (!o.upstream.url.empty() && o.support_tier == ResolutionPolicy::kRepoOwned)
    return InvalidArgument(
        "--upstream-url: needs --support-tier openai_delegated, llama_cpp or auto (the repo_owned tier "
        "never delegates)\n" +
        ServerUsage());
  if (o.support_tier != ResolutionPolicy::kRepoOwned && o.upstream.url.empty())
    return InvalidArgument("--support-tier " + tier + ": needs --upstream-url URL\n" + ServerUsage());
  const bool delegated_only =
      o.support_tier == ResolutionPolicy::kOpenAiDelegated || o.support_tier == ResolutionPolicy::kLlamaCpp;
  if (o.engine.model_dir.empty() && !delegated_only)
    return InvalidArgument("--model DIR is required\n" + ServerUsage());
  if (o.engine.backend != "auto" && o.engine.backend != "cpu" && o.engine.backend != "cuda")
    return InvalidArgument("--backend: expected auto, cpu or cuda, got '" + o.engine.backend + "'\n" + ServerUsage());
  if (o.engine.precision != "auto" && o.engine.precision != "bf16" && o.engine.precision != "f32")
    return InvalidArgument("--precision: expected auto, bf16 or f32, got '" + o.engine.precision + "'\n" +
                           ServerUsage());
  if (o.engine.policy != "ngram" && o.engine.policy != "direct")
    return InvalidArgument("--policy: expected ngram or direct, got '" + o.engine.policy + "'\n" + ServerUsage());
  if (o.reasoning_parser != "auto" && o.reasoning_parser != "think" && o.reasoning_parser != "gemma4" &&
      o.reasoning_parser != "none")
    return InvalidArgument("--reasoning-parser: expected auto, think, gemma4 or none, got '" + o.reasoning_parser +
                           "'\n" + ServerUsage());
  ToolCallFormat tool_format;
  if (o.tool_call_parser != "auto" && !ParseToolCallFormat(o.tool_call_parser, &tool_format))
    return InvalidArgument("--tool-call-parser: expected auto, none, qwen3, qwen3-coder, glm45, gemma4 or llama3-json, "
                           "got '" + o.tool_call_parser + "'\n" + ServerUsage());
  if (o.engine.generation_config != "auto" && o.engine.generation_config != "none")
    return InvalidArgument("--generation-config: expected auto or none, got '" + o.engine.generation_config + "'\n" +
                           ServerUsage());
  o.engine.prefix_caching = !no_prefix;
  if (o.http_threads == 0) o.http_threads = o.engine.max_seqs + o.max_queue + 64;
  o.http_threads = std::min(o.http_threads, o.http_max_threads);
  return o;
}

}  // namespace ax::server
