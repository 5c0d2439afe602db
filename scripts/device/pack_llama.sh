#!/usr/bin/env bash
# On the dev machine: packs the llama.cpp peer's source for scripts/device/llama_peer.sh
# into .cuda-carry/llama-src.tar.xz (about 3 MB). The source is the git bundle that
# npm's node-llama-cpp ships (llama/gitRelease.bundle); it stays outside the repository.
# Only what the CUDA build of llama-batched-bench and the GGUF converter need is kept
# (no other backends' kernels, no web UI, no test models).
# Usage: scripts/device/pack_llama.sh [DIR]  (DIR: a checkout; default: npm pack it)
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${1:-}
if [ -z "$src" ]; then
  work=$(mktemp -d)
  (cd "$work" && npm pack node-llama-cpp --silent > /dev/null && tar xzf node-llama-cpp-*.tgz &&
   git clone -q package/llama/gitRelease.bundle llama.cpp)
  src=$work/llama.cpp
fi
mkdir -p .cuda-carry
tar cf - -C "$src" --exclude='*.metal' --exclude=tools/server --exclude=tools/ui --exclude=tools/cli \
  --exclude=ggml/src/ggml-vulkan --exclude=ggml/src/ggml-sycl --exclude=ggml/src/ggml-opencl \
  --exclude=ggml/src/ggml-cann --exclude=ggml/src/ggml-musa --exclude=ggml/src/ggml-metal \
  --exclude=ggml/src/ggml-webgpu --exclude=ggml/src/ggml-hexagon --exclude=ggml/src/ggml-openvino \
  --exclude=ggml/src/ggml-zdnn --exclude=ggml/src/ggml-et \
  CMakeLists.txt cmake ggml src common tools include vendor gguf-py convert_hf_to_gguf.py conversion \
  licenses LICENSE | xz -T2 -9 > .cuda-carry/llama-src.tar.xz
git -C "$src" log -1 --format='%H %cs' > .cuda-carry/llama-src.commit 2>/dev/null || true
du -h .cuda-carry/llama-src.tar.xz
