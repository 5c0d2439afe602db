#!/usr/bin/env python3
"""Server overhead per generated token: ax-engine-server (HTTP + SSE, measured by
ax-loadgen at concurrency 1) against the in-process engine (ax-engine-bench generate),
same model, prompt ids, max_tokens, backend, threads and decode policy.

  overhead = server decode ms/token / in-process decode ms/token - 1   (target <= 3%)

Decode time per token is (last token - first token) / (tokens - 1) for both: the
server's is what the client sees (event arrival times), the engine's is its own
decode_seconds. Both take the median over --runs requests, after one warm-up request. The in-process
side is one warm engine running the requests one after another (generate
--prompts-file --concurrency 1); each side runs --repeats rounds, alternating, and
the best round of each is compared (machine noise only ever adds time). Writes one JSON file under
benchmarks/results/<date>/ and prints it.

  tools/loadgen/server_overhead.py --model DIR [--bin build/bin] [--max-tokens 256]
      [--prompt-tokens 32] [--runs 5] [--threads N] [--policy direct|ngram] [--backend auto]
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile


def run_inprocess(a, ids, workdir):
    """One engine process, --runs + 1 identical requests one after another (the first
    warms up), as ax-engine-bench generate --prompts-file --concurrency 1 runs them."""
    prompts = os.path.join(workdir, "server_overhead_prompts.jsonl")
    with open(prompts, "w") as f:
        for _ in range(a.runs + 1):
            f.write(json.dumps({"tokens": [int(x) for x in ids.split(",")], "max_tokens": a.max_tokens,
                                "ignore_eos": True}) + "\n")
    cmd = [os.path.join(a.bin, "ax-engine-bench"), "generate", "--model", a.model, "--prompts-file", prompts,
           "--concurrency", "1", "--json", "--policy", a.policy, "--backend", a.backend]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]
    reqs = [r for r in rows if "completion_tokens" in r][1:]
    per_token = [r["decode_seconds"] * 1e3 / (r["completion_tokens"] - 1) for r in reqs]
    return {"decode_ms_per_token_median": statistics.median(per_token), "decode_ms_per_token_runs": per_token,
            "decode_tok_s_median": statistics.median(r["decode_tok_s"] for r in reqs),
            "itl_ms_p50_median": statistics.median(r["itl_ms_p50"] for r in reqs),
            "route": reqs[0].get("route")}


def run_server(a, ids):
    cmd = [os.path.join(a.bin, "ax-engine-server"), "--model", a.model, "--port", "0", "--policy", a.policy,
           "--backend", a.backend, "--max-seqs", "1"] + (["--threads", str(a.threads)] if a.threads else [])
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            raise RuntimeError("server did not start: " + line + srv.stderr.read())
        lg = [os.path.join(a.bin, "ax-loadgen"), "--url", m.group(1), "--route", "generate", "--concurrency", "1",
              "--requests", str(a.runs), "--warmup", "1", "--prompt-ids", ids, "--max-tokens", str(a.max_tokens),
              "--ignore-eos", "--policy", a.policy]
        r = json.loads(subprocess.run(lg, check=True, capture_output=True, text=True).stdout)
    finally:
        srv.terminate()
        srv.wait(timeout=60)
    return {"decode_ms_per_token_median": r["decode_ms_per_token_per_request"]["p50"],
            "decode_tok_s_median": r["decode_tok_s_per_request"]["p50"],
            "ttft_ms_median": r["ttft_ms"]["p50"], "itl_ms": r["itl_ms"], "errors": r["errors"],
            "exit_code": srv.returncode}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--bin", default="build/bin")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--prompt-tokens", type=int, default=32)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3, help="alternating in-process/server rounds; best of each")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--policy", default="direct")
    p.add_argument("--backend", default="auto")
    p.add_argument("--out-dir", default=None)
    p.add_argument("--label", default="")
    a = p.parse_args()
    ids = ",".join(str(3 + (k * 104729) % 500) for k in range(a.prompt_tokens))
    out_dir = a.out_dir or os.path.join("benchmarks", "results", datetime.date.today().isoformat())
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inproc, server = [], []
        for _ in range(a.repeats):  # alternate, so drift in machine load hits both sides
            inproc.append(run_inprocess(a, ids, tmp))
            server.append(run_server(a, ids))
    inproc = min(inproc, key=lambda r: r["decode_ms_per_token_median"])
    server = min(server, key=lambda r: r["decode_ms_per_token_median"])
    base, srv = inproc["decode_ms_per_token_median"], server["decode_ms_per_token_median"]
    overhead = srv / base - 1.0
    date = datetime.date.today().isoformat()
    result = {
        "benchmark": "server_overhead_per_token",
        "date": date,
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "model": os.path.abspath(a.model),
        "config": {"max_tokens": a.max_tokens, "prompt_tokens": a.prompt_tokens, "runs": a.runs,
                   "repeats": a.repeats,
                   "threads": a.threads, "policy": a.policy, "backend": a.backend, "concurrency": 1},
        "in_process": inproc,
        "server": server,
        "overhead_us_per_token": (srv - base) * 1e3,
        "overhead_pct_per_token": overhead * 100.0,
        "target_pct": 3.0,
        "within_target": overhead <= 0.03,
    }
    name = "server_overhead_" + (a.label or os.path.basename(os.path.normpath(a.model))) + ".json"
    path = os.path.join(out_dir, name)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
