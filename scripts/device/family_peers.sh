#!/usr/bin/env bash
# One device call per model family: our engine, llama.cpp and transformers on the same
# random weights at a published size (issue 14's real-size benchmarks). For each shape
# in SHAPES (space-separated synth-model shapes; default gemma-4-e2b), one after the other:
#   1. ax-engine-bench synth-model --dtype bf16 --seed 0 with the family's real tokenizer
#      (.cuda-carry/<tok>-tok.tar.xz from scripts/device/pack.sh) into /tmp/synth/<shape>;
#   2. llama.cpp's own converter (convert_hf_to_gguf.py --outtype bf16, the source from
#      .cuda-carry/llama-src.tar.xz, scripts/device/pack_llama.sh) into <shape>.gguf;
#   3. scripts/device/bench.py: ours (CUDA), llama-bench (all layers on the GPU, flash
#      attention), transformers eager; batch 1, prompts 128 and 512, 128 generated.
# Writes $OUT/<shape>.json (commit under benchmarks/results/<date>/) and <shape>.log.
# Everything is time-boxed to end by DEADLINE seconds after the start (default 560, a
# 10-minute call with room to copy $OUT back): each step gets what is left, and
# bench.py saves its artifact after every engine, so a late step loses only itself.
#
# llama-bench comes from .cuda-carry/llama-bin.tar.xz when present (bin/llama-bench and
# its shared libraries, as `family_peers.sh build-llama` packs them), else from a warm
# machine's /tmp/llb (scripts/device/llama_peer.sh's build). `family_peers.sh build-llama`
# builds it from the carried source (most of a call) and leaves $OUT/llama-bin.tar.xz
# to copy into .cuda-carry for the calls after it.
#
# Disk: a shape needs its bf16 weights twice (safetensors + GGUF): E2B 9 GB, E4B 15 GB,
# 26B-A4B 50 GB, 31B 61 GB each; the last two need a machine with 128 GiB of disk.
# A warm machine keeps /tmp/synth between calls (KEEP=1 keeps a shape's files after it;
# a shape whose checkpoint or GGUF is there is not written again). PREP_ONLY=1 stops after
# synth and conversion (and keeps the files): the large shapes take one call for those
# and a second, on the same warm machine, for the benchmarks.
#   SHAPES="gemma-4-e2b" REPS=3 HF=eager scripts/device/family_peers.sh
set -uo pipefail
source scripts/device/env.sh
T0=$(date +%s)
DEADLINE=${DEADLINE:-560}
LL=/tmp/llsrc LB=/tmp/llb WORK=/tmp/synth
left() { local l=$(( DEADLINE - ($(date +%s) - T0) )); echo $(( l > 1 ? l : 1 )); }

unpack_llama_src() {
  [ -e $LL/convert_hf_to_gguf.py ] && return 0
  mkdir -p $LL && xz -dc "$CARRY/llama-src.tar.xz" | tar xf - -C $LL
}

