// Starts and stops a live ax-engine-server for a test file, and talks HTTP to it.
// Paths come from the environment that CMake sets (tests/e2e/CMakeLists.txt).
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const net = require('net');

const SERVER_BIN = process.env.AX_SERVER_BIN;
const STORIES = process.env.AX_STORIES_MODEL;
const CHAT_MODEL = process.env.AX_CHAT_MODEL;

// Spawns the server on a free port (--port 0) and waits for its "listening on" line.
function startServer({ model = STORIES, args = [], timeoutMs = 60000 } = {}) {
  if (!SERVER_BIN) throw new Error('AX_SERVER_BIN is not set');
  const argv = ['--model', model, '--port', '0', '--threads', '1', ...args];
  const proc = spawn(SERVER_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`server did not start:\n${err}`)); },
      timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const url = m[1];
      const port = Number(url.split(':').pop());
      resolve({
        url, port, proc, exited,
        stderr: () => err,
        // SIGTERM, then the exit status; SIGKILL after killAfterMs.
        async stop(signal = 'SIGTERM', killAfterMs = 30000) {
          if (proc.exitCode !== null || proc.signalCode !== null) return exited;
          proc.kill(signal);
          const t = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
          const r = await exited;
          clearTimeout(t);
          return r;
        },
      });
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
}

// One HTTP request on a fresh connection: {status, headers, body, json}.
function request(base, path, { method = 'POST', body, headers = {}, rawBody } = {}) {
  const u = new URL(path, base);
  const payload = rawBody !== undefined ? rawBody : body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method, agent: false,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Parses an SSE body into its data payloads; `done` is true when it ended with [DONE].
function parseSse(text) {
  const events = [];
  let done = false, comments = 0;
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const lines = block.split('\n');
    comments += lines.filter((l) => l.startsWith(':')).length;
    if (!lines.some((l) => l.startsWith('data: '))) continue;  // a comment (keep-alive)
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    if (data === '[DONE]') { done = true; continue; }
    events.push(JSON.parse(data));
  }
  return { events, done, comments };
}

// A streaming request read to the end: {status, headers, events, done}.
async function stream(base, path, body, headers = {}) {
  const r = await request(base, path, { body: { ...body, stream: true }, headers });
  if (r.status !== 200) return { status: r.status, headers: r.headers, json: r.json, events: [], done: false };
  return { status: r.status, headers: r.headers, ...parseSse(r.body) };
}

// Concatenated text of choice `index` of a completions/generate/chat stream.
function streamedText(events, index = 0) {
  let text = '';
  for (const e of events) {
    for (const c of e.choices || []) {
      if (c.index !== index) continue;
      if (typeof c.text === 'string') text += c.text;
      if (c.delta && typeof c.delta.content === 'string') text += c.delta.content;
    }
  }
  return text;
}

function finishReasons(events) {
  const out = {};
  for (const e of events) for (const c of e.choices || []) if (c.finish_reason) out[c.index] = c.finish_reason;
  return out;
}

// Prometheus text → {"name{labels}": value}.
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

async function metrics(base) {
  const r = await request(base, '/metrics', { method: 'GET' });
  return parseMetrics(r.body);
}

// Polls `fn` until it returns a truthy value or timeoutMs passes; returns the last value.
async function waitFor(fn, timeoutMs = 5000, everyMs = 25) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// A raw TCP connection for tests that misbehave on purpose.
function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

// Undoes HTTP/1.1 chunked transfer encoding (a Buffer in, a Buffer out).
function dechunk(buf) {
  const out = [];
  for (let i = 0; ;) {
    const nl = buf.indexOf('\r\n', i);
    const n = parseInt(buf.subarray(i, nl).toString(), 16);
    if (!n) break;
    out.push(buf.subarray(nl + 2, nl + 2 + n));
    i = nl + 2 + n + 2;
  }
  return Buffer.concat(out);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = {
  SERVER_BIN, STORIES, CHAT_MODEL, startServer, request, stream, parseSse, streamedText, finishReasons,
  parseMetrics, metrics, waitFor, connect, dechunk, sleep,
};
