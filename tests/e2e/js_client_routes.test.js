// The TypeScript client (clients/js) on each route a server resolves to: servers started
// with serverArgs() of a SessionConfig (include/ax/session.h's names) on the
// openai_delegated route, on auto (delegating for a model doctor refuses, repo-owned for
// one it accepts), their runtime reports read through AxClient.runtime(), and the
// SessionOptions fields (n, parallel_tool_calls, reasoning_effort, tool_choice) sent
// through the client to a real upstream (a second ax-engine-server). The llama_cpp
// route's run against a real llama-server is llama_cpp.test.js.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const L = require('./lib/server');

const { AxClient, AxError, serverArgs, SESSION_DEFAULTS } = require(path.join(process.env.AX_JS_CLIENT, 'index.js'));

const REPORT_FIELDS = ['selected_backend', 'support_tier', 'resolution_policy', 'resolution_reason', 'backend_detail',
  'token_ids', 'throughput_is_ours', 'upstream_url', 'model_id', 'model_dir', 'architecture', 'family',
  'weight_format'];
const SEEDED = { prompt: 'Once upon a time', max_tokens: 12, temperature: 0.9, seed: 7 };

let upstream, chatUpstream, proxy, chatProxy, autoDelegated, autoLocal, dir;

describe('AxClient on each route', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-js-routes-'));
    const mamba = path.join(dir, 'mamba');
    fs.mkdirSync(mamba);
    fs.writeFileSync(path.join(mamba, 'config.json'), JSON.stringify({
      architectures: ['MambaForCausalLM'], model_type: 'mamba', hidden_size: 64, num_hidden_layers: 2, vocab_size: 256,
    }));
    [upstream, chatUpstream] = await Promise.all([L.startServer(), L.startServer({ model: L.CHAT_MODEL })]);
    [proxy, chatProxy, autoDelegated, autoLocal] = await Promise.all([
      L.startServer({ args: serverArgs({ policy: 'openai_delegated', upstream_url: `${upstream.url}/v1`,
                                         upstream_timeout_s: 30, upstream_connect_timeout_s: 5 }) }),
      L.startServer({ args: serverArgs({ policy: 'openai_delegated', upstream_url: chatUpstream.url }) }),
      L.startServer({ model: mamba, args: serverArgs({ upstream_url: upstream.url }) }),  // policy: auto
      L.startServer({ args: serverArgs({ upstream_url: upstream.url, decode_policy: 'direct', prefix_caching: false }) }),
    ]);
  });
  after(async () => {
    for (const s of [proxy, chatProxy, autoDelegated, autoLocal, upstream, chatUpstream]) if (s) await s.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serverArgs: the C++ names as server flags, policy auto by default, unknown fields refused', () => {
    assert.equal(SESSION_DEFAULTS.policy, 'auto');
    assert.equal(SESSION_DEFAULTS.max_seqs, 16);
    assert.equal(SESSION_DEFAULTS.upstream_timeout_s, 300);
    assert.deepEqual(serverArgs({}), ['--support-tier', 'auto']);
    assert.deepEqual(serverArgs({ policy: 'llama_cpp', upstream_url: 'http://h:1', prefix_caching: false,
                                  decode_policy: 'direct', upstream_connect_timeout_s: 3 }),
                     ['--support-tier', 'llama_cpp', '--upstream-url', 'http://h:1', '--no-prefix-caching',
                      '--policy', 'direct', '--upstream-connect-timeout', '3']);
    assert.throws(() => serverArgs({ upstream: 'http://h:1' }), /unknown SessionConfig field 'upstream'/);
  });

  it('openai_delegated: the report names the route, the upstream and its model, no throughput of ours', async () => {
    const r = await new AxClient({ baseUrl: proxy.url }).runtime();
    for (const f of REPORT_FIELDS) assert.ok(f in r, `runtime report field ${f}`);
    assert.equal(r.support_tier, 'openai_delegated');
    assert.equal(r.selected_backend, 'openai_delegated');
    assert.equal(r.resolution_policy, 'openai_delegated');
    assert.equal(r.upstream_url, upstream.url);
    assert.equal(r.model_id, 'stories260K');
    assert.equal(r.weight_format, '');
    assert.equal(r.token_ids, false);
    assert.equal(r.throughput_is_ours, false);
  });

  it("auto: delegates a model doctor refuses, saying why; runs one it accepts here", async () => {
    const d = await new AxClient({ baseUrl: autoDelegated.url }).runtime();
    assert.equal(d.resolution_policy, 'auto');
    assert.equal(d.support_tier, 'openai_delegated');
    assert.match(d.resolution_reason, /doctor:.*MambaForCausalLM/);
    assert.match(d.resolution_reason, /delegated to/);
    const l = await new AxClient({ baseUrl: autoLocal.url }).runtime();
    assert.equal(l.resolution_policy, 'auto');
    assert.equal(l.support_tier, 'repo_owned');
    assert.equal(l.selected_backend, 'cpu');
    assert.match(l.resolution_reason, /doctor accepts/);
    assert.equal(l.model_id, 'stories260K');
    assert.equal(l.architecture, 'LlamaForCausalLM');
    assert.equal(l.family, 'llama');
    assert.ok(l.weight_format.length > 0, 'weight format');
    assert.equal(l.token_ids, true);
    assert.equal(l.throughput_is_ours, true);
    // The engine options reached the engine.
    const g = await new AxClient({ baseUrl: autoLocal.url }).generate({ tokens: [1, 403, 407], max_tokens: 4 });
    assert.equal(g.choices[0].tokens.length, 4);
    // An auto server that delegated answers as the upstream does.
    const ax = new AxClient({ baseUrl: autoDelegated.url });
    const want = await new AxClient({ baseUrl: upstream.url }).completions(SEEDED);
    assert.equal((await ax.completions(SEEDED)).choices[0].text, want.choices[0].text);
  });

  it('n choices through the client equal the upstream\'s, blocking and streamed', async () => {
    const ax = new AxClient({ baseUrl: proxy.url });
    const want = await new AxClient({ baseUrl: upstream.url }).completions({ ...SEEDED, n: 3 });
    const got = await ax.completions({ ...SEEDED, n: 3 });
    assert.deepEqual(got.choices.map((c) => [c.index, c.text]), want.choices.map((c) => [c.index, c.text]));
    assert.equal(new Set(got.choices.map((c) => c.text)).size, 3);
    const texts = ['', '', ''];
    for await (const c of ax.streamCompletions({ ...SEEDED, n: 3 }))
      for (const ch of c.choices) texts[ch.index] += ch.text;
    assert.deepEqual(texts, want.choices.map((c) => c.text));
    await assert.rejects(() => ax.completions({ ...SEEDED, n: 0 }), (e) => e instanceof AxError && e.param === 'n');
  });

  it('chat SessionOptions (tool_choice, parallel_tool_calls, reasoning_effort) reach the upstream', async () => {
    const ax = new AxClient({ baseUrl: chatProxy.url });
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const messages = [{ role: 'user', content: 'Weather in Paris?' }];
    const req = { messages, tools, max_tokens: 6, parallel_tool_calls: false, reasoning_effort: 'low' };
    const want = await new AxClient({ baseUrl: chatUpstream.url }).chat(req);
    const got = await ax.chat(req);
    assert.equal(got.choices[0].message.content, want.choices[0].message.content);
    // The upstream judges tool_choice: its 400 comes back with its message.
    await assert.rejects(
      () => ax.chat({ ...req, tool_choice: { type: 'function', function: { name: 'nope' } } }),
      (e) => e instanceof AxError && e.status === 400 && /nope/.test(e.message));
    await assert.rejects(() => ax.chat({ ...req, reasoning_effort: 'extreme' }),
                         (e) => e instanceof AxError && e.status === 400 && e.param === 'reasoning_effort');
  });
});
