#!/usr/bin/env bash
# scripts/soak.sh must exit 1 when a check fails: a 5 s soak held to a /health p99 of
# 0 ms fails that check (and only that one: RSS is not judged over 5 s) and says so.
set -uo pipefail
build=$1 out=$2
log=$(bash "$(dirname "$0")/../../scripts/soak.sh" --build-dir "$build" --duration 5 --concurrency 8 --out "$out" \
      -- --health-p99-ms 0 --rss-growth 10 2>&1)
rc=$?
echo "$log"
[ "$rc" = 1 ] || { echo "expected exit status 1, got $rc"; exit 1; }
grep -q "FAIL health_p99_ms" <<<"$log" || { echo "health_p99_ms did not fail"; exit 1; }
fails=$(grep -c "^  FAIL " <<<"$log")
[ "$fails" = 1 ] || { echo "expected one failed check, got $fails"; exit 1; }
