// The openai_delegated route passes a chat's reasoning and tool calls on as the
// upstream splits them. The upstream is a real ax-engine-server on a bigram model (the
// chat test model rewritten, lib/bigram_model.js) whose greedy answer is
//   <think>Look it up.</think><tool_call>{"name":"get_weather",...}</tool_call><|im_end|>
// so its reasoning parser (Qwen3's </think> token) and tool-call parser (the Qwen3
// template's) give reasoning_content and one tool call. The proxy's answers must carry
// the same fields, blocking and streamed piece by piece; the messages of the next turn
// (the call, its result, the reasoning) must reach the upstream's template; and n
// choices come back as n choices.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const L = require('./lib/server');
const { buildBigramModel } = require('./lib/bigram_model');

const REASONING = 'Look it up.';
const { CALL, TOOLS, ASK } = require('./lib/weather_tool');
const BODY = { messages: ASK, tools: TOOLS, temperature: 0, max_tokens: 64 };

let plain, upstream, proxy, dir;

// Every piece of a choice's stream in order: [field, value] with tool-call parts as
// {index, name, arguments, id: whether one was given} (ids differ between requests).
function pieces(events, index = 0) {
  const out = [];
  for (const e of events)
    for (const c of e.choices || []) {
      if (c.index !== index) continue;
      const d = c.delta || {};
      if (d.reasoning_content) out.push(['reasoning_content', d.reasoning_content]);
      if (d.content) out.push(['content', d.content]);
      for (const t of d.tool_calls || [])
        out.push(['tool_call', { index: t.index, name: t.function?.name, arguments: t.function?.arguments,
                                 id: typeof t.id === 'string' }]);
      if (c.finish_reason) out.push(['finish_reason', c.finish_reason]);
    }
  return out;
}

const callsOf = (m) => (m.tool_calls || []).map((c) => ({ type: c.type, function: c.function }));

