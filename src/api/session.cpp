// Session::Open: the resolution policy (include/ax/session.h), and the blocking calls
// every route shares.

#include "api/session_routes.h"
#include "ax/tools.h"

namespace ax {

const char* ResolutionPolicyName(ResolutionPolicy p) {
  switch (p) {
    case ResolutionPolicy::kRepoOwned: return "repo_owned";
    case ResolutionPolicy::kOpenAiDelegated: return "openai_delegated";
    case ResolutionPolicy::kLlamaCpp: return "llama_cpp";
    case ResolutionPolicy::kAuto: return "auto";
  }
  return "?";
}

Result<ResolutionPolicy> ParseResolutionPolicy(std::string_view name, std::string_view field) {
  for (ResolutionPolicy p : {ResolutionPolicy::kRepoOwned, ResolutionPolicy::kOpenAiDelegated,
                             ResolutionPolicy::kLlamaCpp, ResolutionPolicy::kAuto})
    if (name == ResolutionPolicyName(p)) return p;
  return InvalidArgument(std::string(field) + ": expected repo_owned, openai_delegated, llama_cpp or auto, got '" +
                         std::string(name) + "'");
}

const char* SupportTierName(SupportTier t) {
  switch (t) {
    case SupportTier::kRepoOwned: return "repo_owned";
    case SupportTier::kOpenAiDelegated: return "openai_delegated";
    case SupportTier::kLlamaCpp: return "llama_cpp";
  }
  return "?";
}

namespace {

// Doctor's verdict on a model directory: ok, or why this runtime cannot run it.
Status Doctor(const std::string& dir) {
  auto rep = InspectModel(dir);
  return rep.ok() ? Status::Ok() : rep.status();
}

std::string DoctorRefusal(const std::string& dir, const Status& s) {
  return "engine.model_dir '" + dir + "' is not supported by this runtime (doctor: " + s.ToString() + ")";
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Open(const SessionConfig& config) {
  RuntimeReport report;
  report.resolution_policy = config.policy;
  const std::string& dir = config.engine.model_dir;
  const std::string& url = config.upstream.url;
  switch (config.policy) {
    case ResolutionPolicy::kRepoOwned: {
      if (dir.empty()) return InvalidArgument("engine.model_dir: required by resolution policy repo_owned");
      if (Status s = Doctor(dir); !s.ok()) return Status(s.code(), "repo_owned: " + DoctorRefusal(dir, s));
      report.resolution_reason = "repo_owned: requested";
      return OpenLocalSession(config.engine, report);
    }
    case ResolutionPolicy::kOpenAiDelegated:
      if (url.empty()) return InvalidArgument("upstream.url: required by resolution policy openai_delegated");
      report.resolution_reason = "openai_delegated: requested";
      return OpenDelegatedSession(config.upstream, report, SupportTier::kOpenAiDelegated);
    case ResolutionPolicy::kLlamaCpp: {
      const std::string& cli = config.llama_cli.binary;
      if (!url.empty() && !cli.empty())
        return InvalidArgument("llama_cli.binary: resolution policy llama_cpp takes llama-server's upstream.url or "
                               "a llama.cpp CLI binary, not both");
      if (!cli.empty()) {
        report.resolution_reason = "llama_cpp: requested (llama.cpp CLI " + cli + ")";
        return OpenLlamaCliSession(config.llama_cli, report);
      }
      if (url.empty())
        return InvalidArgument(
            "upstream.url: required by resolution policy llama_cpp (llama-server's URL), or llama_cli.binary and "
            "llama_cli.gguf (a llama.cpp CLI binary and a GGUF file)");
      report.resolution_reason = "llama_cpp: requested";
      return OpenDelegatedSession(config.upstream, report, SupportTier::kLlamaCpp);
    }
    case ResolutionPolicy::kAuto: {
      if (dir.empty()) {
        if (url.empty()) return InvalidArgument("auto: needs engine.model_dir or upstream.url");
        report.resolution_reason = "auto: no engine.model_dir; delegated to " + url;
        return OpenDelegatedSession(config.upstream, report, SupportTier::kOpenAiDelegated);
      }
      const Status s = Doctor(dir);
      if (s.ok()) {
        report.resolution_reason = "auto: doctor accepts " + dir + "; repo_owned";
        return OpenLocalSession(config.engine, report);
      }
      if (url.empty())
        return Status(s.code(), "auto: " + DoctorRefusal(dir, s) + ", and no upstream.url is configured to delegate to");
      report.resolution_reason = "auto: " + DoctorRefusal(dir, s) + "; delegated to " + url;
      return OpenDelegatedSession(config.upstream, report, SupportTier::kOpenAiDelegated);
    }
  }
  return Internal("unknown resolution policy");
}

namespace {

Result<SessionResult> Drain(Result<std::shared_ptr<SessionStream>> opened,
                            const std::function<bool(const SessionChunk&)>& on_chunk) {
  if (!opened.ok()) return opened.status();
  SessionStream& stream = **opened;
  SessionChunk chunk;
  bool cancelled = false;
  while (stream.Next(&chunk))
    if (on_chunk && !cancelled && !on_chunk(chunk)) {
      stream.Cancel();
      cancelled = true;
    }
  AX_RETURN_IF_ERROR(stream.status());
  return stream.result();
}

}  // namespace

Result<SessionResult> Session::Generate(const GenerateRequest& request,
                                        const std::function<bool(const SessionChunk&)>& on_chunk,
                                        const SessionOptions& extra) {
  return Drain(Start(request, nullptr, /*streaming=*/static_cast<bool>(on_chunk), extra), on_chunk);
}

Result<SessionResult> Session::Chat(const std::vector<ChatMessage>& messages, const GenerateRequest& options,
                                    const std::function<bool(const SessionChunk&)>& on_chunk,
                                    const SessionOptions& extra) {
  return Drain(Start(options, &messages, /*streaming=*/static_cast<bool>(on_chunk), extra), on_chunk);
}

}  // namespace ax
