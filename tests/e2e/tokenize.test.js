// POST /tokenize and /detokenize on a model with the real Qwen3 tokenizer and chat
// template: a messages body counts exactly the chat request's usage.prompt_tokens, a
// prompt round-trips through /detokenize, and bad input is a 400 naming the field.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib/server');

let srv;
const post = (path, body) => L.request(srv.url, path, { body });

describe('tokenize', () => {
  before(async () => {
    srv = await L.startServer({ model: L.CHAT_MODEL });
  });
  after(async () => assert.equal((await srv.stop()).code, 0));

  it('counts a conversation as the chat route does', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is a page table?' }];
    const t = await post('/tokenize', { messages });
    assert.equal(t.status, 200, t.body);
    assert.equal(t.json.count, t.json.tokens.length);
    assert.ok(t.json.max_model_len > t.json.count);
    const c = await post('/v1/chat/completions', { messages, max_tokens: 1 });
    assert.equal(c.status, 200, c.body);
    assert.equal(c.json.usage.prompt_tokens, t.json.count);
  });

  it('turns thinking off for reasoning_effort none, unless chat_template_kwargs says otherwise', async () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    const text = async (body) => {
      const t = await post('/tokenize', { messages, ...body });
      assert.equal(t.status, 200, t.body);
      return (await post('/detokenize', { tokens: t.json.tokens })).json.prompt;
    };
    const closed = 'assistant\n<think>\n\n</think>\n\n';  // /detokenize drops <|im_start|>
    assert.ok((await text({ reasoning_effort: 'none' })).endsWith(closed));
    assert.ok((await text({ chat_template_kwargs: { enable_thinking: false } })).endsWith(closed));
    assert.ok((await text({ reasoning_effort: 'high' })).endsWith('user\nHi\nassistant\n'));
    assert.ok((await text({ reasoning_effort: 'none', chat_template_kwargs: { enable_thinking: true } }))
      .endsWith('user\nHi\nassistant\n'));
    const bad = await post('/tokenize', { messages, reasoning_effort: 'extreme' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'reasoning_effort');
  });

  it('round-trips a prompt', async () => {
    const text = 'Hello, world: ünïcode and numbers 12345.';
    const t = await post('/tokenize', { prompt: text, add_special_tokens: false });
    assert.equal(t.status, 200, t.body);
    const d = await post('/detokenize', { tokens: t.json.tokens });
    assert.equal(d.status, 200, d.body);
    assert.equal(d.json.prompt, text);
  });

  it('names the field of a bad request', async () => {
    let r = await post('/tokenize', { text: 'x' });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.error.param, 'prompt');
    r = await post('/tokenize', { messages: [] });
    assert.equal(r.json.error.param, 'messages');
    r = await post('/detokenize', { tokens: [1, -5] });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.error.param, 'tokens[1]');
    r = await post('/detokenize', { tokens: [1, 100000000] });
    assert.equal(r.json.error.param, 'tokens[1]');
  });
});
