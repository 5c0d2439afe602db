// (b) Raw HTTP: every error in OpenAI's shape, malformed and truncated bodies, slow
// clients, 503 when the queue is full, and bad requests beside good ones.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

const KEY = 'sk-errors';
const AUTH = { authorization: `Bearer ${KEY}` };
let srv;

function assertError(r, status, { param, code } = {}) {
  assert.equal(r.status, status, r.body);
  assert.ok(r.json && r.json.error, `no error object in ${r.body}`);
  const e = r.json.error;
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(typeof e.type, 'string');
  assert.ok('param' in e && 'code' in e, r.body);
  if (param !== undefined) assert.equal(e.param, param, r.body);
  if (code !== undefined) assert.equal(e.code, code, r.body);
  assert.match(r.headers['content-type'], /application\/json/);
}

const post = (path, body, headers = AUTH) => L.request(srv.url, path, { body, headers });

describe('errors', () => {
  before(async () => {
    srv = await L.startServer({ args: ['--api-key', KEY, '--max-body-bytes', '65536', '--read-timeout', '2'] });
  });
  after(async () => assert.equal((await srv.stop()).code, 0));

  it('401 without the key or with a wrong one; /health and /metrics stay open', async () => {
    assertError(await post('/v1/completions', { prompt: 'x' }, {}), 401, { code: 'invalid_api_key' });
    assertError(await post('/v1/completions', { prompt: 'x' }, { authorization: 'Bearer nope' }), 401);
    assertError(await L.request(srv.url, '/v1/models', { method: 'GET' }), 401);
    assert.equal((await L.request(srv.url, '/health', { method: 'GET' })).status, 200);
    assert.equal((await L.request(srv.url, '/metrics', { method: 'GET' })).status, 200);
    const ok = await L.request(srv.url, '/v1/models', { method: 'GET', headers: { 'x-api-key': KEY } });
    assert.equal(ok.status, 200);
  });

  it('404 for unknown routes, methods and models', async () => {
    assertError(await post('/v1/nothing', {}), 404, { code: 'unknown_url' });
    assertError(await L.request(srv.url, '/v2/completions', { method: 'GET', headers: AUTH }), 404);
    assertError(await L.request(srv.url, '/v1/completions', { method: 'GET', headers: AUTH }), 404);
    assertError(await L.request(srv.url, '/v1/models', { method: 'DELETE', headers: AUTH }), 404);
    assertError(await post('/v1/completions', { model: 'gpt-4', prompt: 'x' }), 404,
      { param: 'model', code: 'model_not_found' });
    assertError(await L.request(srv.url, '/v1/models/gpt-4', { method: 'GET', headers: AUTH }), 404,
      { code: 'model_not_found' });
  });

  it('400 for malformed JSON', async () => {
    for (const raw of ['', '{', '{"prompt": "a', '{bad json}', '[1, 2]', '"text"', '42', 'null',
      '{"prompt": "\u0000"', '{"prompt": "x"} trailing']) {
      const r = await L.request(srv.url, '/v1/completions', { rawBody: raw, headers: AUTH });
      assertError(r, 400, { code: 'invalid_json' });
    }
    const bad = Buffer.from([0x7b, 0x22, 0x70, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);  // {"p":"\xff\xfe"}
    assertError(await L.request(srv.url, '/v1/completions', { rawBody: bad, headers: AUTH }), 400);
  });

  it('400 naming the field for bad values', async () => {
    const cases = [
      [{ prompt: 'x', temperature: 'hot' }, 'temperature'],
      [{ prompt: 'x', temperature: -1 }, 'temperature'],
      [{ prompt: 'x', top_p: 0 }, 'top_p'],
      [{ prompt: 'x', top_k: -5 }, 'top_k'],
      [{ prompt: 'x', min_p: 2 }, 'min_p'],
      [{ prompt: 'x', presence_penalty: 9 }, 'presence_penalty'],
      [{ prompt: 'x', frequency_penalty: 'x' }, 'frequency_penalty'],
      [{ prompt: 'x', repetition_penalty: 0 }, 'repetition_penalty'],
      [{ prompt: 'x', n: 0 }, 'n'],
      [{ prompt: 'x', n: 1000 }, 'n'],
      [{ prompt: 'x', max_tokens: 0 }, 'max_tokens'],
      [{ prompt: 'x', max_tokens: 2.5 }, 'max_tokens'],
      [{ prompt: 'x', seed: 'abc' }, 'seed'],
      [{ prompt: 'x', stop: 5 }, 'stop'],
      [{ prompt: 'x', stop: ['a', 3] }, 'stop[1]'],
      [{ prompt: 'x', stream: 'yes' }, 'stream'],
      [{ prompt: 'x', stream_options: { include_usage: true } }, 'stream_options'],
      [{ prompt: 'x', stream: true, stream_options: { include_usage: 1 } }, 'stream_options.include_usage'],
      [{ prompt: 'x', logprobs: 50 }, 'logprobs'],
      [{ prompt: 'x', logit_bias: { 5: 10 } }, 'logit_bias'],
      [{ prompt: 'x', suffix: 'tail' }, 'suffix'],
      [{ prompt: 'x', best_of: 3 }, 'best_of'],
      [{ prompt: 'x', max_tokens: 0 }, 'max_tokens'],  // 0 only with echo
      [{ prompt: 'x', policy: 'fast' }, 'policy'],
      [{ prompt: {} }, 'prompt'],
      [{ prompt: [] }, 'prompt'],
      [{ prompt: [[]] }, 'prompt[0]'],
      [{ prompt: ['ok', 7] }, 'prompt[1]'],
      [{ prompt: [1, 2, 100000] }, 'prompt[2]'],
      [{ prompt: [-1] }, 'prompt[0]'],
      [{ max_tokens: 5 }, 'prompt'],
    ];
    for (const [body, param] of cases) assertError(await post('/v1/completions', body), 400, { param });
    const gen = [
      [{ tokens: [1, 2], prompt: 'x' }, 'tokens'],
      [{}, 'tokens'],
      [{ tokens: 'abc' }, 'tokens'],
      [{ tokens: [1], top_logprobs: 99 }, 'top_logprobs'],
    ];
    for (const [body, param] of gen) assertError(await post('/v1/generate', body), 400, { param });
  });

  it('400 for chat on a model without a chat template, and for bad messages', async () => {
    assertError(await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }), 400,
      { param: 'messages', code: 'chat_template_missing' });
    assertError(await post('/v1/chat/completions', { messages: [] }), 400, { param: 'messages' });
    assertError(await post('/v1/chat/completions', {}), 400, { param: 'messages' });
  });

  it('400 context_length_exceeded for prompts longer than the context', async () => {
    const long = Array.from({ length: 600 }, (_, i) => 3 + (i % 400));
    assertError(await post('/v1/completions', { prompt: long }), 400,
      { param: 'prompt', code: 'context_length_exceeded' });
    assertError(await post('/v1/generate', { tokens: long }), 400, { code: 'context_length_exceeded' });
    assertError(await post('/v1/completions', { prompt: long.slice(0, 500), max_tokens: 100 }), 400,
      { param: 'max_tokens', code: 'context_length_exceeded' });
    assertError(await post('/v1/completions', { prompt: 'Once upon a time '.repeat(200) }), 400,
      { code: 'context_length_exceeded' });
  });

  it('413 for bodies over --max-body-bytes, plain or chunked', async () => {
    const big = { prompt: 'x'.repeat(70000) };
    assertError(await post('/v1/completions', big), 413, { code: 'request_too_large' });
    const r = await L.request(srv.url, '/v1/completions', { rawBody: JSON.stringify(big),
      headers: { ...AUTH, 'transfer-encoding': 'chunked' } });
    assertError(r, 413);
  });

  it('400 for a truncated body; the server keeps serving', async () => {
    const sock = await L.connect(srv.port);
    const body = '{"prompt": "Once upon a time", "max_tokens": 4}';
    sock.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length + 40}\r\n\r\n${body}`);
    sock.end();  // half-close: the rest of the promised body never comes
    const reply = await new Promise((resolve) => {
      let s = '';
      sock.on('data', (d) => { s += d; });
      sock.on('close', () => resolve(s));
    });
    if (reply) assert.match(reply, /^HTTP\/1\.1 400/);
    const ok = await post('/v1/completions', { prompt: 'Once', max_tokens: 2 });
    assert.equal(ok.status, 200);
  });

  it('a client that sends its request slowly is served', async () => {
    const sock = await L.connect(srv.port);
    const body = JSON.stringify({ prompt: 'Once upon a time', max_tokens: 5 });
    const req = `POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const got = new Promise((resolve) => {
      let s = '';
      sock.on('data', (d) => { s += d; });
      sock.on('close', () => resolve(s));
    });
    for (let i = 0; i < req.length; i += 12) {
      sock.write(req.slice(i, i + 12));
      await L.sleep(40);  // ~1 s in all, each gap well under the read timeout
    }
    const reply = await got;
    assert.match(reply, /^HTTP\/1\.1 200/);
    const json = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    assert.equal(json.usage.completion_tokens, 5);
  });

  it('a client that reads its stream slowly gets all of it', async () => {
    const body = { prompt: 'Once upon a time', max_tokens: 60, ignore_eos: true };
    const expected = (await post('/v1/completions', body)).json.choices[0].text;
    const sock = await L.connect(srv.port);
    const payload = JSON.stringify({ ...body, stream: true });
    sock.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    const parts = [];
    sock.on('data', (d) => {
      parts.push(d);
      sock.pause();
      setTimeout(() => sock.resume(), 30);
    });
    await new Promise((resolve) => sock.on('close', resolve));
    const raw = Buffer.concat(parts);
    assert.match(raw.subarray(0, 20).toString(), /^HTTP\/1\.1 200/);
    const sse = L.dechunk(raw.subarray(raw.indexOf('\r\n\r\n') + 4)).toString('utf8');
    const { events, done } = L.parseSse(sse);
    assert.ok(done);
    assert.equal(L.streamedText(events), expected);
  });

  it('bad requests beside good ones change nothing', async () => {
    const body = { prompt: 'The little bird', max_tokens: 40 };
    const alone = (await post('/v1/completions', body)).json.choices[0].text;
    const bad = [];
    for (let i = 0; i < 20; ++i) {
      bad.push(L.request(srv.url, '/v1/completions', { rawBody: '{"prompt": [1, 2', headers: AUTH }));
      bad.push(post('/v1/completions', { prompt: 'x', temperature: 99 }));
      bad.push(post('/v1/completions', { prompt: 'x' }, {}));
    }
    const good = Array.from({ length: 4 }, () => L.stream(srv.url, '/v1/completions', body, AUTH));
    const [badR, goodR] = await Promise.all([Promise.all(bad), Promise.all(good)]);
    assert.ok(badR.every((r) => r.status === 400 || r.status === 401));
    for (const g of goodR) {
      assert.ok(g.done);
      assert.equal(L.streamedText(g.events), alone);
    }
  });
});

