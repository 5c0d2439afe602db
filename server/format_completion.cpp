// POST /v1/completions responses: "text_completion" objects, streamed or not.
#include "format.h"

namespace ax::server {
namespace {

class CompletionFormatter final : public Formatter {
 public:
  nlohmann::json Response(const Job& job) const override {
    const ApiRequest& req = job.request();
    nlohmann::json choices = nlohmann::json::array();
    for (size_t c = 0; c < job.choices().size(); ++c) {
      const ChoiceState& s = job.choices()[c];
      const PromptInput& prompt = req.prompts[c / static_cast<size_t>(req.n)];
      std::string text = req.echo ? prompt.text + s.text : s.text;
      nlohmann::json lp = nullptr;
      if (req.logprobs) {
        lp = CompletionLogprobs(job.engine(), s.logprob_tokens, req.echo ? prompt.text.size() : 0);
        if (req.echo) {  // the prompt's tokens first
          nlohmann::json head = PromptCompletionLogprobs(job.engine(), prompt.ids, s.prompt_logprobs);
          AppendCompletionLogprobs(&head, lp);
          lp = std::move(head);
        }
      }
      choices.push_back({{"index", c},
                         {"text", std::move(text)},
                         {"logprobs", std::move(lp)},
                         {"finish_reason", FinishReasonString(s.reason)}});
    }
    nlohmann::json r = Base(job);
    r["choices"] = std::move(choices);
    r["usage"] = UsageJson(job);
    return r;
  }

  std::vector<nlohmann::json> Prologue(const Job& job) const override {
    const ApiRequest& req = job.request();
    std::vector<nlohmann::json> out;
    echoed_.assign(job.choices().size(), false);
    if (!req.echo || req.logprobs) return out;  // echo + logprobs: with the first event (OnEvent)
    for (size_t c = 0; c < job.choices().size(); ++c)
      out.push_back(Chunk(job, c, req.prompts[c / static_cast<size_t>(req.n)].text, nullptr, nullptr));
    return out;
  }

  std::vector<nlohmann::json> OnEvent(const Job& job, int ci, const StreamEvent& ev) const override {
    const ApiRequest& req = job.request();
    const size_t c = static_cast<size_t>(ci);
    const ChoiceState& s = job.choices()[c];
    std::vector<nlohmann::json> out;
    if (req.echo && req.logprobs && !echoed_[c]) {  // the echoed prompt, with its logprobs (the first event's)
      echoed_[c] = true;
      const PromptInput& prompt = req.prompts[c / static_cast<size_t>(req.n)];
      out.push_back(Chunk(job, c, prompt.text, PromptCompletionLogprobs(job.engine(), prompt.ids, ev.prompt_logprobs),
                          nullptr));
    }
    if (ev.kind == StreamEvent::Kind::kToken) {
      if (ev.token.text_delta.empty() && !req.logprobs) return out;
      nlohmann::json lp = nullptr;
      if (req.logprobs) {
        const size_t echo_len = req.echo ? req.prompts[c / static_cast<size_t>(req.n)].text.size() : 0;
        lp = CompletionLogprobs(job.engine(), {s.logprob_tokens.back()},
                                echo_len + s.text.size() - ev.token.text_delta.size());
      }
      out.push_back(Chunk(job, c, ev.token.text_delta, std::move(lp), nullptr));
      return out;
    }
    if (ev.finish_reason == FinishReason::kError) out.push_back(EngineErrorJson(ev.error));
    out.push_back(Chunk(job, c, ev.text_tail, nullptr, FinishReasonString(ev.finish_reason)));
    return out;
  }

  std::vector<nlohmann::json> Epilogue(const Job& job) const override {
    if (!job.request().include_usage) return {};
    nlohmann::json r = Base(job);
    r["choices"] = nlohmann::json::array();
    r["usage"] = UsageJson(job);
    return {r};
  }

 private:
  mutable std::vector<bool> echoed_;  // per choice of a stream: the echo chunk went out

  static nlohmann::json Base(const Job& job) {
    return {{"id", job.id()}, {"object", "text_completion"}, {"created", job.created()}, {"model", job.model_name()},
            {"system_fingerprint", "ax-engine"}};
  }

  static nlohmann::json Chunk(const Job& job, size_t c, const std::string& text, nlohmann::json logprobs,
                              nlohmann::json finish) {
    nlohmann::json r = Base(job);
    r["choices"] = nlohmann::json::array(
        {{{"index", c}, {"text", text}, {"logprobs", std::move(logprobs)}, {"finish_reason", std::move(finish)}}});
    if (job.request().include_usage) r["usage"] = nullptr;
    return r;
  }
};

}  // namespace

std::unique_ptr<Formatter> MakeCompletionFormatter() { return std::make_unique<CompletionFormatter>(); }

}  // namespace ax::server
