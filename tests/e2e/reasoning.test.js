// Reasoning split on a model with Qwen3's tokenizer (</think> is one token, so
// --reasoning-parser auto turns it on): a chat template that opens the thinking block
// in the prompt makes the whole short answer reasoning, so content is "" and
// reasoning_content carries the text; streamed reasoning_content / content deltas join
// to the non-streamed fields byte for byte; --reasoning-parser none leaves content whole.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const L = require('./lib/server');

const TEMPLATE = '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}' +
                 '<|im_start|>assistant\n<think>\n';
let srv, plain, dir;

describe('reasoning', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-reasoning-'));
    const file = path.join(dir, 'thinking.jinja');
    fs.writeFileSync(file, TEMPLATE);
    [srv, plain] = await Promise.all([
      L.startServer({ model: L.CHAT_MODEL, args: ['--chat-template', file] }),
      L.startServer({ model: L.CHAT_MODEL, args: ['--chat-template', file, '--reasoning-parser', 'none'] }),
    ]);
  });
  after(async () => {
    for (const c of await Promise.all([srv.stop(), plain.stop()])) assert.equal(c.code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const body = { messages: [{ role: 'user', content: 'Why is the sky blue?' }], max_tokens: 12, temperature: 0 };

  it('splits the answer and streams the same split', async () => {
    const r = await L.request(srv.url, '/v1/chat/completions', { body });
    assert.equal(r.status, 200, r.body);
    const m = r.json.choices[0].message;
    const whole = await L.request(plain.url, '/v1/chat/completions', { body });
    const text = whole.json.choices[0].message.content;
    assert.equal(whole.json.choices[0].message.reasoning_content, undefined);
    if (text.includes('</think>')) {
      const at = text.indexOf('</think>');
      assert.equal(m.reasoning_content, text.slice(0, at) || null);
      assert.equal(m.content, text.slice(at + '</think>'.length));
    } else {
      assert.equal(m.content, '');  // the length stop came inside the thinking block
      assert.equal(m.reasoning_content, text || null);
    }
    assert.equal(m.reasoning, m.reasoning_content);
    const { events } = await L.stream(srv.url, '/v1/chat/completions', body);
    let reasoning = '', content = '';
    for (const e of events) {
      if (!e.choices || !e.choices.length) continue;
      const d = e.choices[0].delta || {};
      reasoning += d.reasoning_content || '';
      content += d.content || '';
    }
    assert.equal(reasoning, m.reasoning_content || '');
    assert.equal(content, m.content);
  });
});
