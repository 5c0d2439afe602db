// The ax_engine Python module: ax::Session (include/ax/session.h) for Python.
//
//   with ax_engine.Session(model_dir="models/ax-demo-qwen3", backend="cpu") as s:
//       out = s.generate([1, 2, 3], max_output_tokens=32)   # or a prompt string
//       out.output_tokens, out.text, out.finish_reason, out.metrics
//       for chunk in s.stream("def f():", max_output_tokens=8): print(chunk.text, end="")
//       s.chat([{"role": "user", "content": "Hi"}], max_output_tokens=16)  # a model with a chat template
//       s.report["support_tier"]
//
// The GIL is released while the engine or the upstream works, so other Python threads
// run (and may call cancel()). Failures raise ax_engine.Error carrying the Status text
// ("InvalidArgument: max_output_tokens: ...").
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ax/session.h"

namespace py = pybind11;

namespace {

struct AxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const ax::Status& s) {
  if (!s.ok()) throw AxError(s.ToString());
}

template <typename T>
T Take(ax::Result<T> r) {
  Check(r.status());
  return std::move(r).value();
}

py::dict MetricsDict(const ax::RequestMetrics& m) {
  py::dict d;
  d["prompt_tokens"] = m.prompt_tokens;
  d["completion_tokens"] = m.completion_tokens;
  d["prefix_hit_tokens"] = m.prefix_hit_tokens;
  d["ttft_seconds"] = m.ttft_seconds;
  d["total_seconds"] = m.total_seconds;
  d["policy"] = m.policy;
  d["forwards"] = m.forwards;
  d["draft_tokens_proposed"] = m.draft_tokens_proposed;
  d["draft_tokens_accepted"] = m.draft_tokens_accepted;
  return d;
}

py::dict ReportDict(const ax::RuntimeReport& r) {
  py::dict d;
  d["selected_backend"] = r.selected_backend;
  d["support_tier"] = ax::SupportTierName(r.support_tier);
  d["resolution_policy"] = ax::ResolutionPolicyName(r.resolution_policy);
  d["resolution_reason"] = r.resolution_reason;
  d["backend_detail"] = r.backend_detail;
  d["model_id"] = r.model_id;
  d["model_dir"] = r.model_dir;
  d["architecture"] = r.architecture;
  d["family"] = r.family;
  d["weight_format"] = r.weight_format;
  d["upstream_url"] = r.upstream_url;
  d["token_ids"] = r.token_ids;
  d["throughput_is_ours"] = r.throughput_is_ours;
  return d;
}

// The Python-side result: plain attributes.
struct PyResult {
  std::vector<int32_t> output_tokens, prompt_tokens;
  std::string text, finish_reason;
  bool token_ids = true;
  ax::RequestMetrics metrics;
};

PyResult ToPy(const ax::SessionResult& r) {
  return {r.output_tokens, r.prompt_tokens, r.text, ax::FinishReasonName(r.finish_reason), r.token_ids, r.metrics};
}

ax::GenerateRequest Options(int64_t max_output_tokens, double temperature, double top_p, int64_t top_k, double min_p,
                            double repetition_penalty, uint64_t seed, const std::vector<std::string>& stop,
                            bool ignore_eos) {
  if (max_output_tokens < 1) throw AxError("InvalidArgument: max_output_tokens: expected at least 1, got " +
                                           std::to_string(max_output_tokens));
  ax::GenerateRequest r;
  r.max_tokens = max_output_tokens;
  r.sampling.temperature = temperature;
  r.sampling.top_p = top_p;
  r.sampling.top_k = top_k;
  r.sampling.min_p = min_p;
  r.sampling.repetition_penalty = repetition_penalty;
  r.sampling.seed = seed;
  r.stop = stop;
  r.ignore_eos = ignore_eos;
  return r;
}

// `prompt`: a str (encoded with the tokenizer's special tokens) or a list of token ids.
void SetPrompt(const py::object& prompt, ax::GenerateRequest* r) {
  if (py::isinstance<py::str>(prompt)) {
    r->prompt_text = prompt.cast<std::string>();
    return;
  }
  try {
    r->prompt_tokens = prompt.cast<std::vector<int32_t>>();
  } catch (const py::cast_error&) {
    throw AxError("InvalidArgument: prompt: expected a str or a list of token ids");
  }
  if (r->prompt_tokens.empty()) throw AxError("InvalidArgument: prompt: the token list is empty");
}

