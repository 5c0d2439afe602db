#!/usr/bin/env bash
# The llama.cpp peer of issue 15's concurrency benchmark, on the GPU machine, in two
# steps of one warm machine (the build alone takes most of a call):
#   llama_peer.sh build  the CUDA build of llama-batched-bench (sm_90a, flash attention)
#                        from .cuda-carry/llama-src.tar.xz (scripts/device/pack_llama.sh),
#                        the synth Qwen3-8B bf16 with the real Qwen3 tokenizer
#                        (.cuda-carry/qwen3-tok.tar.xz) and its GGUF (bf16) by llama.cpp's
#                        own converter: the same weights our engine loads.
#   llama_peer.sh bench  llama-batched-bench at 128 prompt + 128 generated tokens per
#                        sequence, parallel 1/8/32/64/128 (NPL), all layers on the GPU;
#                        writes $OUT/llama_batched.jsonl.
# /tmp of the GPU machine keeps the build and the model while the machine stays warm.
set -uo pipefail
source scripts/device/env.sh
LL=/tmp/llsrc LB=/tmp/llb
case "${1:-}" in
  build)
    if [ ! -x $LB/bin/llama-batched-bench ]; then
      mkdir -p $LL && xz -dc "$CARRY/llama-src.tar.xz" | tar xf - -C $LL
      t0=$(date +%s)
      cmake -S $LL -B $LB -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
        -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF > "$OUT/llama_cmake.log" 2>&1 || { tail -20 "$OUT/llama_cmake.log"; exit 1; }
      ninja -C $LB -j"$(nproc)" llama-batched-bench > "$OUT/llama_build.log" 2>&1 || { tail -30 "$OUT/llama_build.log"; exit 1; }
      echo "llama.cpp build: $(( $(date +%s) - t0 )) s"
    fi
    if [ ! -e /tmp/q8/tokenizer.json ]; then
      rm -rf /tmp/q8 /tmp/qwen3-tok && mkdir -p /tmp/qwen3-tok && xz -dc "$CARRY/qwen3-tok.tar.xz" | tar xf - -C /tmp/qwen3-tok
      "$BIN/ax-engine-bench" synth-model --shape qwen3-8b --dtype bf16 --seed 0 --tokenizer /tmp/qwen3-tok --out /tmp/q8 > /dev/null || exit 1
    fi
    if [ ! -e /tmp/q8.gguf ]; then
      t0=$(date +%s)
      python3 $LL/convert_hf_to_gguf.py /tmp/q8 --outtype bf16 --outfile /tmp/q8.gguf > "$OUT/llama_convert.log" 2>&1 ||
        { tail -30 "$OUT/llama_convert.log"; exit 1; }
      echo "GGUF conversion: $(( $(date +%s) - t0 )) s, $(du -h /tmp/q8.gguf | cut -f1)"
    fi
    ;;
  bench)
    [ -x $LB/bin/llama-batched-bench ] && [ -e /tmp/q8.gguf ] || { echo "llama_peer.sh build first"; exit 1; }
    NPL=${NPL:-1,8,32,64,128}
    max=$(echo "$NPL" | tr , '\n' | sort -n | tail -1)
    timeout 300 $LB/bin/llama-batched-bench -m /tmp/q8.gguf -ngl 99 -fa on -c $(( max * 256 )) -b 2048 -ub 512 \
      -npp 128 -ntg 128 -npl "$NPL" --output-format jsonl > "$OUT/llama_batched.jsonl" 2> "$OUT/llama_batched.err"
    echo "llama-batched-bench exit $?"
    python3 - "$OUT/llama_batched.jsonl" "$OUT/llama_batched.err" <<'PY'
import json, sys
for l in open(sys.argv[1]).readlines() + open(sys.argv[2]).readlines():
    if l.startswith("{"):
        r = json.loads(l)
        print(f"llama.cpp B {r['pl']:3d}: generation {r['speed_tg']:8.1f} tok/s, prefill {r['speed_pp']:8.1f} tok/s")
PY
    ;;
  *) echo "usage: $0 build|bench"; exit 2 ;;
esac
