#!/usr/bin/env bash
# The main job on the embedded default: generate with the project's demo model on the
# CPU backend, then the same request with direct decoding vs n-gram speculation.
# Usage: scripts/demo.sh BUILD_DIR MODEL_DIR PROMPT MAX_TOKENS   (PROMPT may hold \n escapes)
set -euo pipefail
build=$1 model=$2 prompt_escaped=$3 max_tokens=$4
bench="$build/bin/ax-engine-bench"
if [ ! -f "$model/config.json" ]; then
  echo "make demo: no model at '$model'. Pass a Hugging Face model directory: make demo MODEL=/path/to/model" >&2
  echo "           (LlamaForCausalLM or Qwen3ForCausalLM with config.json, *.safetensors, tokenizer.json)" >&2
  exit 2
fi
prompt="$(printf '%b.' "$prompt_escaped")"
prompt="${prompt%.}"  # keep trailing newlines that $(...) would strip

echo "== $model on the CPU backend (greedy, n-gram speculation) =="
printf '%s' "$prompt"
"$bench" generate --model "$model" --backend cpu --prompt "$prompt" --max-tokens "$max_tokens"
echo
echo "== the same request: direct decoding vs n-gram speculation =="
"$bench" generate --model "$model" --backend cpu --prompt "$prompt" --max-tokens "$max_tokens" --compare-policies