std::vector<ax::ChatMessage> Messages(const py::list& messages) {
  std::vector<ax::ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!py::isinstance<py::dict>(messages[i])) throw AxError("InvalidArgument: " + where + ": expected a dict");
    py::dict m = messages[i].cast<py::dict>();
    if (!m.contains("role") || !m.contains("content"))
      throw AxError("InvalidArgument: " + where + ": expected keys 'role' and 'content'");
    out.push_back({m["role"].cast<std::string>(), m["content"].cast<std::string>()});
  }
  return out;
}

struct PyChunk {
  std::string text;
  std::optional<int32_t> token;
  bool finished = false;
  std::optional<std::string> finish_reason;
};

class PyStream {
 public:
  explicit PyStream(std::shared_ptr<ax::SessionStream> s) : s_(std::move(s)) {}
  PyChunk Next() {
    ax::SessionChunk c;
    bool got;
    {
      py::gil_scoped_release release;
      got = s_->Next(&c);
    }
    if (!got) {
      Check(s_->status());
      throw py::stop_iteration();
    }
    PyChunk p{std::move(c.text_delta), c.token, c.finished, std::nullopt};
    if (c.finished) p.finish_reason = ax::FinishReasonName(c.finish_reason);
    return p;
  }
  void Cancel() { s_->Cancel(); }
  PyResult Result() const { return ToPy(s_->result()); }

 private:
  std::shared_ptr<ax::SessionStream> s_;
};

class PySession {
 public:
  PySession(const std::optional<std::string>& model_dir, const std::string& backend, const std::string& support_tier,
            const std::optional<std::string>& upstream_url, const std::optional<std::string>& upstream_model,
            const std::optional<std::string>& upstream_api_key, int upstream_timeout, int threads, int64_t ctx_size,
            int max_seqs, const std::optional<std::string>& chat_template) {
    if (backend != "auto" && backend != "cpu" && backend != "cuda")
      throw AxError("InvalidArgument: backend: expected 'auto', 'cpu' or 'cuda', got '" + backend + "'");
    ax::SessionConfig c;
    c.policy = Take(ax::ParseResolutionPolicy(support_tier, "support_tier"));
    c.engine.model_dir = model_dir.value_or("");
    c.engine.backend = backend;
    c.engine.threads = threads;
    c.engine.ctx_size = ctx_size;
    c.engine.max_seqs = max_seqs;
    c.engine.chat_template_file = chat_template.value_or("");
    c.upstream.url = upstream_url.value_or("");
    c.upstream.model = upstream_model.value_or("");
    c.upstream.api_key = upstream_api_key.value_or("");
    c.upstream.timeout_s = upstream_timeout;
    ax::Result<std::unique_ptr<ax::Session>> opened = ax::Status(ax::StatusCode::kInternal, "not opened");
    {
      py::gil_scoped_release release;
      opened = ax::Session::Open(c);
    }
    s_ = Take(std::move(opened));
  }

  PyResult Generate(const py::object& prompt, const ax::GenerateRequest& options) {
    ax::GenerateRequest r = options;
    SetPrompt(prompt, &r);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return ToPy(Take(s.Generate(r)));
  }

  PyStream Stream(const py::object& prompt, const ax::GenerateRequest& options) {
    ax::GenerateRequest r = options;
    SetPrompt(prompt, &r);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return PyStream(Take(s.Stream(r)));
  }

  PyResult Chat(const py::list& messages, const ax::GenerateRequest& options) {
    const auto msgs = Messages(messages);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return ToPy(Take(s.Chat(msgs, options)));
  }

  PyStream StreamChat(const py::list& messages, const ax::GenerateRequest& options) {
    const auto msgs = Messages(messages);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return PyStream(Take(s.StreamChat(msgs, options)));
  }

  void Cancel() {
    if (s_) s_->CancelAll();
  }
  py::dict Report() { return ReportDict(Live().report()); }
  // Stops the engine (or drops the upstream connection pool) now, not at garbage collection.
  void Close() {
    if (!s_) return;
    py::gil_scoped_release release;
    s_->CancelAll();
    s_.reset();
  }

 private:
  ax::Session& Live() {
    if (!s_) throw AxError("FailedPrecondition: the session is closed");
    return *s_;
  }
  std::unique_ptr<ax::Session> s_;
};

}  // namespace

// A Python method over PySession::*Method(input, options): the input (a prompt or the
// messages) and the keyword sampling arguments of AX_SAMPLING_ARGS, in that order.
template <auto Method, typename Input>
auto WithSampling() {
  return [](PySession& s, const Input& input, int64_t max_output_tokens, double temperature, double top_p,
            int64_t top_k, double min_p, double repetition_penalty, uint64_t seed,
            const std::vector<std::string>& stop, bool ignore_eos) {
    return (s.*Method)(input, Options(max_output_tokens, temperature, top_p, top_k, min_p, repetition_penalty, seed,
                                      stop, ignore_eos));
  };
}

