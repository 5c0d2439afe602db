"""ax_engine's keyword arguments are include/ax/session.h's (SessionConfig, GenerateRequest,
SessionOptions) with the same names and defaults, and every route and policy is reachable:
repo_owned and auto on the demo model, openai_delegated and auto's fallback through a real
upstream (an ax-engine-server), llama_cpp through a real llama-server when one is given."""
import os
import tempfile

import pytest

import ax_engine
from conftest import DEMO, PLAIN_TEMPLATE

PROMPT = "def read_lines(path):\n"
REPORT_FIELDS = {"selected_backend", "support_tier", "resolution_policy", "resolution_reason", "backend_detail",
                 "model_id", "model_dir", "architecture", "family", "weight_format", "upstream_url", "token_ids",
                 "throughput_is_ours"}


@pytest.fixture(scope="module")
def local():
    with ax_engine.Session(model_dir=DEMO, backend="cpu", threads=1, chat_template_file=PLAIN_TEMPLATE) as s:
        yield s


@pytest.fixture(scope="module")
def unsupported_dir():
    with tempfile.TemporaryDirectory(prefix="ax-py-mamba-") as d:
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write('{"architectures": ["MambaForCausalLM"], "model_type": "mamba", "hidden_size": 64,'
                    ' "num_hidden_layers": 2, "vocab_size": 256}')
        yield d


def test_defaults_are_the_cpp_structs():
    d = ax_engine.session_defaults()
    # SessionConfig{}: policy auto; EngineConfig{}; UpstreamConfig{}.
    assert d["policy"] == "auto"
    assert (d["backend"], d["threads"], d["precision"], d["ctx_size"]) == ("auto", 0, "auto", 0)
    assert (d["kv_block_size"], d["max_batch_tokens"], d["max_seqs"], d["kv_cache_mb"]) == (16, 512, 16, 0)
    assert (d["prefix_caching"], d["decode_policy"], d["max_draft_tokens"]) == (True, "ngram", 4)
    assert d["generation_config"] == "auto"
    assert (d["upstream_connect_timeout_s"], d["upstream_timeout_s"]) == (10, 300)
    r = ax_engine.request_defaults()
    assert (r["max_output_tokens"], r["temperature"], r["top_p"], r["top_k"], r["min_p"]) == (128, 0.0, 1.0, 0, 0.0)
    assert (r["repetition_penalty"], r["presence_penalty"], r["frequency_penalty"], r["seed"]) == (1.0, 0.0, 0.0, 0)
    assert (r["n"], r["ignore_eos"], r["skip_special_tokens"]) == (1, False, True)
    # Every default is accepted back as a keyword.
    with ax_engine.Session(**{**d, "model_dir": DEMO, "backend": "cpu", "threads": 1}) as s:
        out = s.generate(PROMPT, **{**r, "max_output_tokens": 2})
        assert len(out.output_tokens) == 2


def test_keywords_are_checked_by_name(local):
    with pytest.raises(ax_engine.Error, match="unknown keyword argument 'max_seq'"):
        ax_engine.Session(model_dir=DEMO, max_seq=2)
    with pytest.raises(ax_engine.Error, match="unknown keyword argument 'temprature'"):
        local.generate(PROMPT, temprature=0.5)
    with pytest.raises(ax_engine.Error, match="threads: expected an int"):
        ax_engine.Session(model_dir=DEMO, threads="two")
    with pytest.raises(ax_engine.Error, match="top_k: expected an int"):
        local.generate(PROMPT, top_k=1.5)
    with pytest.raises(ax_engine.Error, match="policy: expected repo_owned, openai_delegated, llama_cpp or auto"):
        ax_engine.Session(model_dir=DEMO, policy="mlx")
    with pytest.raises(ax_engine.Error, match="messages\\[0\\].colour: unknown key"):
        local.chat([{"role": "user", "content": "x", "colour": "red"}])


def test_engine_options_reach_the_engine():
    with ax_engine.Session(model_dir=DEMO, backend="cpu", threads=1, decode_policy="direct", max_seqs=2,
                           ctx_size=256, prefix_caching=False) as s:
        out = s.generate(PROMPT, max_output_tokens=8)
        assert out.metrics["policy"] == "direct"
        assert out.metrics["draft_tokens_proposed"] == 0
        with pytest.raises(ax_engine.Error, match="prompt"):  # longer than ctx_size 256
            s.generate(list(range(3, 300)), max_output_tokens=4)
    with pytest.raises(ax_engine.Error, match="precision"):
        ax_engine.Session(model_dir=DEMO, backend="cpu", precision="fp8")


