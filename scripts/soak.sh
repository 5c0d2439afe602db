#!/usr/bin/env bash
# Soak with faults (docs/reliability.md): ax-engine-server on the CPU backend with the demo
# model, driven by `ax-loadgen --soak` (64 streaming clients; disconnects, cancels,
# oversized and malformed bodies, slow readers, prompts past the context; /health polled
# every 100 ms; RSS sampled), then a last wave of streams and SIGTERM. Writes one JSON
# artifact and exits non-zero when any check fails.
#
#   scripts/soak.sh                      # 10 minutes → benchmarks/results/<date>/soak-<model>-cpu.json
#   scripts/soak.sh --short              # 45 s, the ctest `soak_short` → BUILD_DIR/soak/soak_short.json
#   scripts/soak.sh --duration 120 --concurrency 32 --out /tmp/soak.json --build-dir build-cpu
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build} model=models/ax-demo-qwen3 duration=600 concurrency=64 out="" short=0
threads=${AX_SOAK_THREADS:-} extra=() extra_rss=()
while [ $# -gt 0 ]; do
  case $1 in
    # 45 s is mostly the allocator's own warm-up (RSS rises ~5% over it with no leak: live
    # heap flat under heaptrack), so the short run holds RSS to 15%; the 10-minute run, 5%.
    --short) short=1 duration=45 extra_rss=(--rss-growth 0.15) ;;
    --duration) duration=$2; shift ;;
    --concurrency) concurrency=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --model) model=$2; shift ;;
    --out) out=$2; shift ;;
    --threads) threads=$2; shift ;;
    --) shift; extra=("$@"); break ;;  # passed on to ax-loadgen
    *) echo "usage: scripts/soak.sh [--short] [--duration S] [--concurrency N] [--build-dir DIR] [--model DIR]" \
            "[--out FILE] [--threads N] [-- LOADGEN_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done
server_bin=$build/bin/ax-engine-server loadgen_bin=$build/bin/ax-loadgen
for b in "$server_bin" "$loadgen_bin"; do
  [ -x "$b" ] || { echo "soak: $b not built (ninja -C $build ax-engine-server ax-loadgen)" >&2; exit 2; }
done
name=$(basename "$model" | tr 'A-Z' 'a-z')
if [ -z "$out" ]; then
  if [ "$short" = 1 ]; then out=$build/soak/soak_short.json
  else out=benchmarks/results/$(date -u +%F)/soak-${name}-cpu.json; fi
fi
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Smaller body limit than the default 8 MiB so oversized bodies stay cheap to send.
server_args=(--model "$model" --backend cpu --port 0 --max-body-bytes 262144 --shutdown-timeout 5)
[ -n "$threads" ] && server_args+=(--threads "$threads")
# glibc's per-thread caches off for the server (docs/reliability.md): with them on, its ~150
# HTTP and engine threads each fill one with freed chunks over tens of minutes and RSS
# rose 10% in 10 minutes with a flat live heap. `GLIBC_TUNABLES= scripts/soak.sh` runs
# with glibc's defaults.
tunables=${GLIBC_TUNABLES-glibc.malloc.tcache_count=0}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
GLIBC_TUNABLES=$tunables "$server_bin" "${server_args[@]}" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=""
for _ in $(seq 1 600); do
  url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/server.out" | head -1)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "soak: the server did not start:" >&2; cat "$work/server.err" >&2; exit 1
fi
echo "soak: $server_bin on $url (pid $server_pid), $concurrency clients for ${duration}s" >&2

set +e
"$loadgen_bin" --soak --url "$url" --concurrency "$concurrency" --duration "$duration" \
  --server-pid "$server_pid" --sigterm-at-end --out "$work/loadgen.json" "${extra_rss[@]}" "${extra[@]}" >/dev/null
loadgen_rc=$?
# The loadgen waited for the process to go; reap it (SIGKILL if it is still there).
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$server_pid" 2>/dev/null
wait "$server_pid"
server_rc=$?
server_pid=""
set -e
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work/loadgen.json" "$out" "$server_rc" "$loadgen_rc" "$load_before" "$load_after" \
  "$(nproc)" "$(git describe --always --dirty 2>/dev/null || echo unknown)" "$model" "${server_args[*]}" \
  "$work/server.err" "$tunables" <<'EOF'
import json, sys, datetime, platform
src, out, server_rc, loadgen_rc, before, after, nproc, commit, model, argv, err_path, tunables = sys.argv[1:13]
try:
    report = json.load(open(src))
except Exception as e:  # the loadgen died before writing: every check failed
    report = {"pass": False, "checks": {"loadgen_report": {"pass": False, "value": str(e), "limit": "a report"}}}
report["checks"]["server_exit_code"] = {"pass": server_rc == "0", "value": int(server_rc), "limit": 0}
report["pass"] = all(c["pass"] for c in report["checks"].values())
report["artifact"] = "soak"
report["date_utc"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
report["commit"] = commit
report["server"] = {"model": model, "args": argv, "env": {"GLIBC_TUNABLES": tunables}, "exit_code": int(server_rc),
                    "stderr_tail": open(err_path, errors="replace").read()[-2000:]}
report["machine"] = {"cpus": int(nproc), "cpu": platform.processor() or platform.machine(),
                     "loadavg_before": before, "loadavg_after": after,
                     "note": "loadavg is the whole machine's (1, 5, 15 min); server_process.load1 samples it during the run"}
report["loadgen_exit_code"] = int(loadgen_rc)
json.dump(report, open(out, "w"), indent=2)
open(out, "a").write("\n")
width = max(len(k) for k in report["checks"])
for k, c in report["checks"].items():
    print(f"  {'ok  ' if c['pass'] else 'FAIL'} {k:<{width}}  {json.dumps(c['value'])}  (limit {json.dumps(c['limit'])})")
for s in report.get("violation_samples", [])[:5]:
    print("  violation:", s)
print(("PASS" if report["pass"] else "FAIL") + f": {out}")
sys.exit(0 if report["pass"] else 1)
EOF
