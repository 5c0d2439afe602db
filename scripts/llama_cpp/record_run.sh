#!/usr/bin/env bash
# Records one run of the llama_cpp route against a real llama-server, and runs its e2e
# test (tests/e2e/llama_cpp.test.js):
#   1. builds llama-server CPU-only in LLAMA_SRC/build unless it is there (a llama.cpp
#      checkout outside this tree, e.g. cloned from the npm package node-llama-cpp's
#      llama/gitRelease.bundle);
#   2. writes stories260K as GGUF with stories_to_gguf.py (llama.cpp's gguf-py, Debian's
#      python3 with python3-sentencepiece);
#   3. starts llama-server on it and writes one `ax-engine-bench generate --support-tier
#      llama_cpp` artifact (the reference prompt, greedy, its ids, and how they compare
#      with reference.json's up to its first near-tie) to
#      benchmarks/results/DATE/llama-cpp-route-stories260k.json;
#   4. runs e2e_llama_cpp, the CLI variant's test_llama_cli (llama-completion, built
#      beside llama-server) and the Python tests with the binaries and the GGUF.
#
#   scripts/llama_cpp/record_run.sh LLAMA_SRC [AX_BUILD_DIR (default build)]
set -euo pipefail
cd "$(dirname "$0")/../.."
src="${1:?usage: record_run.sh LLAMA_SRC [AX_BUILD_DIR]}"
build="${2:-build}"
shared="${AX_SHARED_DIR:-../shared}"
stories="$shared/models/stories260K"
work="$(mktemp -d /tmp/ax-llama-cpp.XXXXXX)"
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

server="$src/build/bin/llama-server"
cli="$src/build/bin/llama-completion"
if [ ! -x "$server" ] || [ ! -x "$cli" ]; then
  cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
  nice cmake --build "$src/build" -j "${JOBS:-2}" --target llama-server llama-completion
fi
gguf="$work/stories260K.gguf"
PYTHONPATH="$src/gguf-py" /usr/bin/python3 scripts/llama_cpp/stories_to_gguf.py "$stories" "$gguf"

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" -m "$gguf" --host 127.0.0.1 --port "$port" -c 512 -np 1 -t 1 --no-webui 2>"$work/llama-server.log" &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 300); do
  curl -sf "$url/health" >/dev/null && break
  sleep 0.1
done
curl -sf "$url/health" >/dev/null || { cat "$work/llama-server.log"; exit 1; }

prompt=$(/usr/bin/python3 -c "import json; c = json.load(open('$stories/reference.json'))['cases'][0]; \
print(','.join(map(str, c['prompt_ids'])), len(c['greedy_ids']))")
out="benchmarks/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"
"$build/bin/ax-engine-bench" generate --support-tier llama_cpp --upstream-url "$url" --tokens "${prompt% *}" \
  --max-tokens "${prompt#* }" --ignore-eos --json >"$work/run.json"
/usr/bin/python3 - "$work/run.json" "$stories/reference.json" "$src" "$out/llama-cpp-route-stories260k.json" <<'PY'
import json, subprocess, sys
run, ref, src, dest = sys.argv[1:]
run = json.load(open(run))
case = json.load(open(ref))["cases"][0]
ids, want = run["output_tokens"], case["greedy_ids"]
# The reference's logits have near-ties; float32 may take either side of one.
tie = next((i for i, m in enumerate(case["step_top1_top2_margin"]) if m < 0.01), len(want))
run["reference_check"] = {
    "first_near_tie_step": tie,
    "near_tie_margin": case["step_top1_top2_margin"][tie] if tie < len(want) else None,
    "equal_before_near_tie": ids[:tie] == want[:tie],
    "first_difference_step": next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), None),
}
run["llama_cpp_commit"] = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True,
                                         text=True).stdout.strip()
run["model"] = "stories260K (tests' oracle), written as f32 GGUF by scripts/llama_cpp/stories_to_gguf.py"
json.dump(run, open(dest, "w"), indent=2)
print(f"{dest}: {len(ids)} ids; reference check: {run['reference_check']}")
PY
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

(cd "$build" && AX_LLAMA_SERVER="$(realpath "$server")" AX_LLAMA_CLI="$(realpath "$cli")" AX_LLAMA_GGUF="$gguf" \
  ctest -R '^(e2e_llama_cpp|python_ax_engine)$|^LlamaCli' --output-on-failure)
