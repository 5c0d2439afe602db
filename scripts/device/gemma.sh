#!/usr/bin/env bash
# One device call for the Gemma families (model-layer issue):
#   1. transformers' tiny Gemma 3 / 4 fixtures (scripts/fixtures/make_gemma_models.py)
#      into tests/fixtures/models, packed to $OUT/gemma_fixtures.tar.gz to commit;
#   2. test_cuda on them (bf16 and the f32 mode vs transformers' logits) and the
#      attention op tests (sliding windows, softcaps, head_dim 256);
# Built here by scripts/device/pack.sh (carry .cuda-carry).
set -uo pipefail
source scripts/device/env.sh
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python3 scripts/fixtures/make_gemma_models.py --out tests/fixtures/models > "$OUT/gemma_fixtures.log" 2>&1
tail -12 "$OUT/gemma_fixtures.log"
tar czf "$OUT/gemma_fixtures.tar.gz" tests/fixtures/models/tiny-gemma* tests/fixtures/models/summary.json
rm -f tests/fixtures/models/summary.json
# The modeling code the fixtures came from (transformers' installed version), for reading.
python3 - "$OUT" <<'PY'
import os, sys, tarfile, transformers
root = os.path.dirname(transformers.__file__)
with tarfile.open(os.path.join(sys.argv[1], "transformers_gemma_src.tar.gz"), "w:gz") as t:
    for rel in ("models/gemma3/modeling_gemma3.py", "models/gemma4/modeling_gemma4.py",
                "models/gemma4/configuration_gemma4.py", "modeling_rope_utils.py", "masking_utils.py"):
        if os.path.exists(os.path.join(root, rel)):
            t.add(os.path.join(root, rel), arcname=rel)
PY
AX_SOURCE_DIR=$ROOT AX_STORIES_DIR=$CARRY/stories260K timeout 150 "$BIN/test_cuda" \
  --gtest_filter='Gemma/CudaFixture.*:Precisions/CudaOpsP.Attention*:Precisions/CudaOpsP.GatedAct*:Precisions/CudaOpsP.AddAndSoftcap*' \
  > "$OUT/gemma_cuda.log" 2>&1
echo "test_cuda (gemma fixtures, ops) exit $?"
grep -E '^\[fixture|FAILED|Failure|Expected|Which is|SKIPPED' "$OUT/gemma_cuda.log" | head -60
