// (b) Clients that go away: a stream closed mid-way, a non-streaming request whose
// client hangs up, and a request that disconnects while still queued. Each is
// cancelled, /metrics counts it, and its KV blocks are free again.
// Uses the chat model with the "direct" policy: ~2 ms a token here, so a 480-token
// request is still running when its client leaves.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

let srv;
const LONG = { prompt: 'Once upon a time', max_tokens: 480, ignore_eos: true, policy: 'direct' };

function send(sock, body) {
  const payload = JSON.stringify(body);
  sock.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
}

// Resolves once `count` SSE data events have arrived on `sock`.
function readEvents(sock, count) {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (d) => {
      seen += d;
      if ((seen.match(/data: /g) || []).length >= count) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
  });
}

async function idleWith(cancelledAtLeast) {
  return L.waitFor(async () => {
    const m = await L.metrics(srv.url);
    const ok = m['ax_engine_requests_total{outcome="cancelled"}'] >= cancelledAtLeast &&
      m['ax_requests_finished_total{reason="cancelled"}'] >= cancelledAtLeast &&
      m.ax_kv_blocks_used === 0 && m.ax_requests_running === 0 && m.ax_queue_depth === 0 &&
      m.ax_server_requests_in_flight === 0;
    return ok ? m : null;
  }, 10000);
}

describe('client disconnects', () => {
  before(async () => { srv = await L.startServer({ model: L.CHAT_MODEL, args: ['--max-seqs', '2'] }); });
  after(async () => assert.equal((await srv.stop()).code, 0));

  it('a stream closed mid-way is cancelled and its KV blocks freed', async () => {
    const before0 = await L.metrics(srv.url);
    const sock = await L.connect(srv.port);
    send(sock, { ...LONG, stream: true });
    await readEvents(sock, 3);
    const mid = await L.metrics(srv.url);
    assert.ok(mid.ax_kv_blocks_used > 0, 'the running request holds KV blocks');
    sock.destroy();
    const m = await idleWith(1);
    assert.ok(m, 'cancelled, and every block free, within 10 s');
    const generated = m.ax_generation_tokens_total - before0.ax_generation_tokens_total;
    assert.ok(generated < 480, `stopped early (generated ${generated} of 480)`);
  });

  it('a non-streaming request whose client hangs up is cancelled', async () => {
    const sock = await L.connect(srv.port);
    send(sock, LONG);
    assert.ok(await L.waitFor(async () => (await L.metrics(srv.url)).ax_requests_running === 1, 5000));
    sock.destroy();
    assert.ok(await idleWith(2), 'cancelled, and every block free');
  });

  it('a queued request whose client leaves is cancelled before it runs', async () => {
    // Two long requests take both seats; the third waits in the queue.
    const seats = [L.request(srv.url, '/v1/completions', { body: LONG }),
      L.request(srv.url, '/v1/completions', { body: LONG })];
    assert.ok(await L.waitFor(async () => (await L.metrics(srv.url)).ax_requests_running === 2, 5000));
    const sock = await L.connect(srv.port);
    send(sock, { ...LONG, stream: true });
    assert.ok(await L.waitFor(async () => (await L.metrics(srv.url)).ax_server_requests_in_flight === 3, 5000));
    sock.destroy();
    const m = await L.waitFor(async () => {
      const x = await L.metrics(srv.url);
      return x['ax_requests_finished_total{reason="cancelled"}'] >= 3 ? x : null;
    }, 5000);
    assert.ok(m, 'the queued request was cancelled');
    assert.equal(m.ax_requests_running, 2, 'while the two seated requests still run');
    for (const r of await Promise.all(seats)) assert.equal(r.json.usage.completion_tokens, 480);
    assert.ok(await idleWith(3));
  });
});
