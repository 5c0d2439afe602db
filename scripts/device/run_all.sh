#!/usr/bin/env bash
# The one device call of a round: correctness first, then the benchmark when every
# kernel and fixture test passed.  device run: carry [".cuda-carry"],
# command "bash scripts/device/run_all.sh", timeout 600.
source scripts/device/env.sh
bash scripts/device/test.sh
echo "== test.sh exit $?"
if [ -e "$OUT/kernels_ok" ]; then bash scripts/device/bench.sh; echo "== bench.sh exit $?"; else echo "== bench skipped: kernel tests did not pass"; fi