def test_request_options_reach_the_request(local):
    base = local.generate(PROMPT, max_output_tokens=12, temperature=0.9, seed=11)
    # presence/frequency penalties change the sampled text; stop_token_ids end it.
    pen = local.generate(PROMPT, max_output_tokens=12, temperature=0.9, seed=11, presence_penalty=2.0,
                         frequency_penalty=2.0, repetition_penalty=1.5)
    assert pen.output_tokens != base.output_tokens
    stopped = local.generate(PROMPT, max_output_tokens=12, temperature=0.9, seed=11,
                             stop_token_ids=[base.output_tokens[3]])
    assert stopped.finish_reason == "stop" and len(stopped.output_tokens) <= 4
    assert local.generate(PROMPT, max_output_tokens=6, decode_policy="direct").metrics["policy"] == "direct"
    # seed is C++'s uint64: 2**64 - 1 is accepted, and -1 is the same seed (the server's int64 wraps).
    assert (local.generate(PROMPT, max_output_tokens=6, temperature=0.9, seed=2**64 - 1).output_tokens ==
            local.generate(PROMPT, max_output_tokens=6, temperature=0.9, seed=-1).output_tokens)


def test_repo_owned_report_and_session_options(local):
    r = local.report
    assert REPORT_FIELDS <= set(r)
    assert (r["support_tier"], r["selected_backend"], r["resolution_policy"]) == ("repo_owned", "cpu", "auto")
    assert r["model_id"] == "ax-demo-qwen3" and r["family"] == "qwen3"
    assert r["weight_format"]  # "BF16", ...
    assert r["token_ids"] is True and r["throughput_is_ours"] is True
    with pytest.raises(ax_engine.Error, match="^InvalidArgument: n: "):
        local.generate(PROMPT, max_output_tokens=2, n=2)  # repo_owned takes 1 (the server's routes serve more)
    out = local.generate(PROMPT, max_output_tokens=4)
    assert len(out.choices) == 1 and out.choices[0].text == out.text
    assert out.reasoning == "" and out.tool_calls == []


def test_policies_repo_owned_and_auto(unsupported_dir, upstream):
    with pytest.raises(ax_engine.Error, match="doctor:.*MambaForCausalLM"):
        ax_engine.Session(model_dir=unsupported_dir, policy="repo_owned")
    with pytest.raises(ax_engine.Error, match="no upstream.url"):
        ax_engine.Session(model_dir=unsupported_dir, policy="auto")
    with ax_engine.Session(model_dir=unsupported_dir, policy="auto", upstream_url=upstream) as s:
        r = s.report
        assert (r["support_tier"], r["resolution_policy"]) == ("openai_delegated", "auto")
        assert "doctor:" in r["resolution_reason"] and "delegated to" in r["resolution_reason"]
        assert r["model_id"] == "ax-demo-qwen3"  # the upstream's model id
        assert r["weight_format"] == ""  # unknown here
        assert r["throughput_is_ours"] is False
    # A model doctor accepts stays here even with an upstream configured.
    with ax_engine.Session(model_dir=DEMO, backend="cpu", threads=1, policy="auto", upstream_url=upstream) as s:
        assert s.report["support_tier"] == "repo_owned"
    # The older spelling of policy.
    with ax_engine.Session(support_tier="openai_delegated", upstream_url=upstream) as s:
        assert s.report["resolution_policy"] == "openai_delegated"
    with pytest.raises(ax_engine.Error, match="upstream.url: required by resolution policy llama_cpp"):
        ax_engine.Session(policy="llama_cpp")


def test_delegated_n_choices_and_upstream_options(upstream):
    with ax_engine.Session(policy="openai_delegated", upstream_url=upstream + "/v1", upstream_timeout_s=30,
                           upstream_connect_timeout_s=5) as s:
        assert s.report["upstream_url"] == upstream
        out = s.generate(PROMPT, max_output_tokens=10, temperature=0.9, seed=3, n=3)
        assert len(out.choices) == 3 and out.text == out.choices[0].text
        assert len({c.text for c in out.choices}) == 3
        texts = ["", "", ""]
        finished = [0, 0, 0]
        for c in s.stream(PROMPT, max_output_tokens=10, temperature=0.9, seed=3, n=3):
            texts[c.choice] += c.text
            finished[c.choice] += c.finished
        assert texts == [c.text for c in out.choices]
        assert finished == [1, 1, 1]
        with pytest.raises(ax_engine.Error, match="n: expected 1 to 128"):
            s.generate(PROMPT, n=0)


