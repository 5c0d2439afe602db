// --cors-origin: a browser's preflight (OPTIONS, no credentials) is answered 204 with
// the allowed methods and headers, and every response, errors included, names the
// allowed origin; without the flag no CORS header is sent.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

const KEY = 'sk-cors';
const ORIGIN = 'https://chat.example';
let srv, plain;

describe('cors', () => {
  before(async () => {
    [srv, plain] = await Promise.all([L.startServer({ args: ['--api-key', KEY, '--cors-origin', ORIGIN] }),
                                      L.startServer()]);
  });
  after(async () => {
    for (const c of await Promise.all([srv.stop(), plain.stop()])) assert.equal(c.code, 0);
  });

  it('answers a preflight without the key', async () => {
    const r = await L.request(srv.url, '/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST',
                 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    assert.match(r.headers['access-control-allow-methods'], /POST/);
    assert.match(r.headers['access-control-allow-headers'], /authorization/);
  });

  it('names the origin on answers and errors', async () => {
    const ok = await L.request(srv.url, '/v1/completions', {
      body: { prompt: 'Once', max_tokens: 2 }, headers: { authorization: `Bearer ${KEY}`, origin: ORIGIN } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    const denied = await L.request(srv.url, '/v1/completions', { body: { prompt: 'x' }, headers: { origin: ORIGIN } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['access-control-allow-origin'], ORIGIN);
    const none = await L.request(plain.url, '/v1/completions', { body: { prompt: 'x', max_tokens: 1 } });
    assert.equal(none.status, 200, none.body);
    assert.equal(none.headers['access-control-allow-origin'], undefined);
  });
});
