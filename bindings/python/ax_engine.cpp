// The ax_engine Python module: ax::Session (include/ax/session.h) for Python.
//
//   with ax_engine.Session(model_dir="models/ax-demo-qwen3", backend="cpu") as s:
//       out = s.generate([1, 2, 3], max_output_tokens=32)   # or a prompt string
//       out.output_tokens, out.text, out.finish_reason, out.metrics, out.choices
//       for chunk in s.stream("def f():", max_output_tokens=8): print(chunk.text, end="")
//       s.chat([{"role": "user", "content": "Hi"}], max_output_tokens=16)  # a model with a chat template
//       s.report["support_tier"]
//   ax_engine.Session(policy="llama_cpp", upstream_url="http://127.0.0.1:8081")  # llama-server
//
// Keyword arguments carry the C++ names and defaults: Session's are SessionConfig's
// (policy; EngineConfig's fields; UpstreamConfig's as upstream_*, LlamaCliConfig's as
// llama_cli_*), a request's are
// GenerateRequest's, SamplingOptions' and SessionOptions' (session_defaults() and
// request_defaults() list them, read from default-constructed C++ structs). Where a
// flat name would clash or a C++ field holds JSON text, the Python name says so:
// EngineConfig::policy is decode_policy, SessionOptions::tools_json is tools (a list,
// or tools_json as a str). Older spellings stay accepted: support_tier (policy),
// chat_template (chat_template_file), upstream_timeout (upstream_timeout_s). An unknown
// keyword raises ax_engine.Error naming it.
//
// The GIL is released while the engine or the upstream works, so other Python threads
// run (and may call cancel()). Failures raise ax_engine.Error carrying the Status text
// ("InvalidArgument: max_output_tokens: ...").
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <map>

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

[[noreturn]] void Invalid(const std::string& what) { throw AxError("InvalidArgument: " + what); }

// A keyword argument cast to T, or InvalidArgument naming it.
template <typename T>
T Cast(const std::string& name, const py::handle& v, const char* expected) {
  // bool is an int in Python: refuse it where a number is meant, and numbers where a bool is.
  if constexpr (std::is_same_v<T, bool>) {
    if (!py::isinstance<py::bool_>(v)) Invalid(name + ": expected " + expected);
  } else if constexpr (std::is_arithmetic_v<T>) {
    if (py::isinstance<py::bool_>(v)) Invalid(name + ": expected " + expected + ", got a bool");
  }
  try {
    return v.cast<T>();
  } catch (const py::cast_error&) {
    Invalid(name + ": expected " + expected + ", got " + py::str(py::type::of(v).attr("__name__")).cast<std::string>());
  }
}

std::string JsonText(const py::handle& v) { return py::module_::import("json").attr("dumps")(v).cast<std::string>(); }

// name → how its value is stored. Each table is built over one target object.
template <typename Target>
using Setters = std::map<std::string, std::function<void(Target*, const std::string&, const py::handle&)>>;

// Applies kwargs through `setters` (None leaves a field at its default).
template <typename Target>
void Apply(const Setters<Target>& setters, const py::kwargs& kwargs, Target* target, const char* where) {
  for (const auto& [k, v] : kwargs) {
    const std::string name = py::str(k).cast<std::string>();
    auto it = setters.find(name);
    if (it == setters.end()) {
      std::string known;
      for (const auto& [n, _] : setters) known += (known.empty() ? "" : ", ") + n;
      Invalid(std::string(where) + ": unknown keyword argument '" + name + "' (accepted: " + known + ")");
    }
    if (!v.is_none()) it->second(target, name, v);
  }
}

// ---- Session configuration ----------------------------------------------------------

