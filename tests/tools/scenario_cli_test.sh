#!/usr/bin/env bash
# ax-engine-bench scenario and compare: a failing contract exits 1 and says which; a bad
# manifest exits 2 naming the field; compare flags a regression and passes an artifact
# against itself. usage: scenario_cli_test.sh BENCH SOURCE_DIR WORK_DIR
set -uo pipefail
bench=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fails=0
expect() {  # expect NAME WANT_EXIT PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ] || ! grep -qE -- "$pattern" <<< "$out"; then
    echo "FAIL $name: exit $rc (want $want), output must match /$pattern/:"
    echo "$out" | head -20
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
manifest() {  # manifest FILE JSON
  printf '%s\n' "$2" > "$work/$1"
}
model='"model": {"dir": "../shared/models/stories260K"}'
engine='"engine": {"backend": "cpu", "ctx_size": 128, "max_batch_tokens": 128}'
work_ref='"workload": {"reference": "../shared/models/stories260K/reference.json", "concurrency": [1, 2], "repeats": 2}'

# A route that is not the one served: the run completes, the contract fails, exit 1.
manifest wrong_route.json "{\"name\": \"wrong-route\", $model, $engine, $work_ref,
  \"contracts\": {\"correctness\": true, \"determinism\": {\"repeats\": true, \"concurrency\": true},
                  \"route\": {\"architecture\": \"Qwen3ForCausalLM\"}}}"
expect wrong_route 1 "route +fail +architecture is 'LlamaForCausalLM', expected 'Qwen3ForCausalLM'" -- \
  "$bench" scenario --manifest "$work/wrong_route.json" --root "$src" --output-root "$work/out" --quiet
# ... while the other contracts of the same run hold.
expect wrong_route_others 1 "determinism: concurrency +pass +8/8 outputs identical" -- \
  "$bench" scenario --manifest "$work/wrong_route.json" --root "$src" --output-root "$work/out" --quiet

# A requests workload whose contracts hold: exit 0.
manifest requests.json "{\"name\": \"requests\", $model, $engine,
  \"workload\": {\"requests\": [{\"tokens\": [1, 403, 407], \"max_tokens\": 4}], \"repeats\": 2},
  \"contracts\": {\"determinism\": {\"repeats\": true}, \"route\": {\"backend\": \"cpu\"}}}"
expect passing_requests 0 "every contract holds" -- \
  "$bench" scenario --manifest "$work/requests.json" --root "$src" --output-root "$work/out" --quiet

# Expected ids the model does not produce (one id of the reference changed): correctness
# fails and names the first difference.
python3 - "$src/../shared/models/stories260K/reference.json" "$work/doctored.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["cases"][1]["greedy_ids"][5] += 1
json.dump(j, open(sys.argv[2], "w"))
PY
manifest wrong_ids.json "{\"name\": \"wrong-ids\", $model, $engine,
  \"workload\": {\"reference\": \"$work/doctored.json\"}, \"contracts\": {\"correctness\": true}}"
expect wrong_ids 1 "correctness +fail .*outputs equal the reference ids; first difference: direct c1 repeat 0, request 1 at token 5" -- \
  "$bench" scenario --manifest "$work/wrong_ids.json" --root "$src" --output-root "$work/out" --quiet

# Bad manifests: exit 2, the field named.
manifest typo.json "{\"name\": \"typo\", $model, \"workload\": {\"reference\": \"x.json\", \"concurency\": [1]}}"
expect unknown_field 2 "field 'workload.concurency': not a known field" -- \
  "$bench" scenario --manifest "$work/typo.json" --root "$src" --output-root "$work/out"
manifest conc.json "{\"name\": \"conc\", $model, \"workload\": {\"requests\": [{\"tokens\": [1]}], \"concurrency\": [0]}}"
expect bad_concurrency 2 "field 'workload.concurrency': expected a non-empty array of integers" -- \
  "$bench" scenario --manifest "$work/conc.json" --root "$src" --output-root "$work/out"
manifest nosrc.json "{\"name\": \"nosrc\", $model, \"workload\": {\"concurrency\": [1]}}"
expect no_source 2 "field 'workload': give exactly one of 'reference', 'requests', 'prompts_file' or 'random'" -- \
  "$bench" scenario --manifest "$work/nosrc.json" --root "$src" --output-root "$work/out"
manifest noref.json "{\"name\": \"noref\", $model, \"workload\": {\"requests\": [{\"tokens\": [1]}]}, \"contracts\": {\"correctness\": true}}"
expect correctness_needs_reference 2 "field 'contracts.correctness': needs expected ids" -- \
  "$bench" scenario --manifest "$work/noref.json" --root "$src" --output-root "$work/out"
expect missing_manifest 2 "manifest '$work/none.json': cannot open" -- \
  "$bench" scenario --manifest "$work/none.json" --output-root "$work/out"

# compare: an artifact against itself passes; a copy with half the throughput is flagged.
a=$work/out/wrong-route.json
expect compare_same 0 "0 of [0-9]+ comparisons worse" -- "$bench" compare "$a" "$a"
python3 - "$a" "$work/slower.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for run in j["runs"]:
    run["summary"]["decode_phase_tok_s"] /= 2
json.dump(j, open(sys.argv[2], "w"))
PY
expect compare_regression 1 "decode_phase_tok_s .*-50\.0%  REGRESSION" -- "$bench" compare "$a" "$work/slower.json"
expect compare_not_artifact 2 "not a scenario artifact" -- "$bench" compare "$a" "$work/typo.json"
[ "$fails" = 0 ] && echo "all passed" || { echo "$fails failed"; exit 1; }
