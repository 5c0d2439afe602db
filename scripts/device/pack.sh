#!/usr/bin/env bash
# On the dev machine: builds the device binaries in build-sm90 (sm_90a only: the GPU
# machine is Hopper, and one architecture halves the fatbins) and packs what
# scripts/device/*.sh need into .cuda-carry (ignored by git; carry it):
#   bins.tar.xz       the stripped binaries in one xz stream with a 128 MiB dictionary,
#                     so their shared code and kernels are stored once (three binaries:
#                     about 7 MB, against 20 MB compressed one by one); the device image
#                     lacks the Debian nlohmann-json/PCRE2/ICU headers, so we build here
#   libs.tar.xz       libicuuc/libicudata 72, libpcre2-8 and cpp-httplib 0.11 they link
#   stories260K/      the shared test checkpoint
#   qwen3-tok.tar.xz  ../shared's Qwen3 tokenizer (llama_peer.sh, family_peers.sh)
#   gemma-tok.tar.xz  ../shared's Gemma 3 tokenizer (family_peers.sh: the Gemma 3 and 4
#                     synth shapes; its 262,144 tokens match their vocabulary)
set -euo pipefail
cd "$(dirname "$0")/../.."
exclude=$(git rev-parse --git-path info/exclude)  # a worktree's .git is a file
mkdir -p "$(dirname "$exclude")"
grep -qx '/.cuda-carry/' "$exclude" 2>/dev/null || echo '/.cuda-carry/' >> "$exclude"
# BINS: the binaries a call needs (the carry limit counts the working tree too).
BINS=${BINS:-test_cuda ax-engine-bench bench_gemm_rows}
[ -f build-sm90/build.ninja ] || cmake -S . -B build-sm90 -G Ninja -DAX_BUILD_TESTS=ON -DAX_WERROR=ON \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a
ninja -C build-sm90 -j"${JOBS:-1}" $BINS
mkdir -p .cuda-carry && rm -rf .cuda-carry/bin .cuda-carry/bins.tar.xz
stage=$(mktemp -d)
for b in $BINS; do strip -o "$stage/$b" "build-sm90/bin/$b"; done
tar cf - -C "$stage" $BINS | xz -T1 --lzma2=preset=9e,dict=128MiB > .cuda-carry/bins.tar.xz
rm -rf "$stage"
L=/usr/lib/x86_64-linux-gnu
libs="libicuuc.so.72.1 libicudata.so.72.1 libpcre2-8.so.0.11.2 libcpp-httplib.so.0.11.4"
[ -f .cuda-carry/libs.tar.xz ] && [ "$(tar tJf .cuda-carry/libs.tar.xz | sort | tr '\n' ' ')" = "$(tr ' ' '\n' <<< "$libs" | sort | tr '\n' ' ')" ] ||
  tar cJf .cuda-carry/libs.tar.xz -C $L $libs
# The real Qwen3 tokenizer, for the synth Qwen3-8B that llama.cpp's converter reads
# (scripts/device/llama_peer.sh).
[ -f .cuda-carry/qwen3-tok.tar.xz ] || tar cf - -C ../shared/tokenizers/qwen3 . | xz -9 > .cuda-carry/qwen3-tok.tar.xz
[ -f .cuda-carry/gemma-tok.tar.xz ] || tar cf - -C ../shared/tokenizers/gemma3 . | xz -9 > .cuda-carry/gemma-tok.tar.xz
if [ ! -d .cuda-carry/stories260K ]; then
  cp -r ../shared/models/stories260K .cuda-carry/stories260K
  rm -rf .cuda-carry/stories260K/tools
fi
du -sh .cuda-carry
