#!/usr/bin/env bash
# Makes transformers' tiny fixtures on the GPU machine and packs them to commit:
#   SCRIPTS="make_qwen_models.py ..." scripts/device/fixtures.sh
# writes $OUT/fixtures.tar.gz (tests/fixtures/models/<name>/ and one summary-<script>.json
# per script), $OUT/fixtures.log, and $OUT/transformers_src.tar.gz with the installed
# modeling code of MODELS_SRC (directories under transformers/models), for reading: three
# files, since a call brings back only a few.
set -uo pipefail
OUT=${OUT:-/tmp/ax-device-out}
mkdir -p "$OUT"
dirs=()
for s in ${SCRIPTS:-make_qwen_models.py}; do
  tmp=$(mktemp -d)
  python3 "scripts/fixtures/$s" --out "$tmp" >> "$OUT/fixtures.log" 2>&1
  echo "$s exit $?"
  mv "$tmp/summary.json" "tests/fixtures/models/summary-${s%.py}.json" 2>/dev/null &&
    dirs+=("tests/fixtures/models/summary-${s%.py}.json")
  for d in "$tmp"/*/; do
    rm -rf "tests/fixtures/models/$(basename "$d")" && mv "$d" tests/fixtures/models/ && dirs+=("tests/fixtures/models/$(basename "$d")")
  done
done
tail -20 "$OUT/fixtures.log"
[ ${#dirs[@]} -gt 0 ] && tar czf "$OUT/fixtures.tar.gz" "${dirs[@]}"
rm -f tests/fixtures/models/summary-*.json
python3 - "$OUT" ${MODELS_SRC:-} <<'PY'
import os, sys, tarfile, transformers
root = os.path.join(os.path.dirname(transformers.__file__), "models")
with tarfile.open(os.path.join(sys.argv[1], "transformers_src.tar.gz"), "w:gz") as t:
    for m in sys.argv[2:]:
        for f in sorted(os.listdir(os.path.join(root, m))):
            if f.startswith(("modeling_", "configuration_")):
                t.add(os.path.join(root, m, f), arcname=os.path.join(m, f))
PY
