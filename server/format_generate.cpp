// POST /v1/generate (native) responses: token ids out, one SSE event per token.
//   {"id", "object": "generation", "model", "created",
//    "choices": [{"index", "tokens": [ids], "text", "finish_reason", "logprobs"?}], "usage"}
//   stream: {"object": "generation.chunk", "choices": [{"index", "token", "text", "logprob"?, "top_logprobs"?}]}
#include "format.h"

namespace ax::server {
namespace {

nlohmann::json TopJson(const TokenEvent& t) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [id, lp] : t.top_logprobs) a.push_back({{"token", id}, {"logprob", lp}});
  return a;
}

class GenerateFormatter final : public Formatter {
 public:
  nlohmann::json Response(const Job& job) const override {
    const ApiRequest& req = job.request();
    nlohmann::json choices = nlohmann::json::array();
    for (size_t c = 0; c < job.choices().size(); ++c) {
      const ChoiceState& s = job.choices()[c];
      nlohmann::json ch = {{"index", c}, {"tokens", s.ids}, {"text", s.text},
                           {"finish_reason", FinishReasonString(s.reason)}};
      if (req.logprobs) {
        nlohmann::json lps = nlohmann::json::array(), tops = nlohmann::json::array();
        for (const TokenEvent& t : s.logprob_tokens) {
          lps.push_back(t.logprob);
          tops.push_back(TopJson(t));
        }
        ch["logprobs"] = std::move(lps);
        if (req.top_logprobs > 0) ch["top_logprobs"] = std::move(tops);
      }
      choices.push_back(std::move(ch));
    }
    nlohmann::json r = Base(job, "generation");
    r["prompt_tokens"] = req.prompts[0].ids;
    r["choices"] = std::move(choices);
    r["usage"] = UsageJson(job);
    return r;
  }

  std::vector<nlohmann::json> Prologue(const Job&) const override { return {}; }

  std::vector<nlohmann::json> OnEvent(const Job& job, int c, const StreamEvent& ev) const override {
    const ApiRequest& req = job.request();
    nlohmann::json ch = {{"index", c}};
    if (ev.kind == StreamEvent::Kind::kToken) {
      ch["token"] = ev.token.id;
      ch["text"] = ev.token.text_delta;
      if (req.logprobs) ch["logprob"] = ev.token.logprob;
      if (req.top_logprobs > 0) ch["top_logprobs"] = TopJson(ev.token);
      ch["finish_reason"] = nullptr;
    } else {
      ch["text"] = ev.text_tail;
      ch["finish_reason"] = FinishReasonString(ev.finish_reason);
    }
    nlohmann::json r = Base(job, "generation.chunk");
    r["choices"] = nlohmann::json::array({std::move(ch)});
    std::vector<nlohmann::json> out;
    if (ev.kind == StreamEvent::Kind::kFinish && ev.finish_reason == FinishReason::kError)
      out.push_back(EngineErrorJson(ev.error));
    out.push_back(std::move(r));
    return out;
  }

  std::vector<nlohmann::json> Epilogue(const Job& job) const override {
    nlohmann::json r = Base(job, "generation.chunk");
    r["choices"] = nlohmann::json::array();
    r["usage"] = UsageJson(job);
    return {r};
  }

 private:
  static nlohmann::json Base(const Job& job, const char* object) {
    return {{"id", job.id()}, {"object", object}, {"created", job.created()}, {"model", job.model_name()}};
  }
};

}  // namespace

std::unique_ptr<Formatter> MakeGenerateFormatter() { return std::make_unique<GenerateFormatter>(); }

}  // namespace ax::server
