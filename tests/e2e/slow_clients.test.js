// Slow clients do not starve others: 1,000 connections that send half a request
// header and then nothing (a slowloris crowd) are held open while a normal request is
// answered within seconds (starvation would be a timeout), /health too, and none of them takes an engine seat.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const L = require('./lib/server');

const CROWD = 1000;
let srv;

describe('slow clients', () => {
  before(async () => { srv = await L.startServer(); });
  after(async () => { assert.equal((await srv.stop('SIGTERM', 30000)).code, 0); });

  it('a crowd of half-sent requests does not delay a normal one', async () => {
    const sockets = [];
    await Promise.all(Array.from({ length: CROWD }, () => new Promise((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => {
        s.write('POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n');
        resolve();
      });
      s.on('error', reject);
      sockets.push(s);
    })));
    await new Promise((r) => setTimeout(r, 200));  // every one accepted and parked in its header
    try {
      const t0 = Date.now();
      const r = await L.request(srv.url, '/v1/completions', { body: { prompt: 'Once upon a time', max_tokens: 8 } });
      const ms = Date.now() - t0;
      assert.equal(r.status, 200, r.body);
      assert.ok(ms < 3000, `a normal request took ${ms} ms behind ${CROWD} slow clients`);
      const h0 = Date.now();
      assert.equal((await L.request(srv.url, '/health', { method: 'GET' })).status, 200);
      assert.ok(Date.now() - h0 < 3000);
      const m = L.parseMetrics((await L.request(srv.url, '/metrics', { method: 'GET' })).body);
      assert.equal(m.ax_server_requests_in_flight, 0, 'a half-sent request holds no engine seat');
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
