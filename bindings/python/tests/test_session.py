"""ax_engine: the Python face of ax::Session, on the embedded demo model and through a real
OpenAI-compatible upstream (an ax-engine-server started by the upstream fixture)."""
import threading

import pytest

import ax_engine
from conftest import DEMO, PLAIN_TEMPLATE

PROMPT = "def read_lines(path):\n"


@pytest.fixture(scope="module")
def session():
    with ax_engine.Session(model_dir=DEMO, backend="cpu", threads=1, chat_template=PLAIN_TEMPLATE) as s:
        yield s


def test_report_names_the_route(session):
    r = session.report
    assert r["support_tier"] == "repo_owned"
    assert r["selected_backend"] == "cpu"
    assert r["resolution_policy"] == "auto"
    assert "doctor accepts" in r["resolution_reason"]
    assert r["architecture"] == "Qwen3ForCausalLM"
    assert r["model_id"] == "ax-demo-qwen3"
    assert r["token_ids"] is True


def test_generate_tokens_and_text(session):
    out = session.generate(PROMPT, max_output_tokens=16)
    assert len(out.output_tokens) == 16
    assert out.finish_reason == "length"
    assert out.text
    assert out.metrics["completion_tokens"] == 16
    # Exact ids as the prompt: the same continuation.
    again = session.generate(out.prompt_tokens, max_output_tokens=16)
    assert again.output_tokens == out.output_tokens
    assert again.text == out.text


def test_stream_equals_generate(session):
    want = session.generate(PROMPT, max_output_tokens=12, temperature=0.8, seed=5)
    chunks = list(session.stream(PROMPT, max_output_tokens=12, temperature=0.8, seed=5))
    assert chunks[-1].finished and chunks[-1].finish_reason == want.finish_reason
    assert [c.token for c in chunks if c.token is not None] == want.output_tokens
    assert "".join(c.text for c in chunks) == want.text


def test_chat_uses_the_template(session):
    msgs = [{"role": "user", "content": "Read a file."}]
    out = session.chat(msgs, max_output_tokens=8)
    assert out.finish_reason in ("stop", "length")
    # The prompt is the rendered template: "user: Read a file.\nassistant:".
    assert out.prompt_tokens == session.generate("user: Read a file.\nassistant:", max_output_tokens=1).prompt_tokens
    streamed = list(session.stream_chat(msgs, max_output_tokens=8))
    assert "".join(c.text for c in streamed) == out.text
    with pytest.raises(ax_engine.Error, match="role"):
        session.chat([{"role": "robot", "content": "x"}])
    with ax_engine.Session(model_dir=DEMO, backend="cpu", threads=1) as plain:
        with pytest.raises(ax_engine.Error, match="chat template"):
            plain.chat(msgs)


def test_errors_carry_the_status(session):
    with pytest.raises(ax_engine.Error, match="max_output_tokens"):
        session.generate(PROMPT, max_output_tokens=0)
    with pytest.raises(ax_engine.Error, match="prompt"):
        session.generate({"not": "a prompt"})
    with pytest.raises(ax_engine.Error, match="support_tier"):
        ax_engine.Session(model_dir=DEMO, support_tier="mlx")
    with pytest.raises(ax_engine.Error, match="backend"):
        ax_engine.Session(model_dir=DEMO, backend="tpu")
    with pytest.raises(ax_engine.Error, match="NotFound|not a directory"):
        ax_engine.Session(model_dir="/nonexistent/model", support_tier="repo_owned")


def test_gil_is_released_and_cancel_works(session):
    stream = session.stream(PROMPT, max_output_tokens=4000, ignore_eos=True)
    first = next(stream)
    assert first.token is not None
    ticks = []
    stop = threading.Event()

    def tick():  # runs only while the main thread waits without the GIL
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    session.cancel()
    rest = list(stream)
    stop.set()
    t.join()
    assert rest[-1].finish_reason == "cancelled"
    assert ticks


def test_closed_session_refuses():
    s = ax_engine.Session(model_dir=DEMO, backend="cpu", threads=1)
    s.close()
    with pytest.raises(ax_engine.Error, match="closed"):
        s.generate(PROMPT, max_output_tokens=1)


def test_delegated_equals_repo_owned(session, upstream):
    with ax_engine.Session(support_tier="openai_delegated", upstream_url=upstream) as remote:
        r = remote.report
        assert r["support_tier"] == "openai_delegated"
        assert r["token_ids"] is False and r["throughput_is_ours"] is False
        want = session.generate(PROMPT, max_output_tokens=16)
        got = remote.generate(PROMPT, max_output_tokens=16)
        assert got.text == want.text
        assert got.output_tokens == [] and got.token_ids is False
        chunks = list(remote.stream(PROMPT, max_output_tokens=16))
        assert all(c.token is None for c in chunks)
        assert "".join(c.text for c in chunks) == want.text
        msgs = [{"role": "user", "content": "Read a file."}]
        assert remote.chat(msgs, max_output_tokens=8).text == session.chat(msgs, max_output_tokens=8).text