const Setters<ax::SessionConfig>& ConfigSetters() {
  using C = ax::SessionConfig;
  static const Setters<C> s = [] {
    Setters<C> m;
    auto policy = [](C* c, const std::string& name, const py::handle& v) {
      c->policy = Take(ax::ParseResolutionPolicy(Cast<std::string>(name, v, "a str"), name));
    };
    m["policy"] = policy;
    m["support_tier"] = policy;  // the server's --support-tier
    auto engine = [](auto member, const char* expected) {
      return [member, expected](C* c, const std::string& name, const py::handle& v) {
        using T = std::remove_reference_t<decltype(c->engine.*member)>;
        c->engine.*member = Cast<T>(name, v, expected);
      };
    };
    using E = ax::EngineConfig;
    m["model_dir"] = engine(&E::model_dir, "a str");
    m["backend"] = engine(&E::backend, "'auto', 'cpu' or 'cuda'");
    m["threads"] = engine(&E::threads, "an int");
    m["precision"] = engine(&E::precision, "'auto', 'bf16' or 'f32'");
    m["ctx_size"] = engine(&E::ctx_size, "an int");
    m["kv_block_size"] = engine(&E::kv_block_size, "an int");
    m["max_batch_tokens"] = engine(&E::max_batch_tokens, "an int");
    m["max_seqs"] = engine(&E::max_seqs, "an int");
    m["kv_cache_mb"] = engine(&E::kv_cache_mb, "an int");
    m["prefix_caching"] = engine(&E::prefix_caching, "a bool");
    m["decode_policy"] = engine(&E::policy, "'ngram' or 'direct'");  // EngineConfig::policy
    m["max_draft_tokens"] = engine(&E::max_draft_tokens, "an int");
    m["generation_config"] = engine(&E::generation_config, "'auto' or 'none'");
    m["chat_template_file"] = engine(&E::chat_template_file, "a str (a Jinja file)");
    m["chat_template"] = m["chat_template_file"];
    auto upstream = [](auto member, const char* expected) {
      return [member, expected](C* c, const std::string& name, const py::handle& v) {
        using T = std::remove_reference_t<decltype(c->upstream.*member)>;
        c->upstream.*member = Cast<T>(name, v, expected);
      };
    };
    using U = ax::UpstreamConfig;
    m["upstream_url"] = upstream(&U::url, "a str ('http://host:port')");
    m["upstream_model"] = upstream(&U::model, "a str");
    m["upstream_api_key"] = upstream(&U::api_key, "a str");
    m["upstream_connect_timeout_s"] = upstream(&U::connect_timeout_s, "an int (seconds)");
    m["upstream_timeout_s"] = upstream(&U::timeout_s, "an int (seconds)");
    m["upstream_timeout"] = m["upstream_timeout_s"];
    auto cli = [](auto member, const char* expected) {
      return [member, expected](C* c, const std::string& name, const py::handle& v) {
        using T = std::remove_reference_t<decltype(c->llama_cli.*member)>;
        c->llama_cli.*member = Cast<T>(name, v, expected);
      };
    };
    using L = ax::LlamaCliConfig;
    m["llama_cli_binary"] = cli(&L::binary, "a str (a path to llama-completion)");
    m["llama_cli_gguf"] = cli(&L::gguf, "a str (a GGUF file)");
    m["llama_cli_threads"] = cli(&L::threads, "an int");
    m["llama_cli_ctx_size"] = cli(&L::ctx_size, "an int");
    m["llama_cli_extra_args"] = cli(&L::extra_args, "a list of str");
    return m;
  }();
  return s;
}

