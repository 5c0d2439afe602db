// The llama_cpp route's completions: llama.cpp's llama-server answers POST /completion
// with the ids it generated ("return_tokens": true), blocking or as SSE events of one
// id each:
//
//   {"content": " upon", "tokens": [2402], "stop": false, ...}            (streamed)
//   {"content": "", "tokens": [], "stop": true, "stop_type": "limit",
//    "tokens_predicted": 24, "tokens_evaluated": 5, "timings": {...}}    (the last)
//
// A blocking answer is the last event with the whole content and every id. Streamed,
// llama-server holds back the text of an id that ends inside a UTF-8 sequence and sends
// it with the next event, whose "tokens" has only that event's own id: the held one is
// never sent. tokens_predicted (ids generated so far) shows the gap, and the route then
// says the answer has no ids rather than give an incomplete list (delegated_stream.h).
// Chats go through llama-server's /v1/chat/completions (session_delegated.cpp).
#include "api/delegated_stream.h"

namespace ax {
namespace {

// stop_type: "limit" (n_predict reached), "eos", "word" (a stop string), "none".
FinishReason LlamaFinish(const nlohmann::json& j) {
  auto t = j.find("stop_type");
  return t != j.end() && t->is_string() && *t == "limit" ? FinishReason::kLength : FinishReason::kStop;
}

// ids_seen: the ids read so far from this answer's events.
Status ReadLlamaCompletion(const nlohmann::json& j, int64_t* ids_seen, std::vector<ChoicePart>* parts,
                           RequestMetrics* usage) {
  ChoicePart p;
  auto content = j.find("content");
  if (content == j.end() || !content->is_string())
    return Unavailable("the answer is not llama-server's /completion shape (no \"content\"): " +
                       j.dump().substr(0, 200));
  p.text = content->get<std::string>();
  if (auto t = j.find("tokens"); t != j.end() && t->is_array())
    for (const auto& id : *t) {
      if (!id.is_number_integer()) return Unavailable("\"tokens\" holds a non-integer: " + t->dump().substr(0, 200));
      p.tokens.push_back(id.get<int32_t>());
    }
  *ids_seen += static_cast<int64_t>(p.tokens.size());
  if (auto n = j.find("tokens_predicted"); n != j.end() && n->is_number_integer() && n->get<int64_t>() > *ids_seen)
    p.ids_left_out = true;
  if (j.value("stop", false)) {
    p.finish = LlamaFinish(j);
    usage->prompt_tokens = j.value("tokens_evaluated", usage->prompt_tokens);
    usage->completion_tokens = j.value("tokens_predicted", usage->completion_tokens);
  }
  parts->push_back(std::move(p));
  return Status::Ok();
}

}  // namespace

Result<UpstreamCall> LlamaCompletionCall(const GenerateRequest& r, const SessionOptions& extra, bool streaming,
                                         int64_t n_ctx) {
  if (extra.n != 1)  // Start sends n requests of one choice each
    return InvalidArgument("n: llama-server's /completion gives one choice per request; expected 1 here");
  for (const auto& [name, set] : {std::pair<const char*, bool>{"tools", !extra.tools_json.empty()},
                                  {"tool_choice", !extra.tool_choice_json.empty()},
                                  {"parallel_tool_calls", extra.parallel_tool_calls.has_value()},
                                  {"reasoning_effort", !extra.reasoning_effort.empty()}})
    if (set) return InvalidArgument(std::string(name) + ": chat only (a completion has no tools or reasoning)");
  const SamplingOptions& s = r.sampling;
  // Ours penalise every token seen; llama.cpp's penalties look back repeat_last_n ids
  // (0: off), so the window is the whole context, which /v1/models told.
  const bool penalised = s.repetition_penalty != 1.0 || s.presence_penalty != 0.0 || s.frequency_penalty != 0.0;
  if (penalised && n_ctx <= 0)
    return InvalidArgument(
        "repetition_penalty: llama-server did not give its context size (GET /v1/models: data[0].meta.n_ctx), the "
        "window its penalties need to see every token as ours do");
  // Every sampling field explicit, in llama.cpp's names, so that llama-server's own
  // defaults (top_k 40, top_p 0.95, min_p 0.05, ...) never stand in for ours.
  nlohmann::json body = {
      {"n_predict", r.max_tokens > 0 ? r.max_tokens : -1},  // -1: until EOS or the context is full
      {"temperature", s.temperature},
      {"top_p", s.top_p},
      {"top_k", s.top_k},  // 0: off, as ours
      {"min_p", s.min_p},
      {"repeat_penalty", s.repetition_penalty},
      {"repeat_last_n", penalised ? n_ctx : 0},
      {"presence_penalty", s.presence_penalty},
      {"frequency_penalty", s.frequency_penalty},
      {"seed", static_cast<int64_t>(s.seed & 0xffffffffu)},  // llama.cpp's seed is 32-bit
      {"return_tokens", true},
  };
  if (r.prompt_text)
    body["prompt"] = *r.prompt_text;
  else if (!r.prompt_tokens.empty())
    body["prompt"] = r.prompt_tokens;  // exact ids: llama-server adds none
  else
    return InvalidArgument("prompt: expected prompt_text or prompt_tokens");
  if (!r.stop.empty()) body["stop"] = r.stop;
  if (r.ignore_eos) body["ignore_eos"] = true;
  UpstreamCall call;
  call.path = "/completion";
  call.body = std::move(body);
  call.streaming = streaming;
  call.token_ids = true;
  call.ask_for_stream = [](nlohmann::json* b) { (*b)["stream"] = true; };
  call.read = [ids_seen = std::make_shared<int64_t>(0)](const nlohmann::json& j, std::vector<ChoicePart>* parts,
                                                        RequestMetrics* usage) {
    return ReadLlamaCompletion(j, ids_seen.get(), parts, usage);
  };
  return call;
}

}  // namespace ax
