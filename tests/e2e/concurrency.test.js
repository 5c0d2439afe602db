// (c) 32 concurrent streaming clients with mixed prompts and lengths: every response is
// complete and identical to what the same request gets alone (greedy decoding).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

const PROMPTS = ['Once upon a time', 'The little dog', 'Lily wanted to', 'One day, a big', 'Tom and Sue went',
  'The sun was', 'In the park there', 'Mom said'];
const LENGTHS = [3, 17, 64, 150, 300];

function requestFor(i) {
  const body = { max_tokens: LENGTHS[i % LENGTHS.length], ignore_eos: i % 3 !== 0 };
  if (i % 2 === 0) return { path: '/v1/completions', body: { ...body, prompt: PROMPTS[i % PROMPTS.length] } };
  return { path: '/v1/generate', body: { ...body, tokens: [1, 3 + i * 7, 200 + (i % 5) * 31] } };
}

// What a client keeps of a streamed response: text and ids (generate), finish reason.
function outcome(path, r) {
  assert.equal(r.status, 200);
  assert.ok(r.done, 'stream ends with [DONE]');
  const ids = path === '/v1/generate'
    ? r.events.flatMap((e) => e.choices.filter((c) => c.token !== undefined).map((c) => c.token)) : null;
  return { text: L.streamedText(r.events), ids, finish: L.finishReasons(r.events)[0] };
}

describe('concurrency', () => {
  let srv;
  before(async () => { srv = await L.startServer({ args: ['--max-seqs', '16'] }); });
  after(async () => assert.equal((await srv.stop()).code, 0));

  it('32 concurrent streams equal their single-client outputs', async () => {
    const N = 32;
    const alone = [];
    for (let i = 0; i < N; ++i) {
      const { path, body } = requestFor(i);
      alone.push(outcome(path, await L.stream(srv.url, path, body)));
    }
    const together = await Promise.all(Array.from({ length: N }, (_, i) => {
      const { path, body } = requestFor(i);
      return L.stream(srv.url, path, body).then((r) => outcome(path, r));
    }));
    for (let i = 0; i < N; ++i) {
      assert.deepEqual(together[i], alone[i], `client ${i} (${JSON.stringify(requestFor(i))})`);
      if (requestFor(i).body.ignore_eos) assert.equal(alone[i].finish, 'length');
    }
    const m = await L.waitFor(async () => {
      const x = await L.metrics(srv.url);
      return x.ax_requests_running === 0 && x.ax_kv_blocks_used === 0 ? x : null;
    });
    assert.ok(m, 'the engine is idle and every KV block is free afterwards');
    assert.equal(m.ax_server_requests_in_flight, 0);
    assert.equal(m['ax_http_requests_total{route="/v1/completions",code="200"}'] +
      m['ax_http_requests_total{route="/v1/generate",code="200"}'], 2 * N);
    assert.ok(m.ax_time_to_first_token_seconds_count >= 2 * N);
  });
});