py::dict SessionDefaults() {
  const ax::SessionConfig c;
  const ax::EngineConfig& e = c.engine;
  const ax::UpstreamConfig& u = c.upstream;
  py::dict d;
  d["policy"] = ax::ResolutionPolicyName(c.policy);
  d["model_dir"] = py::none();
  d["backend"] = e.backend;
  d["threads"] = e.threads;
  d["precision"] = e.precision;
  d["ctx_size"] = e.ctx_size;
  d["kv_block_size"] = e.kv_block_size;
  d["max_batch_tokens"] = e.max_batch_tokens;
  d["max_seqs"] = e.max_seqs;
  d["kv_cache_mb"] = e.kv_cache_mb;
  d["prefix_caching"] = e.prefix_caching;
  d["decode_policy"] = e.policy;
  d["max_draft_tokens"] = e.max_draft_tokens;
  d["generation_config"] = e.generation_config;
  d["chat_template_file"] = py::none();
  d["upstream_url"] = py::none();
  d["upstream_model"] = py::none();
  d["upstream_api_key"] = py::none();
  d["upstream_connect_timeout_s"] = u.connect_timeout_s;
  d["upstream_timeout_s"] = u.timeout_s;
  d["llama_cli_binary"] = py::none();
  d["llama_cli_gguf"] = py::none();
  d["llama_cli_threads"] = c.llama_cli.threads;
  d["llama_cli_ctx_size"] = c.llama_cli.ctx_size;
  d["llama_cli_extra_args"] = c.llama_cli.extra_args;
  return d;
}

// ---- Requests -----------------------------------------------------------------------

struct RequestArgs {
  ax::GenerateRequest request;
  ax::SessionOptions options;
};

const Setters<RequestArgs>& RequestSetters() {
  using R = RequestArgs;
  static const Setters<R> s = [] {
    Setters<R> m;
    m["max_output_tokens"] = [](R* r, const std::string& name, const py::handle& v) {
      const auto n = Cast<int64_t>(name, v, "an int");
      if (n < 1) Invalid(name + ": expected at least 1, got " + std::to_string(n));
      r->request.max_tokens = n;
    };
    m["max_tokens"] = m["max_output_tokens"];
    auto req = [](auto member, const char* expected) {
      return [member, expected](R* r, const std::string& name, const py::handle& v) {
        using T = std::remove_reference_t<decltype(r->request.*member)>;
        r->request.*member = Cast<T>(name, v, expected);
      };
    };
    using G = ax::GenerateRequest;
    m["ignore_eos"] = req(&G::ignore_eos, "a bool");
    m["stop"] = [](R* r, const std::string& name, const py::handle& v) {
      if (py::isinstance<py::str>(v))
        r->request.stop = {v.cast<std::string>()};
      else
        r->request.stop = Cast<std::vector<std::string>>(name, v, "a str or a list of str");
    };
    m["stop_token_ids"] = req(&G::stop_token_ids, "a list of int");
    m["priority"] = req(&G::priority, "an int");
    m["decode_policy"] = req(&G::policy, "'direct' or 'ngram'");  // GenerateRequest::policy
    m["skip_special_tokens"] = req(&G::skip_special_tokens, "a bool");
    auto sampling = [](auto member, const char* expected) {
      return [member, expected](R* r, const std::string& name, const py::handle& v) {
        using T = std::remove_reference_t<decltype(r->request.sampling.*member)>;
        r->request.sampling.*member = Cast<T>(name, v, expected);
      };
    };
    using S = ax::SamplingOptions;
    m["temperature"] = sampling(&S::temperature, "a float");
    m["top_p"] = sampling(&S::top_p, "a float");
    m["top_k"] = sampling(&S::top_k, "an int");
    m["min_p"] = sampling(&S::min_p, "a float");
    m["repetition_penalty"] = sampling(&S::repetition_penalty, "a float");
    m["presence_penalty"] = sampling(&S::presence_penalty, "a float");
    m["frequency_penalty"] = sampling(&S::frequency_penalty, "a float");
    m["seed"] = [](R* r, const std::string& name, const py::handle& v) {
      // uint64 as C++ takes it; a negative int wraps as the server's int64 seed does.
      if (!PyLong_Check(v.ptr()) || py::isinstance<py::bool_>(v)) Invalid(name + ": expected an int");
      r->request.sampling.seed = PyLong_AsUnsignedLongLongMask(v.ptr());
    };
    using O = ax::SessionOptions;
    auto opt = [](auto member, const char* expected) {
      return [member, expected](R* r, const std::string& name, const py::handle& v) {
        using T = std::remove_reference_t<decltype(r->options.*member)>;
        r->options.*member = Cast<T>(name, v, expected);
      };
    };
    m["n"] = opt(&O::n, "an int");
    m["tools"] = [](R* r, const std::string& name, const py::handle& v) {
      if (!py::isinstance<py::list>(v)) Invalid(name + ": expected a list of tool dicts");
      r->options.tools_json = JsonText(v);
    };
    m["tools_json"] = opt(&O::tools_json, "a str (a JSON array)");
    m["tool_choice"] = [](R* r, const std::string&, const py::handle& v) { r->options.tool_choice_json = JsonText(v); };
    m["tool_choice_json"] = opt(&O::tool_choice_json, "a str (JSON)");
    m["parallel_tool_calls"] = [](R* r, const std::string& name, const py::handle& v) {
      r->options.parallel_tool_calls = Cast<bool>(name, v, "a bool");
    };
    m["reasoning_effort"] = opt(&O::reasoning_effort, "'none', 'minimal', 'low', 'medium' or 'high'");
    return m;
  }();
  return s;
}

