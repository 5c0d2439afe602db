#!/usr/bin/env bash
# Runs every libFuzzer target of build-fuzz (make fuzz builds it) for N seconds each
# (default 60), starting from its committed seed corpus, tests/fuzz/corpus/<name>/
# (read only: new inputs go to build-fuzz/corpus/<name>/, kept between runs). Every
# committed input runs first, so a regression input added there is checked on every
# run. A crash, leak, sanitizer report or timeout (10 s per input) stops that target and
# leaves the input in build-fuzz/findings/; the script then exits non-zero.
#   usage: scripts/fuzz.sh [SECONDS] [NAME...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(safetensors model_config tokenizer_json tokenizer_text jinja request_json sse tool_calls)
mkdir -p build-fuzz/findings
failed=0
for n in "${names[@]}"; do
  bin=build-fuzz/bin/fuzz_$n
  [ -x "$bin" ] || { echo "fuzz: $bin missing (make fuzz builds it)"; exit 2; }
  mkdir -p "build-fuzz/corpus/$n"
  start=$(date +%s)
  if "$bin" "build-fuzz/corpus/$n" "tests/fuzz/corpus/$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build-fuzz/findings/$n-" -print_final_stats=1 > "build-fuzz/findings/$n.log" 2>&1; then
    echo "fuzz_$n: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/findings/$n.log" | grep -o '[0-9]*$') inputs in $(( $(date +%s) - start )) s, no finding"
  else
    echo "fuzz_$n: FINDING (build-fuzz/findings/$n.log):"
    grep -m5 -E 'ERROR|SUMMARY|invariant|Test unit written' "build-fuzz/findings/$n.log"
    failed=1
  fi
done
exit $failed
