// ax-engine-server --support-tier openai_delegated: a server that forwards to a real
// upstream (a second ax-engine-server on stories260K, started here). Its answers must
// equal the upstream's own, blocking and streamed; its report must say it delegates;
// n > 1 must give the upstream's n choices; and the upstream's failures must reach the
// client as 400 (with the upstream's message), 502 (upstream gone) and 504 (upstream
// stopped answering). Reasoning and tool calls: delegated_chat.test.js.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

let upstream;
let proxy;

const BODY = { prompt: 'Once upon a time', max_tokens: 24, temperature: 0 };
const SEEDED = { ...BODY, temperature: 0.9, top_p: 0.95, top_k: 20, min_p: 0.02, repetition_penalty: 1.1, seed: 99 };

describe('openai_delegated server', () => {
  before(async () => {
    upstream = await L.startServer();
    proxy = await L.startServer({
      args: ['--support-tier', 'openai_delegated', '--upstream-url', `${upstream.url}/v1`, '--upstream-timeout', '2'],
    });
  });
  after(async () => {
    if (proxy) await proxy.stop();
    if (upstream) { upstream.proc.kill('SIGCONT'); await upstream.stop(); }
  });

  it('reports the route in /v1/runtime, /metrics and /v1/models', async () => {
    const r = await L.request(proxy.url, '/v1/runtime', { method: 'GET' });
    assert.equal(r.status, 200);
    assert.equal(r.json.support_tier, 'openai_delegated');
    assert.equal(r.json.selected_backend, 'openai_delegated');
    assert.equal(r.json.resolution_policy, 'openai_delegated');
    assert.equal(r.json.token_ids, false);
    assert.equal(r.json.throughput_is_ours, false);
    assert.equal(r.json.upstream_url, upstream.url);
    const m = await L.metrics(proxy.url);
    const info = Object.keys(m).find((k) => k.startsWith('ax_runtime_info{'));
    assert.ok(info && info.includes('support_tier="openai_delegated"'), info);
    const own = await L.request(upstream.url, '/v1/runtime', { method: 'GET' });
    assert.equal(own.json.support_tier, 'repo_owned');
    const models = await L.request(proxy.url, '/v1/models', { method: 'GET' });
    assert.equal(models.json.data[0].id, 'stories260K');
  });

  for (const [name, body] of [['greedy', BODY], ['seeded sampling', SEEDED]]) {
    it(`${name}: completions equal the upstream's, blocking and streamed`, async () => {
      const want = await L.request(upstream.url, '/v1/completions', { body });
      assert.equal(want.status, 200, want.body);
      const got = await L.request(proxy.url, '/v1/completions', { body });
      assert.equal(got.status, 200, got.body);
      assert.equal(got.json.object, 'text_completion');
      assert.equal(got.json.choices[0].text, want.json.choices[0].text);
      assert.equal(got.json.choices[0].finish_reason, want.json.choices[0].finish_reason);
      assert.equal(got.json.usage.completion_tokens, want.json.usage.completion_tokens);
      const s = await L.stream(proxy.url, '/v1/completions', { ...body, stream_options: { include_usage: true } });
      assert.equal(s.status, 200);
      assert.ok(s.done);
      assert.equal(L.streamedText(s.events), want.json.choices[0].text);
      assert.ok(s.events.length > 3, 'chunk by chunk');
      assert.equal(s.events.at(-1).usage.completion_tokens, want.json.usage.completion_tokens);
    });
  }

  it('n > 1: the choices equal the upstream\'s (seeded per choice), blocking and streamed', async () => {
    const body = { ...SEEDED, n: 3 };
    const want = await L.request(upstream.url, '/v1/completions', { body });
    assert.equal(want.status, 200, want.body);
    const texts = want.json.choices.map((c) => c.text);
    assert.equal(new Set(texts).size, 3, 'three different samples');
    const got = await L.request(proxy.url, '/v1/completions', { body });
    assert.equal(got.status, 200, got.body);
    const shape = (j) => j.choices.map((c) => [c.index, c.text, c.finish_reason]);
    assert.deepEqual(shape(got.json), shape(want.json));
    assert.equal(got.json.usage.completion_tokens, want.json.usage.completion_tokens);
    const s = await L.stream(proxy.url, '/v1/completions', { ...body, stream_options: { include_usage: true } });
    assert.ok(s.done);
    for (const i of [0, 1, 2]) assert.equal(L.streamedText(s.events, i), texts[i]);
    assert.deepEqual(L.finishReasons(s.events), Object.fromEntries(want.json.choices.map((c) => [c.index, c.finish_reason])));
    assert.equal(s.events.at(-1).usage.completion_tokens, want.json.usage.completion_tokens);
    for (const n of [0, 17]) {
      const bad = await L.request(proxy.url, '/v1/completions', { body: { ...BODY, n } });
      assert.equal(bad.status, 400, bad.body);
      assert.equal(bad.json.error.param, 'n');
    }
  });

  it('chat completions are forwarded', async () => {
    const body = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 };
    const want = await L.request(upstream.url, '/v1/chat/completions', { body });
    const got = await L.request(proxy.url, '/v1/chat/completions', { body });
    assert.equal(got.status, want.status, got.body);
    if (want.status === 200) assert.equal(got.json.choices[0].message.content, want.json.choices[0].message.content);
    else assert.ok(got.json.error.message.includes(want.json.error.message), got.body);
  });

  it('refuses token-level fields and engine routes by name', async () => {
    const lp = await L.request(proxy.url, '/v1/completions', { body: { ...BODY, logprobs: 2 } });
    assert.equal(lp.status, 400);
    assert.equal(lp.json.error.param, 'logprobs');
    assert.match(lp.json.error.message, /token_ids false/);
    const gen = await L.request(proxy.url, '/v1/generate', { body: { tokens: [1, 2], max_tokens: 2 } });
    assert.equal(gen.status, 501);
    assert.match(gen.json.error.message, /openai_delegated/);
  });

  it("passes the upstream's 400 on with its message", async () => {
    const r = await L.request(proxy.url, '/v1/completions', { body: { ...BODY, prompt: [999999] } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /HTTP 400/);
    assert.match(r.json.error.message, /outside the vocabulary/);
  });

  it('an upstream that stops answering is a 504, one that is gone a 502', async () => {
    upstream.proc.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      const r = await L.request(proxy.url, '/v1/completions', { body: BODY });
      assert.equal(r.status, 504, r.body);
      assert.equal(r.json.error.code, 'upstream_timeout');
      assert.ok(Date.now() - t0 < 10000);
    } finally {
      upstream.proc.kill('SIGCONT');
    }
    await upstream.stop('SIGKILL');
    const gone = await L.request(proxy.url, '/v1/completions', { body: BODY });
    assert.equal(gone.status, 502, gone.body);
    assert.equal(gone.json.error.code, 'upstream_error');
    assert.match(gone.json.error.message, /unreachable/);
  });
});