describe('queue limit', () => {
  let small;
  // The chat model (~2 ms a token with the direct policy): each admitted request takes
  // ~0.2 s, so the 24 requests below arrive while the seat and the queue slot are taken.
  before(async () => {
    small = await L.startServer({ model: L.CHAT_MODEL, args: ['--max-seqs', '1', '--max-queue', '1'] });
  });
  after(async () => assert.equal((await small.stop()).code, 0));

  it('503 with Retry-After when the queue is full; admitted requests complete', async () => {
    const body = { prompt: 'Once upon a time', max_tokens: 100, ignore_eos: true, policy: 'direct' };
    const rs = await Promise.all(Array.from({ length: 24 },
      () => L.request(small.url, '/v1/completions', { body })));
    const full = rs.filter((r) => r.status === 503);
    const ok = rs.filter((r) => r.status === 200);
    assert.ok(full.length >= 1, 'some requests must find the queue full');
    assert.ok(ok.length >= 2, 'the seat and the queue slot are served');
    assert.equal(full.length + ok.length, rs.length);
    for (const r of full) {
      assertError(r, 503, { code: 'queue_full' });
      assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    for (const r of ok) assert.equal(r.json.usage.completion_tokens, 100);
    const m = await L.metrics(small.url);
    assert.equal(m['ax_requests_rejected_total{reason="queue_full"}'], full.length);
    assert.equal(m['ax_http_requests_total{route="/v1/completions",code="503"}'], full.length);
    assert.equal(m.ax_server_requests_in_flight, 0);
  });

  it('400 for more choices than the server could ever hold', async () => {
    assertError(await L.request(small.url, '/v1/completions', { body: { prompt: 'x', n: 3 } }), 400, { param: 'n' });
  });
});