build_llama() {
  unpack_llama_src || return 1
  cmake -S $LL -B $LB -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a \
    -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF > "$OUT/llama_cmake.log" 2>&1 || { tail -20 "$OUT/llama_cmake.log"; return 1; }
  timeout "$(left)" ninja -C $LB -j"$(nproc)" llama-bench > "$OUT/llama_build.log" 2>&1 ||
    { tail -30 "$OUT/llama_build.log"; return 1; }
  (cd $LB && tar cf - bin/llama-bench bin/*.so*) | xz -T0 -6 > "$OUT/llama-bin.tar.xz"
  echo "llama.cpp build: $(( $(date +%s) - T0 )) s, $(du -h "$OUT/llama-bin.tar.xz" | cut -f1) packed"
}

if [ "${1:-}" = build-llama ]; then
  build_llama
  exit $?
fi

if [ ! -x $LB/bin/llama-bench ] && [ -f "$CARRY/llama-bin.tar.xz" ]; then
  mkdir -p $LB && xz -dc "$CARRY/llama-bin.tar.xz" | tar xf - -C $LB
fi
export LD_LIBRARY_PATH=$LB/bin:$LD_LIBRARY_PATH
LLAMA_ARGS=()
if [ -x $LB/bin/llama-bench ]; then
  LLAMA_ARGS=(--llama-bench "$LB/bin/llama-bench")
else
  echo "no llama-bench (carry .cuda-carry/llama-bin.tar.xz, or run 'family_peers.sh build-llama' first): llama.cpp skipped"
fi
unpack_llama_src || echo "no llama.cpp source: GGUF conversion skipped"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
df -h /tmp | tail -1

# The tokenizer a shape's family ships with (llama.cpp's converter reads it).
tokenizer_for() {
  case "$1" in
    gemma-*) echo gemma ;;
    qwen3*) echo qwen3 ;;
    *) echo "" ;;
  esac
}

for S in ${SHAPES:-gemma-4-e2b}; do
  [ "$(left)" -gt 30 ] || { echo "$S: skipped, past the ${DEADLINE} s deadline"; continue; }
  M=$WORK/$S G=$WORK/$S.gguf
  mkdir -p $WORK
  tok=$(tokenizer_for "$S")
  tok_args=()
  if [ -n "$tok" ]; then
    if [ ! -e /tmp/$tok-tok/tokenizer.json ]; then
      mkdir -p /tmp/$tok-tok && xz -dc "$CARRY/$tok-tok.tar.xz" | tar xf - -C /tmp/$tok-tok
    fi
    tok_args=(--tokenizer "/tmp/$tok-tok")
  fi
  if [ ! -e $M/config.json ]; then
    t=$(date +%s)
    timeout "$(left)" "$BIN/ax-engine-bench" synth-model --shape "$S" --dtype bf16 --seed 0 "${tok_args[@]}" --out $M \
      > "$OUT/$S.synth.log" 2>&1 || { echo "$S: synth-model failed"; tail -5 "$OUT/$S.synth.log"; continue; }
    echo "$S: synth $(( $(date +%s) - t )) s, $(du -sh $M | cut -f1)"
  fi
  gguf_args=()
  if [ ${#LLAMA_ARGS[@]} -gt 0 ] && [ -e $LL/convert_hf_to_gguf.py ]; then
    if [ ! -e $G ]; then
      t=$(date +%s)
      timeout "$(left)" python3 $LL/convert_hf_to_gguf.py $M --outtype bf16 --outfile $G.tmp > "$OUT/$S.convert.log" 2>&1 &&
        mv $G.tmp $G || { echo "$S: GGUF conversion failed"; tail -8 "$OUT/$S.convert.log"; rm -f $G.tmp; }
      [ -e $G ] && echo "$S: GGUF $(( $(date +%s) - t )) s, $(du -h $G | cut -f1)"
    fi
    [ -e $G ] && gguf_args=("${LLAMA_ARGS[@]}" --gguf "$G")
  fi
  if [ "${PREP_ONLY:-0}" = 1 ]; then
    echo "$S: prepared in $WORK (PREP_ONLY)"
    continue
  fi
  budget=$(( $(left) - 15 ))
  [ $budget -gt 30 ] || { echo "$S: no time left to benchmark"; continue; }
  timeout "$budget" python3 scripts/device/bench.py --bin "$BIN/ax-engine-bench" --model $M --out "$OUT/$S.json" \
    --reps "${REPS:-3}" --hf "${HF:-eager}" --deadline $(( budget - 20 )) --ax-timeout $(( budget / 2 )) \
    "${gguf_args[@]}" > "$OUT/$S.log" 2>&1
  rc=$?
  grep -v "Loading weights" "$OUT/$S.log" | tail -25
  [ $rc -eq 0 ] || { echo "$S: bench.py exit $rc"; [ -e "$OUT/$S.json" ] && python3 scripts/device/bench.py --print "$OUT/$S.json"; }
  [ "${KEEP:-0}" = 1 ] || rm -rf $M $G
done
echo "family_peers: $(( $(date +%s) - T0 )) s"