py::dict RequestDefaults() {
  const RequestArgs a;
  const ax::GenerateRequest& g = a.request;
  const ax::SamplingOptions& s = g.sampling;
  const ax::SessionOptions& o = a.options;
  py::dict d;
  d["max_output_tokens"] = g.max_tokens;
  d["temperature"] = s.temperature;
  d["top_p"] = s.top_p;
  d["top_k"] = s.top_k;
  d["min_p"] = s.min_p;
  d["repetition_penalty"] = s.repetition_penalty;
  d["presence_penalty"] = s.presence_penalty;
  d["frequency_penalty"] = s.frequency_penalty;
  d["seed"] = s.seed;
  d["stop"] = g.stop;
  d["stop_token_ids"] = g.stop_token_ids;
  d["ignore_eos"] = g.ignore_eos;
  d["priority"] = g.priority;
  d["decode_policy"] = py::none();  // "": the engine's
  d["skip_special_tokens"] = g.skip_special_tokens;
  d["n"] = o.n;
  d["tools"] = py::none();
  d["tool_choice"] = py::none();
  d["parallel_tool_calls"] = py::none();
  d["reasoning_effort"] = py::none();
  return d;
}

RequestArgs ReadRequest(const py::kwargs& kwargs) {
  RequestArgs a;
  Apply(RequestSetters(), kwargs, &a, "request");
  return a;
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
    Invalid("prompt: expected a str or a list of token ids");
  }
  if (r->prompt_tokens.empty()) Invalid("prompt: the token list is empty");
}

// A tool call of a message: {"id", "name", "arguments"} or OpenAI's
// {"id", "type": "function", "function": {"name", "arguments"}}; arguments a str or
// a JSON-able object.
ax::ToolCall ReadToolCall(const std::string& where, const py::handle& h) {
  if (!py::isinstance<py::dict>(h)) Invalid(where + ": expected a dict");
  py::dict c = h.cast<py::dict>();
  py::dict f = c.contains("function") ? Cast<py::dict>(where + ".function", c["function"], "a dict") : c;
  ax::ToolCall t;
  if (c.contains("id")) t.id = Cast<std::string>(where + ".id", c["id"], "a str");
  if (!f.contains("name")) Invalid(where + ": expected a 'name' (or function.name)");
  t.name = Cast<std::string>(where + ".name", f["name"], "a str");
  if (f.contains("arguments")) {
    py::handle a = f["arguments"];
    t.arguments = py::isinstance<py::str>(a) ? a.cast<std::string>() : JsonText(a);
  }
  return t;
}

