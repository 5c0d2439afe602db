// (d) Streamed text equals non-streamed text, for every route and option that shapes
// the output; SSE framing as OpenAI clients expect it; UTF-8 never split.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

let text;
let chat;
let chatModel;

function choicesOf(json) {
  return json.choices.map((c) => ({ text: c.text ?? c.message.content, finish: c.finish_reason }));
}

function streamedChoices(events, n) {
  const fin = L.finishReasons(events);
  return Array.from({ length: n }, (_, i) => ({ text: L.streamedText(events, i), finish: fin[i] }));
}

// A delta that ended inside a UTF-8 sequence would reach the client as U+FFFD; when the
// whole text has none (the model may emit invalid byte sequences itself), no delta may.
function checkFraming(r, n, fullTexts = []) {
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  assert.ok(r.done, 'ends with data: [DONE]');
  const fins = r.events.flatMap((e) => (e.choices || []).filter((c) => c.finish_reason));
  assert.equal(fins.length, n, 'one finish per choice');
  for (const e of r.events) for (const c of e.choices || []) {
    const t = c.text ?? (c.delta && c.delta.content) ?? '';
    if (fullTexts[c.index] !== undefined && !fullTexts[c.index].includes('\ufffd'))
      assert.ok(!t.includes('\ufffd'), `a delta split a UTF-8 character: ${JSON.stringify(t)}`);
  }
}

async function compare(srv, path, body) {
  const full = await L.request(srv.url, path, { body });
  assert.equal(full.status, 200, full.body);
  const n = full.json.choices.length;
  const s = await L.stream(srv.url, path, { ...body, stream_options: { include_usage: true } });
  checkFraming(s, n, choicesOf(full.json).map((c) => c.text));
  assert.deepEqual(streamedChoices(s.events, n), choicesOf(full.json), JSON.stringify(body));
  const usage = s.events[s.events.length - 1].usage;
  assert.equal(usage.completion_tokens, full.json.usage.completion_tokens);
  return { full: full.json, events: s.events };
}

describe('streamed equals non-streamed', () => {
  before(async () => {
    [text, chat] = await Promise.all([L.startServer(), L.startServer({ model: L.CHAT_MODEL })]);
    chatModel = (await L.request(chat.url, '/v1/models', { method: 'GET' })).json.data[0].id;
  });
  after(async () => {
    for (const c of await Promise.all([text.stop(), chat.stop()])) assert.equal(c.code, 0);
  });

  it('completions: greedy, sampled with n, stop strings, echo, penalties, logprobs', async () => {
    const cases = [
      { prompt: 'Once upon a time', max_tokens: 80 },
      { prompt: 'The little dog', max_tokens: 40, n: 3, temperature: 0.9, top_p: 0.9, top_k: 40, seed: 11 },
      { prompt: 'Lily wanted to', max_tokens: 40, temperature: 0.7, min_p: 0.05, seed: 3, stop: ['e', 'xyz'] },
      { prompt: ['One day', [1, 300, 301]], max_tokens: 20, echo: true },
      { prompt: 'Tom', max_tokens: 30, repetition_penalty: 1.3, presence_penalty: 0.5, frequency_penalty: 0.5 },
      { prompt: 'Mom said', max_tokens: 20, logprobs: 2, policy: 'direct' },
    ];
    for (const body of cases) {
      const { full, events } = await compare(text, '/v1/completions', body);
      if (body.logprobs) {
        const streamed = events.flatMap((e) => e.choices.flatMap((c) => (c.logprobs ? c.logprobs.token_logprobs : [])));
        assert.deepEqual(streamed, full.choices[0].logprobs.token_logprobs);
      }
    }
  });

  it('generate: streamed token ids equal the returned ids', async () => {
    for (const body of [{ tokens: [1, 50, 60, 70], max_tokens: 50 },
      { prompt: 'Once upon a time', max_tokens: 30, temperature: 1.0, seed: 5, logprobs: true }]) {
      const full = await L.request(text.url, '/v1/generate', { body });
      const s = await L.stream(text.url, '/v1/generate', body);
      checkFraming(s, 1, [full.json.choices[0].text]);
      const ids = s.events.flatMap((e) => e.choices.filter((c) => c.token !== undefined).map((c) => c.token));
      assert.deepEqual(ids, full.json.choices[0].tokens);
      assert.equal(L.streamedText(s.events), full.json.choices[0].text);
      const usage = s.events[s.events.length - 1].usage;
      assert.equal(usage.completion_tokens, ids.length);
    }
  });

  it('chat: greedy and sampled, multi-byte text', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: '你好，世界! Ça va?' }];
    await compare(chat, '/v1/chat/completions', { model: chatModel, messages, max_tokens: 60 });
    await compare(chat, '/v1/chat/completions', { model: chatModel, messages, max_tokens: 40, n: 2,
      temperature: 1.0, seed: 9 });
    const { full } = await compare(chat, '/v1/chat/completions', { model: chatModel, messages, max_tokens: 20,
      logprobs: true, top_logprobs: 1, stop: ['\n'] });
    assert.ok(full.choices[0].logprobs.content.length >= 1 || full.choices[0].finish_reason === 'stop');
  });
});

// A stream that waits for a seat (one seat, taken by a long request on the chat model's
// 151,936-row LM head: hundreds of milliseconds) gets ": keep-alive" comments, and its
// events are those of a stream that did not wait.
describe('keep-alive comments', () => {
  let srv;
  before(async () => {
    srv = await L.startServer({ model: L.CHAT_MODEL, args: ['--max-seqs', '1', '--sse-keepalive-ms', '20'] });
  });
  after(async () => { assert.equal((await srv.stop()).code, 0); });

  it('are sent while a stream waits, and change nothing else', async () => {
    const body = { prompt: 'Once upon a time', max_tokens: 16, temperature: 0 };
    const alone = await L.stream(srv.url, '/v1/completions', body);
    const long = L.request(srv.url, '/v1/completions', { body: { prompt: 'A cat sat', max_tokens: 300,
                                                                 ignore_eos: true } });
    await new Promise((r) => setTimeout(r, 30));  // the long request takes the seat first
    const waited = await L.stream(srv.url, '/v1/completions', body);
    assert.equal((await long).status, 200);
    assert.ok(waited.comments > 0, 'no keep-alive comment while waiting');
    assert.equal(L.streamedText(waited.events), L.streamedText(alone.events));
    assert.ok(waited.done);
  });
});