describe('openai_delegated chat: reasoning and tool calls', () => {
  before(async () => {
    plain = await L.startServer({ model: L.CHAT_MODEL });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-delegated-chat-'));
    const model = path.join(dir, 'qwen3-think-tools');
    await buildBigramModel(plain.url, L.CHAT_MODEL, model, { messages: ASK, tools: TOOLS },
                           `<think>${REASONING}</think>${CALL}`);
    upstream = await L.startServer({ model });
    proxy = await L.startServer({
      args: ['--support-tier', 'openai_delegated', '--upstream-url', `${upstream.url}/v1`],
    });
  });
  after(async () => {
    for (const s of [proxy, upstream, plain]) if (s) assert.equal((await s.stop()).code, 0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("returns the upstream's reasoning_content and tool_calls", async () => {
    const want = await L.request(upstream.url, '/v1/chat/completions', { body: BODY });
    assert.equal(want.status, 200, want.body);
    const w = want.json.choices[0];
    assert.equal(w.message.reasoning_content, REASONING, want.body);
    assert.equal(w.message.tool_calls.length, 1, want.body);
    const got = await L.request(proxy.url, '/v1/chat/completions', { body: BODY });
    assert.equal(got.status, 200, got.body);
    const g = got.json.choices[0];
    assert.equal(g.finish_reason, 'tool_calls');
    assert.equal(g.message.content, null);
    assert.equal(g.message.reasoning_content, REASONING);
    assert.equal(g.message.reasoning, REASONING);
    assert.deepEqual(callsOf(g.message), callsOf(w.message));
    assert.match(g.message.tool_calls[0].id, /^call_[0-9a-f]{24}$/);
    assert.deepEqual(JSON.parse(g.message.tool_calls[0].function.arguments), { city: 'Paris' });
    assert.equal(got.json.usage.completion_tokens, want.json.usage.completion_tokens);
  });

  it('streams the same pieces the upstream streams', async () => {
    const want = await L.stream(upstream.url, '/v1/chat/completions', BODY);
    const got = await L.stream(proxy.url, '/v1/chat/completions', { ...BODY, stream_options: { include_usage: true } });
    assert.equal(got.status, 200);
    assert.ok(got.done);
    const p = pieces(got.events);
    assert.deepEqual(p, pieces(want.events));
    assert.ok(p.filter(([k]) => k === 'reasoning_content').length > 1, 'reasoning token by token');
    const parts = p.filter(([k]) => k === 'tool_call').map(([, v]) => v);
    assert.ok(parts.length > 3, `the arguments came in ${parts.length} parts`);
    assert.equal(parts[0].name, 'get_weather');
    assert.ok(parts[0].id && parts.slice(1).every((t) => !t.id && t.name === undefined));
    const first = got.events.find((e) => e.choices?.length).choices[0].delta;
    assert.equal(first.role, 'assistant');
    const id = got.events.flatMap((e) => e.choices?.[0]?.delta?.tool_calls || []).find((t) => t.id).id;
    const whole = await L.request(proxy.url, '/v1/chat/completions', { body: BODY });
    assert.match(id, /^call_[0-9a-f]{24}$/);
    assert.equal(parts.map((t) => t.arguments).join(''), whole.json.choices[0].message.tool_calls[0].function.arguments);
    assert.ok(got.events.at(-1).usage.completion_tokens > 0);
  });

  it("sends the call, its result and the reasoning back to the upstream's template", async () => {
    const first = await L.request(proxy.url, '/v1/chat/completions', { body: BODY });
    const m = first.json.choices[0].message;
    const messages = [...ASK, { role: 'assistant', content: m.content, reasoning_content: m.reasoning_content,
                                tool_calls: m.tool_calls },
                      { role: 'tool', tool_call_id: m.tool_calls[0].id, content: '{"temperature_c": 18}' }];
    const body = { ...BODY, messages, max_tokens: 4 };
    const want = await L.request(upstream.url, '/v1/chat/completions', { body });
    const got = await L.request(proxy.url, '/v1/chat/completions', { body });
    assert.equal(got.status, 200, got.body);
    // The same prompt, so the calls and the result were rendered: without them it is shorter.
    assert.equal(got.json.usage.prompt_tokens, want.json.usage.prompt_tokens);
    const bare = await L.request(proxy.url, '/v1/chat/completions', { body: { ...body, messages: ASK } });
    assert.ok(got.json.usage.prompt_tokens > bare.json.usage.prompt_tokens + 10);
  });

  it('forwards tool_choice none and refuses bad tool fields by name', async () => {
    const body = { ...BODY, tool_choice: 'none' };
    const want = await L.request(upstream.url, '/v1/chat/completions', { body });
    const got = await L.request(proxy.url, '/v1/chat/completions', { body });
    assert.equal(got.status, 200, got.body);
    assert.equal(got.json.choices[0].message.tool_calls, undefined);
    assert.equal(got.json.choices[0].message.content, want.json.choices[0].message.content);
    for (const [extra, param] of [[{ tools: {} }, 'tools'], [{ tools: [1] }, 'tools[0]'], [{ tool_choice: 3 }, 'tool_choice'],
                                  [{ reasoning_effort: 'max' }, 'reasoning_effort'],
                                  [{ messages: [{ role: 'assistant', content: null, tool_calls: {} }] },
                                   'messages[0].tool_calls']]) {
      const r = await L.request(proxy.url, '/v1/chat/completions', { body: { ...BODY, ...extra } });
      assert.equal(r.status, 400, r.body);
      assert.equal(r.json.error.param, param, r.body);
    }
    // The upstream's own refusal comes back with its message.
    const named = await L.request(proxy.url, '/v1/chat/completions',
                                  { body: { ...BODY, tool_choice: { type: 'function', function: { name: 'nope' } } } });
    assert.equal(named.status, 400, named.body);
    assert.match(named.json.error.message, /HTTP 400.*nope/);
  });

  it('returns n choices, blocking and streamed', async () => {
    const body = { ...BODY, n: 2 };
    const want = await L.request(upstream.url, '/v1/chat/completions', { body });
    assert.equal(want.json.choices.length, 2, want.body);
    const got = await L.request(proxy.url, '/v1/chat/completions', { body });
    assert.equal(got.status, 200, got.body);
    assert.deepEqual(got.json.choices.map((c) => c.index), [0, 1]);
    for (const i of [0, 1]) {
      assert.equal(got.json.choices[i].message.reasoning_content, want.json.choices[i].message.reasoning_content);
      assert.deepEqual(callsOf(got.json.choices[i].message), callsOf(want.json.choices[i].message));
      assert.equal(got.json.choices[i].finish_reason, 'tool_calls');
    }
    const s = await L.stream(proxy.url, '/v1/chat/completions', body);
    const ws = await L.stream(upstream.url, '/v1/chat/completions', body);
    for (const i of [0, 1]) assert.deepEqual(pieces(s.events, i), pieces(ws.events, i));
  });
});
