// The llama_cpp route against a real llama-server (llama.cpp), run when one is given:
// AX_LLAMA_SERVER (the binary) and AX_LLAMA_GGUF (stories260K as GGUF, written by
// scripts/llama_cpp/stories_to_gguf.py; scripts/llama_cpp/record_run.sh makes both and
// runs this). stories260K has an exact oracle (reference.json: greedy ids from a float64
// reference, equal to llama2.c's), so the ids llama-server returns through the route
// are checked against it (up to its first near-tie), and our own engine's beside them.
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
const TIE = 0.01;

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

  // The reference's logits have near-ties (a top-1/top-2 margin of 0.0075 at step 13 of
  // this prompt): float32 arithmetic may take either side there, so llama.cpp's ids must
  // equal the reference's up to the first step whose margin is below TIE.
  it("greedy ids through the route equal the reference's up to its first near-tie", () => {
    const args = ['--tokens', REF.prompt_ids.join(','), '--max-tokens', String(REF.greedy_ids.length), '--ignore-eos'];
    const got = bench(['--support-tier', 'llama_cpp', '--upstream-url', llama.url, ...args]);
    assert.equal(got.route.support_tier, 'llama_cpp');
    assert.equal(got.route.token_ids, true);
    assert.equal(got.throughput_claim, false);
    assert.equal(got.output_tokens.length, REF.greedy_ids.length);
    const tie = REF.step_top1_top2_margin.findIndex((m) => m < TIE);
    assert.ok(tie >= 10, `the first near-tie is at step ${tie}`);
    assert.deepEqual(got.output_tokens.slice(0, tie), REF.greedy_ids.slice(0, tie));
    assert.equal(got.upstream_usage.completion_tokens, REF.greedy_ids.length);
    assert.equal(got.upstream_usage.prompt_tokens, REF.prompt_ids.length);
    const ours = bench(['--support-tier', 'repo_owned', '--model', L.STORIES, '--backend', 'cpu', ...args]);
    assert.deepEqual(ours.output_tokens.slice(0, tie), got.output_tokens.slice(0, tie));
    // Streamed: llama-server leaves out the id of a token whose text ends inside a UTF-8
    // sequence; the answer then says it has no ids rather than give an incomplete list.
    const streamed = bench(['--support-tier', 'llama_cpp', '--upstream-url', llama.url, ...args, '--stream']);
    assert.equal(streamed.streamed, true);
    assert.equal(streamed.text, got.text);
    if (streamed.token_ids) assert.deepEqual(streamed.output_tokens, got.output_tokens);
    else assert.equal(streamed.output_tokens, undefined);
  });

  it('completions through the proxy equal our own server\'s text, blocking and streamed', async () => {
    const body = { prompt: REF.prompt_ids, max_tokens: 12, temperature: 0, ignore_eos: true };  // before the near-tie
    const want = await L.request(own.url, '/v1/completions', { body });
    const got = await L.request(proxy.url, '/v1/completions', { body });
    assert.equal(got.status, 200, got.body);
    assert.equal(got.json.choices[0].text, want.json.choices[0].text);
    assert.equal(got.json.choices[0].finish_reason, 'length');
    assert.equal(got.json.usage.completion_tokens, 12);
    const s = await L.stream(proxy.url, '/v1/completions', body);
    assert.ok(s.done);
    assert.equal(L.streamedText(s.events), want.json.choices[0].text);
  });

  // /completion has no n: the route sends n requests, choice i seeded seed + i as our own
  // n seeds its choices, so choice i is the answer to a request of n 1 with seed + i.
  it('n > 1: n requests, choice i equal to n 1 with seed + i, blocking and streamed', async () => {
    const body = { prompt: REF.prompt_ids, max_tokens: 10, temperature: 1.0, seed: 5, ignore_eos: true };
    const got = await L.request(proxy.url, '/v1/completions', { body: { ...body, n: 3 } });
    assert.equal(got.status, 200, got.body);
    assert.equal(got.json.choices.length, 3);
    for (const i of [0, 1, 2]) {
      const one = await L.request(proxy.url, '/v1/completions', { body: { ...body, seed: body.seed + i } });
      assert.equal(got.json.choices[i].index, i);
      assert.equal(got.json.choices[i].text, one.json.choices[0].text, `choice ${i}`);
    }
    assert.equal(got.json.usage.completion_tokens, 30);
    const s = await L.stream(proxy.url, '/v1/completions', { ...body, n: 3 });
    assert.ok(s.done);
    for (const i of [0, 1, 2]) assert.equal(L.streamedText(s.events, i), got.json.choices[i].text);
    const chat = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, temperature: 1.0, seed: 5, n: 2 };
    const c = await L.request(proxy.url, '/v1/chat/completions', { body: chat });
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json.choices.length, 2);
    const c1 = await L.request(proxy.url, '/v1/chat/completions', { body: { ...chat, n: 1, seed: 6 } });
    assert.equal(c.json.choices[1].message.content, c1.json.choices[0].message.content);
  });

  it("chats go through llama-server's OpenAI API: its answer, blocking and streamed", async () => {
    const body = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 0 };
    const want = await L.request(llama.url, '/v1/chat/completions', { body });
    assert.equal(want.status, 200, want.body);
    const got = await L.request(proxy.url, '/v1/chat/completions', { body });
    assert.equal(got.status, 200, got.body);
    assert.equal(got.json.choices[0].message.content, want.json.choices[0].message.content);
    assert.equal(got.json.usage.prompt_tokens, want.json.usage.prompt_tokens);
    const s = await L.stream(proxy.url, '/v1/chat/completions', body);
    assert.ok(s.done);
    assert.equal(L.streamedText(s.events), want.json.choices[0].message.content);
  });

  it("llama-server's refusal comes back as a 400 with its message", async () => {
    const r = await L.request(proxy.url, '/v1/completions', { body: { prompt: [1, 999999], max_tokens: 2 } });
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.error.message, /HTTP 400/);
  });
});