std::vector<ax::ChatMessage> Messages(const py::list& messages) {
  std::vector<ax::ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!py::isinstance<py::dict>(messages[i])) Invalid(where + ": expected a dict");
    py::dict m = messages[i].cast<py::dict>();
    if (!m.contains("role") || !m.contains("content"))
      Invalid(where + ": expected keys 'role' and 'content'");
    ax::ChatMessage msg;
    for (const auto& [k, v] : m) {
      const std::string key = py::str(k).cast<std::string>();
      const std::string at = where + "." + key;
      if (key == "role") msg.role = Cast<std::string>(at, v, "a str");
      else if (key == "content") msg.content = v.is_none() ? "" : Cast<std::string>(at, v, "a str or None");
      else if (key == "name") msg.name = Cast<std::string>(at, v, "a str");
      else if (key == "tool_call_id") msg.tool_call_id = Cast<std::string>(at, v, "a str");
      else if (key == "reasoning_content") msg.reasoning_content = Cast<std::string>(at, v, "a str");
      else if (key == "tool_calls") {
        if (!py::isinstance<py::list>(v)) Invalid(at + ": expected a list");
        py::list calls = v.cast<py::list>();
        for (size_t j = 0; j < calls.size(); ++j)
          msg.tool_calls.push_back(ReadToolCall(at + "[" + std::to_string(j) + "]", calls[j]));
      } else {
        Invalid(at + ": unknown key (accepted: role, content, name, tool_calls, tool_call_id, reasoning_content)");
      }
    }
    out.push_back(std::move(msg));
  }
  return out;
}

// ---- Results ------------------------------------------------------------------------

