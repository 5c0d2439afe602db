#!/usr/bin/env bash
# Smoke check of the ax_engine Python module: builds it, imports it with Debian's
# python3 and generates a few tokens on the embedded demo model.
#   scripts/check-python.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
python=/usr/bin/python3
./scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target ax_engine_python -j "$(nproc)"
PYTHONPATH="$build/python" "$python" - <<'PY'
import ax_engine

with ax_engine.Session(model_dir="models/ax-demo-qwen3", backend="cpu") as s:
    out = s.generate("def read_lines(path):\n", max_output_tokens=24)
    streamed = "".join(c.text for c in s.stream("def read_lines(path):\n", max_output_tokens=24))
    assert streamed == out.text, (streamed, out.text)
    assert len(out.output_tokens) == 24 or out.finish_reason == "stop"
    print(s.report["support_tier"], s.report["backend_detail"])
    print(repr(out.text))
print("check-python: ok")
PY
