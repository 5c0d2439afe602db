// The llama_cpp route against a real llama-server (llama.cpp), run when one is given:
// AX_LLAMA_SERVER (the binary) and AX_LLAMA_GGUF (stories260K as GGUF, written by
// scripts/llama_cpp/stories_to_gguf.py; scripts/llama_cpp/record_run.sh makes both and
// runs this). stories260K has an exact oracle (reference.json: greedy ids from a float64
// reference, equal to llama2.c's), so the ids llama-server returns through the route
// are checked against it, and the same ids from our own engine beside them.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const L = require('./lib/server');

const SERVER = process.env.AX_LLAMA_SERVER;
const GGUF = process.env.AX_LLAMA_GGUF;
const BENCH = process.env.AX_BENCH_BIN;
const SKIP = !SERVER || !fs.existsSync(SERVER) ? 'no llama-server (set AX_LLAMA_SERVER)'
           : !GGUF || !fs.existsSync(GGUF) ? 'no stories260K GGUF (set AX_LLAMA_GGUF)'
           : !BENCH ? 'AX_BENCH_BIN is not set' : false;
const REF = JSON.parse(fs.readFileSync(path.join(L.STORIES, 'reference.json'), 'utf8')).cases[0];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// llama-server on a free port, ready once GET /health answers 200.
async function startLlama() {
  const port = await freePort();
  const proc = spawn(SERVER, ['-m', GGUF, '--host', '127.0.0.1', '--port', String(port), '-c', '512', '-np', '1',
                              '-t', '1', '--no-webui'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await L.waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`llama-server exited:\n${err}`);
    return (await L.request(url, '/health', { method: 'GET' }).catch(() => ({}))).status === 200;
  }, 60000, 100);
  return { url, proc, stop: () => { proc.kill('SIGTERM'); return exited; } };
}

const bench = (args) => JSON.parse(execFileSync(BENCH, ['generate', ...args, '--json'], { encoding: 'utf8' }));

let llama, proxy, own;

describe('llama_cpp route', { skip: SKIP }, () => {
  before(async () => {
    llama = await startLlama();
    [proxy, own] = await Promise.all([
      L.startServer({ args: ['--support-tier', 'llama_cpp', '--upstream-url', llama.url] }),
      L.startServer(),
    ]);
  });
  after(async () => {
    for (const s of [proxy, own, llama]) if (s) await s.stop();
  });

  it('reports the route: llama_cpp, token ids given, no throughput of ours', async () => {
    const r = await L.request(proxy.url, '/v1/runtime', { method: 'GET' });
    assert.equal(r.json.support_tier, 'llama_cpp');
    assert.equal(r.json.selected_backend, 'llama_cpp');
    assert.equal(r.json.token_ids, true);
    assert.equal(r.json.throughput_is_ours, false);
    assert.equal(r.json.upstream_url, llama.url);
  });

  it("greedy ids through the route equal the reference's and our engine's", () => {
    const args = ['--tokens', REF.prompt_ids.join(','), '--max-tokens', String(REF.greedy_ids.length), '--ignore-eos'];
    const got = bench(['--support-tier', 'llama_cpp', '--upstream-url', llama.url, ...args]);
    assert.equal(got.route.support_tier, 'llama_cpp');
    assert.equal(got.throughput_claim, false);
    assert.deepEqual(got.output_tokens, REF.greedy_ids);
    const ours = bench(['--support-tier', 'repo_owned', '--model', L.STORIES, '--backend', 'cpu', ...args]);
    assert.deepEqual(ours.output_tokens, got.output_tokens);
    assert.equal(got.upstream_usage.completion_tokens, REF.greedy_ids.length);
    assert.equal(got.upstream_usage.prompt_tokens, REF.prompt_ids.length);
  });

  it('completions through the proxy equal our own server\'s text, blocking and streamed', async () => {
    const body = { prompt: REF.prompt_ids, max_tokens: 24, temperature: 0, ignore_eos: true };
    const want = await L.request(own.url, '/v1/completions', { body });
    const got = await L.request(proxy.url, '/v1/completions', { body });
    assert.equal(got.status, 200, got.body);
    assert.equal(got.json.choices[0].text, want.json.choices[0].text);
    assert.equal(got.json.choices[0].finish_reason, 'length');
    assert.equal(got.json.usage.completion_tokens, 24);
    const s = await L.stream(proxy.url, '/v1/completions', body);
    assert.ok(s.done);
    assert.equal(L.streamedText(s.events), want.json.choices[0].text);
    const stop = await L.request(proxy.url, '/v1/completions', { body: { ...body, n: 2 } });
    assert.equal(stop.status, 400, stop.body);
    assert.equal(stop.json.error.param, 'n');
  });

  it("llama-server's refusal comes back as a 400 with its message", async () => {
    const r = await L.request(proxy.url, '/v1/completions', { body: { prompt: [1, 999999], max_tokens: 2 } });
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.error.message, /HTTP 400/);
  });
});
