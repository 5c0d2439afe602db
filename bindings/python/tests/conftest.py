"""Paths for the ax_engine tests (set by ctest: tests in bindings/python/CMakeLists.txt)."""
import os
import re
import signal
import subprocess

import pytest

SOURCE_DIR = os.environ.get("AX_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEMO = os.path.join(SOURCE_DIR, "models", "ax-demo-qwen3")
# The demo model ships no chat template: chat tests give it plain "role: content" turns.
PLAIN_TEMPLATE = os.path.join(SOURCE_DIR, "tests", "fixtures", "chat_template", "plain_turns.jinja")


@pytest.fixture(scope="session")
def upstream():
    """A live ax-engine-server on the demo model: the real upstream of the delegated tests."""
    server_bin = os.environ.get("AX_SERVER_BIN")
    if not server_bin:
        pytest.skip("AX_SERVER_BIN is not set")
    proc = subprocess.Popen([server_bin, "--model", DEMO, "--port", "0", "--threads", "1", "--backend", "cpu",
                             "--chat-template", PLAIN_TEMPLATE], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    url = None
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    assert url, "the upstream server did not start"
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
