// The TypeScript client (clients/js), compiled with tsc by the e2e_setup_js_client
// fixture, against live servers: completions, chat, the native token route, streaming,
// the runtime report, errors, and its SSE parser on awkward framing.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const L = require('./lib/server');

const { AxClient, AxError, SseParser } = require(path.join(process.env.AX_JS_CLIENT, 'index.js'));

let stories;
let chatSrv;

async function collect(gen) {
  const out = [];
  for await (const c of gen) out.push(c);
  return out;
}

describe('AxClient', () => {
  before(async () => {
    stories = await L.startServer();
    chatSrv = await L.startServer({ model: L.CHAT_MODEL });
  });
  after(async () => {
    if (stories) await stories.stop();
    if (chatSrv) await chatSrv.stop();
  });

  it('reads the runtime report and the model list', async () => {
    const ax = new AxClient({ baseUrl: `${stories.url}/v1` });
    const r = await ax.runtime();
    assert.equal(r.support_tier, 'repo_owned');
    assert.equal(r.token_ids, true);
    assert.equal(r.throughput_is_ours, true);
    assert.equal((await ax.models())[0].id, 'stories260K');
  });

  it('completions: streamed text equals the blocking text', async () => {
    const ax = new AxClient({ baseUrl: stories.url });
    const req = { prompt: 'Once upon a time', max_tokens: 20, temperature: 0.7, seed: 3 };
    const full = await ax.completions(req);
    const chunks = await collect(ax.streamCompletions(req));
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), full.choices[0].text);
    assert.equal(chunks.at(-1).usage.completion_tokens, full.usage.completion_tokens);
  });

  it('generate: token ids in and out, streamed one per event', async () => {
    const ax = new AxClient({ baseUrl: stories.url });
    const full = await ax.generate({ tokens: [1, 403, 407], max_tokens: 12 });
    assert.equal(full.choices[0].tokens.length, 12);
    const chunks = await collect(ax.streamGenerate({ tokens: [1, 403, 407], max_tokens: 12 }));
    const ids = chunks.flatMap((c) => c.choices.filter((x) => x.token !== undefined).map((x) => x.token));
    assert.deepEqual(ids, full.choices[0].tokens);
  });

  it('chat: streamed content (and reasoning) equals the blocking message', async () => {
    const ax = new AxClient({ baseUrl: chatSrv.url });
    const req = { messages: [{ role: 'user', content: 'Hello' }], max_tokens: 16 };
    const full = await ax.chat(req);
    const msg = full.choices[0].message;
    assert.equal(msg.role, 'assistant');
    const chunks = await collect(ax.streamChat(req));
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const reasoning = chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('');
    assert.equal(content, msg.content ?? '');
    assert.equal(reasoning, msg.reasoning_content ?? '');
  });

  it('errors are AxError with the server fields, blocking and streaming', async () => {
    const ax = new AxClient({ baseUrl: stories.url });
    for (const call of [() => ax.completions({ prompt: 'x', temperature: -1 }),
      () => collect(ax.streamCompletions({ prompt: 'x', temperature: -1 }))]) {
      await assert.rejects(call, (e) => e instanceof AxError && e.status === 400 && e.param === 'temperature');
    }
    const locked = new AxClient({ baseUrl: 'http://127.0.0.1:1' });
    await assert.rejects(() => locked.runtime(), (e) => e instanceof AxError && e.status === 0);
    assert.throws(() => new AxClient({ baseUrl: 'localhost:8080' }), /baseUrl/);
  });

  it('its SSE parser takes events split anywhere', () => {
    const text = ': ping\r\n\r\ndata: {"a":1}\r\n\r\nevent: e\ndata: x\ndata: y\n\ndata: [DONE]\r\r';
    for (const piece of [1, 2, 5, 1000]) {
      const p = new SseParser();
      const evs = [];
      for (let i = 0; i < text.length; i += piece) evs.push(...p.feed(text.slice(i, i + piece)));
      assert.deepEqual(evs, [{ event: '', data: '{"a":1}' }, { event: 'e', data: 'x\ny' }, { event: '', data: '[DONE]' }]);
    }
  });
});