def test_delegated_chat_options_are_forwarded(upstream):
    with ax_engine.Session(policy="openai_delegated", upstream_url=upstream) as s:
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
        # The upstream judges tool_choice: a function it was not given is its 400, passed on.
        with pytest.raises(ax_engine.Error, match="nope"):
            s.chat([{"role": "user", "content": "Hi"}], max_output_tokens=4, tools=tools,
                   tool_choice={"type": "function", "function": {"name": "nope"}})
        with pytest.raises(ax_engine.Error, match="tools: chat only"):
            s.generate(PROMPT, tools=tools)
        with pytest.raises(ax_engine.Error, match="reasoning_effort"):
            s.chat([{"role": "user", "content": "Hi"}], reasoning_effort="extreme")
        # A whole tool turn (the call, its result) is accepted and sent on.
        msgs = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": None, "reasoning_content": "Look it up.",
                 "tool_calls": [{"id": "call_1", "type": "function",
                                 "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "sunny"}]
        out = s.chat(msgs, max_output_tokens=4, tools=tools, tool_choice="auto", parallel_tool_calls=False)
        assert out.finish_reason in ("stop", "length")


LLAMA_SERVER = os.environ.get("AX_LLAMA_SERVER")
LLAMA_GGUF = os.environ.get("AX_LLAMA_GGUF")


@pytest.fixture(scope="module")
def llama_server():
    """llama.cpp's llama-server on stories260K's GGUF (scripts/llama_cpp/record_run.sh makes both)."""
    import socket
    import subprocess
    import time
    import urllib.request
    if not LLAMA_SERVER or not os.path.exists(LLAMA_SERVER):
        pytest.skip("no llama-server (set AX_LLAMA_SERVER)")
    if not LLAMA_GGUF or not os.path.exists(LLAMA_GGUF):
        pytest.skip("no stories260K GGUF (set AX_LLAMA_GGUF)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([LLAMA_SERVER, "-m", LLAMA_GGUF, "--host", "127.0.0.1", "--port", str(port), "-c", "512",
                             "-np", "1", "-t", "1", "--no-webui"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(url + "/health", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_llama_cpp_route(llama_server):
    with ax_engine.Session(policy="llama_cpp", upstream_url=llama_server) as s:
        r = s.report
        assert (r["support_tier"], r["selected_backend"], r["resolution_policy"]) == ("llama_cpp", "llama_cpp",
                                                                                      "llama_cpp")
        assert r["token_ids"] is True and r["throughput_is_ours"] is False
        prompt = [1, 403, 407, 261, 378]
        out = s.generate(prompt, max_output_tokens=8, ignore_eos=True)
        assert out.token_ids and len(out.output_tokens) == 8
        # n > 1: n requests, choice i seeded seed + i, so it equals a request of n 1 with seed + i.
        many = s.generate(prompt, max_output_tokens=8, temperature=1.0, seed=5, n=3, ignore_eos=True)
        assert len(many.choices) == 3
        for i, c in enumerate(many.choices):
            assert c.text == s.generate(prompt, max_output_tokens=8, temperature=1.0, seed=5 + i, ignore_eos=True).text
        assert many.output_tokens == s.generate(prompt, max_output_tokens=8, temperature=1.0, seed=5,
                                                ignore_eos=True).output_tokens
        assert many.metrics["completion_tokens"] == 24
        texts = ["", "", ""]
        for c in s.stream(prompt, max_output_tokens=8, temperature=1.0, seed=5, n=3, ignore_eos=True):
            texts[c.choice] += c.text
        assert texts == [c.text for c in many.choices]


def test_llama_cpp_cli_variant():
    """llama_cpp without a server: a llama.cpp CLI binary (llama-completion) per choice."""
    binary, gguf = os.environ.get("AX_LLAMA_CLI"), LLAMA_GGUF
    if not binary or not os.path.exists(binary):
        pytest.skip("no llama.cpp CLI binary (set AX_LLAMA_CLI to llama-completion)")
    if not gguf or not os.path.exists(gguf):
        pytest.skip("no stories260K GGUF (set AX_LLAMA_GGUF)")
    with ax_engine.Session(policy="llama_cpp", llama_cli_binary=binary, llama_cli_gguf=gguf, llama_cli_threads=1,
                           llama_cli_ctx_size=256) as s:
        r = s.report
        assert (r["support_tier"], r["selected_backend"]) == ("llama_cpp", "llama_cpp")
        assert r["token_ids"] is False and r["throughput_is_ours"] is False
        out = s.generate("Once upon a time", max_output_tokens=8, ignore_eos=True)
        assert out.text and out.output_tokens == [] and out.token_ids is False
        many = s.generate("Once upon a time", max_output_tokens=8, temperature=1.0, seed=9, n=2, ignore_eos=True)
        assert [c.choice for c in s.stream("Once upon a time", max_output_tokens=4, n=2, ignore_eos=True)
                if c.finished] == [0, 1]
        assert many.choices[1].text == s.generate("Once upon a time", max_output_tokens=8, temperature=1.0, seed=10,
                                                  ignore_eos=True).text
        with pytest.raises(ax_engine.Error, match="prompt_tokens"):
            s.generate([1, 403], max_output_tokens=2)