py::dict MetricsDict(const ax::RequestMetrics& m) {
  py::dict d;
  d["prompt_tokens"] = m.prompt_tokens;
  d["completion_tokens"] = m.completion_tokens;
  d["prefix_hit_tokens"] = m.prefix_hit_tokens;
  d["preemptions"] = m.preemptions;
  d["queue_seconds"] = m.queue_seconds;
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

py::list ToolCallList(const std::vector<ax::ToolCall>& calls) {
  py::list l;
  for (const ax::ToolCall& c : calls) {
    py::dict d;
    d["id"] = c.id;
    d["name"] = c.name;
    d["arguments"] = c.arguments;
    l.append(d);
  }
  return l;
}

struct PyChoice {
  std::string text, reasoning, finish_reason;
  std::vector<ax::ToolCall> tool_calls;
};

// The Python-side result: plain attributes. text, finish_reason, reasoning and
// tool_calls are choice 0's.
struct PyResult {
  std::vector<int32_t> output_tokens, prompt_tokens;
  std::string text, finish_reason;
  bool token_ids = true;
  std::vector<PyChoice> choices;
  ax::RequestMetrics metrics;
};

PyResult ToPy(const ax::SessionResult& r) {
  PyResult p{r.output_tokens, r.prompt_tokens, r.text, ax::FinishReasonName(r.finish_reason), r.token_ids, {},
             r.metrics};
  for (const ax::SessionChoice& c : r.choices)
    p.choices.push_back({c.text, c.reasoning, ax::FinishReasonName(c.finish_reason), c.tool_calls});
  return p;
}

struct PyChunk {
  int choice = 0;
  std::string text, reasoning;
  std::vector<ax::ToolCallPart> tool_calls;
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
    PyChunk p{c.choice, std::move(c.text_delta), std::move(c.reasoning_delta), std::move(c.tool_calls), c.token,
              c.finished, std::nullopt};
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
  explicit PySession(const py::kwargs& kwargs) {
    ax::SessionConfig c;
    Apply(ConfigSetters(), kwargs, &c, "Session");
    const std::string& b = c.engine.backend;
    if (b != "auto" && b != "cpu" && b != "cuda") Invalid("backend: expected 'auto', 'cpu' or 'cuda', got '" + b + "'");
    ax::Result<std::unique_ptr<ax::Session>> opened = ax::Status(ax::StatusCode::kInternal, "not opened");
    {
      py::gil_scoped_release release;
      opened = ax::Session::Open(c);
    }
    s_ = Take(std::move(opened));
  }

  PyResult Generate(const py::object& prompt, const py::kwargs& kwargs) {
    RequestArgs a = ReadRequest(kwargs);
    SetPrompt(prompt, &a.request);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return ToPy(Take(s.Generate(a.request, {}, a.options)));
  }

  PyStream Stream(const py::object& prompt, const py::kwargs& kwargs) {
    RequestArgs a = ReadRequest(kwargs);
    SetPrompt(prompt, &a.request);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return PyStream(Take(s.Stream(a.request, a.options)));
  }

  PyResult Chat(const py::list& messages, const py::kwargs& kwargs) {
    const auto msgs = Messages(messages);
    RequestArgs a = ReadRequest(kwargs);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return ToPy(Take(s.Chat(msgs, a.request, {}, a.options)));
  }

  PyStream StreamChat(const py::list& messages, const py::kwargs& kwargs) {
    const auto msgs = Messages(messages);
    RequestArgs a = ReadRequest(kwargs);
    ax::Session& s = Live();
    py::gil_scoped_release release;
    return PyStream(Take(s.StreamChat(msgs, a.request, a.options)));
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

constexpr const char* kSessionDoc =
    "Session(**config): opens a route (include/ax/session.h). Keywords, with session_defaults()' defaults:\n"
    "  policy: 'auto' | 'repo_owned' | 'openai_delegated' | 'llama_cpp' (support_tier is the same)\n"
    "  model_dir, backend, threads, precision, ctx_size, kv_block_size, max_batch_tokens, max_seqs,\n"
    "  kv_cache_mb, prefix_caching, decode_policy, max_draft_tokens, generation_config,\n"
    "  chat_template_file: EngineConfig (repo_owned, and auto when doctor accepts the model)\n"
    "  upstream_url, upstream_model, upstream_api_key, upstream_connect_timeout_s, upstream_timeout_s:\n"
    "  UpstreamConfig (openai_delegated, llama_cpp: llama-server's URL, auto's fallback)\n"
    "  llama_cli_binary, llama_cli_gguf, llama_cli_threads, llama_cli_ctx_size, llama_cli_extra_args:\n"
    "  LlamaCliConfig (llama_cpp without a server: a llama.cpp CLI binary run per choice on a GGUF file)";

constexpr const char* kRequestDoc =
    "Keywords (request_defaults()): max_output_tokens, temperature, top_p, top_k, min_p, repetition_penalty,\n"
    "presence_penalty, frequency_penalty, seed, stop, stop_token_ids, ignore_eos, priority, decode_policy,\n"
    "skip_special_tokens; n (choices); chat only: tools, tool_choice, parallel_tool_calls, reasoning_effort.";

}  // namespace

PYBIND11_MODULE(ax_engine, m) {
  m.doc() = "AX Engine: LLM inference sessions (repo-owned CPU/CUDA runtime, an OpenAI-compatible upstream or "
            "llama.cpp's llama-server)";
  py::register_exception<AxError>(m, "Error", PyExc_RuntimeError);
  m.def("session_defaults", &SessionDefaults, "Session's keyword arguments and their defaults (C++ SessionConfig's)");
  m.def("request_defaults", &RequestDefaults,
        "a request's keyword arguments and their defaults (C++ GenerateRequest's and SessionOptions')");

  py::class_<PyChoice>(m, "Choice")
      .def_readonly("text", &PyChoice::text)
      .def_readonly("reasoning", &PyChoice::reasoning, "chat: reasoning split from content ('' when none)")
      .def_readonly("finish_reason", &PyChoice::finish_reason)
      .def_property_readonly("tool_calls", [](const PyChoice& c) { return ToolCallList(c.tool_calls); },
                             "chat: [{'id', 'name', 'arguments'}]")
      .def("__repr__", [](const PyChoice& c) {
        return "Choice(finish_reason='" + c.finish_reason + "', text=" + py::repr(py::str(c.text)).cast<std::string>() +
               ")";
      });

  py::class_<PyResult>(m, "GenerateResult")
      .def_readonly("output_tokens", &PyResult::output_tokens, "choice 0's ids (empty when token_ids is False)")
      .def_readonly("prompt_tokens", &PyResult::prompt_tokens)
      .def_readonly("text", &PyResult::text, "choice 0's")
      .def_readonly("finish_reason", &PyResult::finish_reason, "choice 0's: 'stop', 'length', 'cancelled' or 'error'")
      .def_readonly("token_ids", &PyResult::token_ids, "False: the route returned text only (delegated)")
      .def_readonly("choices", &PyResult::choices, "every choice (n of them), choice 0 included")
      .def_property_readonly("reasoning", [](const PyResult& r) { return r.choices.empty() ? "" : r.choices[0].reasoning; })
      .def_property_readonly("tool_calls",
                             [](const PyResult& r) { return ToolCallList(r.choices.empty() ? std::vector<ax::ToolCall>{}
                                                                                           : r.choices[0].tool_calls); })
      .def_property_readonly("metrics", [](const PyResult& r) { return MetricsDict(r.metrics); })
      .def("__repr__", [](const PyResult& r) {
        return "GenerateResult(finish_reason='" + r.finish_reason + "', tokens=" + std::to_string(r.output_tokens.size()) +
               ", text=" + py::repr(py::str(r.text)).cast<std::string>() + ")";
      });

  py::class_<PyChunk>(m, "Chunk")
      .def_readonly("choice", &PyChunk::choice, "which of the n choices")
      .def_readonly("text", &PyChunk::text)
      .def_readonly("reasoning", &PyChunk::reasoning, "chat: reasoning text")
      .def_property_readonly(
          "tool_calls",
          [](const PyChunk& c) {
            py::list l;
            for (const ax::ToolCallPart& p : c.tool_calls) {
              py::dict d;
              d["index"] = p.index;
              d["id"] = p.id;
              d["name"] = p.name;
              d["arguments"] = p.arguments;
              l.append(d);
            }
            return l;
          },
          "chat: parts of tool calls [{'index', 'id', 'name', 'arguments'}]")
      .def_readonly("token", &PyChunk::token, "the token id, or None when the route gives text only")
      .def_readonly("finished", &PyChunk::finished)
      .def_readonly("finish_reason", &PyChunk::finish_reason);

  py::class_<PyStream>(m, "Stream")
      .def("__iter__", [](PyStream& s) -> PyStream& { return s; })
      .def("__next__", &PyStream::Next)
      .def("cancel", &PyStream::Cancel)
      .def("result", &PyStream::Result, "the whole answer so far (complete once iteration ended)");

  py::class_<PySession>(m, "Session", kSessionDoc)
      .def(py::init([](const py::kwargs& kwargs) { return std::make_unique<PySession>(kwargs); }))
      .def("__enter__", [](PySession& s) -> PySession& { return s; })
      .def("__exit__", [](PySession& s, const py::object&, const py::object&, const py::object&) { s.Close(); })
      .def("close", &PySession::Close)
      .def("cancel", &PySession::Cancel, "cancels every request of this session still running")
      .def_property_readonly("report", &PySession::Report,
                             "the runtime report: selected_backend, support_tier, resolution_policy, "
                             "resolution_reason, model_id, weight_format, token_ids, throughput_is_ours, ...")
      .def("generate", &PySession::Generate, py::arg("prompt"),
           (std::string("a completion of a prompt string or a list of token ids. ") + kRequestDoc).c_str())
      .def("stream", &PySession::Stream, py::arg("prompt"),
           (std::string("an iterator of Chunk. ") + kRequestDoc).c_str())
      .def("chat", &PySession::Chat, py::arg("messages"),
           (std::string("messages ([{'role', 'content', ...}]) through the chat template or the upstream. ") +
            kRequestDoc).c_str())
      .def("stream_chat", &PySession::StreamChat, py::arg("messages"),
           (std::string("an iterator of Chunk of a chat. ") + kRequestDoc).c_str());
}