PYBIND11_MODULE(ax_engine, m) {
  m.doc() = "AX Engine: LLM inference sessions (repo-owned CPU/CUDA runtime or an OpenAI-compatible upstream)";
  py::register_exception<AxError>(m, "Error", PyExc_RuntimeError);

  py::class_<PyResult>(m, "GenerateResult")
      .def_readonly("output_tokens", &PyResult::output_tokens, "generated ids (empty when token_ids is False)")
      .def_readonly("prompt_tokens", &PyResult::prompt_tokens)
      .def_readonly("text", &PyResult::text)
      .def_readonly("finish_reason", &PyResult::finish_reason, "'stop', 'length', 'cancelled' or 'error'")
      .def_readonly("token_ids", &PyResult::token_ids, "False: the route returned text only (delegated)")
      .def_property_readonly("metrics", [](const PyResult& r) { return MetricsDict(r.metrics); })
      .def("__repr__", [](const PyResult& r) {
        return "GenerateResult(finish_reason='" + r.finish_reason + "', tokens=" + std::to_string(r.output_tokens.size()) +
               ", text=" + py::repr(py::str(r.text)).cast<std::string>() + ")";
      });

  py::class_<PyChunk>(m, "Chunk")
      .def_readonly("text", &PyChunk::text)
      .def_readonly("token", &PyChunk::token, "the token id, or None when the route gives text only")
      .def_readonly("finished", &PyChunk::finished)
      .def_readonly("finish_reason", &PyChunk::finish_reason);

  py::class_<PyStream>(m, "Stream")
      .def("__iter__", [](PyStream& s) -> PyStream& { return s; })
      .def("__next__", &PyStream::Next)
      .def("cancel", &PyStream::Cancel)
      .def("result", &PyStream::Result, "the whole answer so far (complete once iteration ended)");

#define AX_SAMPLING_ARGS                                                                                 \
  py::kw_only(), py::arg("max_output_tokens") = 128, py::arg("temperature") = 0.0, py::arg("top_p") = 1.0, \
      py::arg("top_k") = 0, py::arg("min_p") = 0.0, py::arg("repetition_penalty") = 1.0, py::arg("seed") = 0, \
      py::arg("stop") = std::vector<std::string>{}, py::arg("ignore_eos") = false

  py::class_<PySession>(m, "Session")
      .def(py::init<const std::optional<std::string>&, const std::string&, const std::string&,
                    const std::optional<std::string>&, const std::optional<std::string>&,
                    const std::optional<std::string>&, int, int, int64_t, int, const std::optional<std::string>&>(),
           py::kw_only(), py::arg("model_dir") = py::none(), py::arg("backend") = "auto",
           py::arg("support_tier") = "auto", py::arg("upstream_url") = py::none(),
           py::arg("upstream_model") = py::none(), py::arg("upstream_api_key") = py::none(),
           py::arg("upstream_timeout") = 300, py::arg("threads") = 0, py::arg("ctx_size") = 0, py::arg("max_seqs") = 4,
           py::arg("chat_template") = py::none(),
           "Opens a model directory (support_tier 'repo_owned' or 'auto') or an OpenAI-compatible upstream "
           "('openai_delegated', or 'auto' when doctor refuses the model).")
      .def("__enter__", [](PySession& s) -> PySession& { return s; })
      .def("__exit__", [](PySession& s, const py::object&, const py::object&, const py::object&) { s.Close(); })
      .def("close", &PySession::Close)
      .def("cancel", &PySession::Cancel, "cancels every request of this session still running")
      .def_property_readonly("report", &PySession::Report)
      .def("generate", WithSampling<&PySession::Generate, py::object>(), py::arg("prompt"), AX_SAMPLING_ARGS,
           "a completion of a prompt string or a list of token ids")
      .def("stream", WithSampling<&PySession::Stream, py::object>(), py::arg("prompt"), AX_SAMPLING_ARGS,
           "an iterator of Chunk")
      .def("chat", WithSampling<&PySession::Chat, py::list>(), py::arg("messages"), AX_SAMPLING_ARGS,
           "messages ([{'role', 'content'}]) through the chat template")
      .def("stream_chat", WithSampling<&PySession::StreamChat, py::list>(), py::arg("messages"), AX_SAMPLING_ARGS);
#undef AX_SAMPLING_ARGS
}
