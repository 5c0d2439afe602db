// Anthropic's Messages API (/v1/messages) with the official `@anthropic-ai/sdk`: the
// SDK's tool-use example non-streamed and streamed (the event sequence, and the stream
// helper's final message), a tool_result round trip, count_tokens, stop sequences and
// max_tokens stops, thinking on/off, and errors in Anthropic's shape.
//
// Tool use runs on the bigram model of lib/bigram_model.js, whose answer to the
// weather question is exactly the Qwen3 call below; text answers on the chat test
// model (real Qwen3 tokenizer and template, random weights).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Anthropic = require('@anthropic-ai/sdk');
const L = require('./lib/server');
const { buildBigramModel } = require('./lib/bigram_model');

const KEY = 'sk-ant-e2e';
const CALL = '<tool_call>{"name":"get_weather","arguments":{"city": "Paris"}}</tool_call>';
const TOOLS = [{
  name: 'get_weather',
  description: 'Get the current weather in a given city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];
const ASK = [{ role: 'user', content: "What's the weather like in Paris today?" }];
const OPENAI_TOOLS = TOOLS.map((t) => ({ type: 'function',
  function: { name: t.name, description: t.description, parameters: t.input_schema } }));

let chat, tools, dir, chain;

describe('anthropic messages', () => {
  before(async () => {
    chat = await L.startServer({ model: L.CHAT_MODEL, args: ['--api-key', KEY] });
    const plain = await L.startServer({ model: L.CHAT_MODEL });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-messages-'));
    chain = await buildBigramModel(plain.url, L.CHAT_MODEL, path.join(dir, 'qwen3-tools'),
      { messages: ASK, tools: OPENAI_TOOLS }, CALL);
    assert.equal((await plain.stop()).code, 0);
    tools = await L.startServer({ model: path.join(dir, 'qwen3-tools'), args: ['--api-key', KEY] });
  });
  after(async () => {
    for (const s of [chat, tools]) if (s) assert.equal((await s.stop()).code, 0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const client = (srv, apiKey = KEY) => new Anthropic({ baseURL: srv.url, apiKey, maxRetries: 0 });

  it('answers the tool-use example with a tool_use block', async () => {
    const msg = await client(tools).messages.create({ model: 'qwen3-tools', max_tokens: 64, messages: ASK,
                                                     tools: TOOLS });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.match(msg.id, /^msg_/);
    assert.equal(msg.stop_reason, 'tool_use');
    assert.equal(msg.stop_sequence, null);
    assert.equal(msg.content.length, 1);
    const [use] = msg.content;
    assert.equal(use.type, 'tool_use');
    assert.match(use.id, /^toolu_[0-9a-f]{24}$/);
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { city: 'Paris' });
    assert.equal(msg.usage.output_tokens, chain);
    assert.ok(msg.usage.input_tokens > 0);
  });

  it('streams the same message as the event sequence', async () => {
    const body = { model: 'qwen3-tools', max_tokens: 64, messages: ASK, tools: TOOLS };
    const whole = await client(tools).messages.create(body);
    const stream = client(tools).messages.stream(body);
    const events = [];
    stream.on('streamEvent', (e) => events.push(e));
    const final = await stream.finalMessage();
    const types = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);  // runs of deltas as one
    assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop',
                             'message_delta', 'message_stop']);
    // The input streams as partial_json pieces that join to the non-streamed input.
    const pieces = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.partial_json);
    assert.ok(pieces.length > 3, `the input came in ${pieces.length} pieces`);
    assert.deepEqual(JSON.parse(pieces.join('')), whole.content[0].input);
    assert.equal(final.stop_reason, whole.stop_reason);
    assert.deepEqual(final.usage.output_tokens, whole.usage.output_tokens);
    assert.deepEqual(final.content.map(({ id, ...rest }) => rest), whole.content.map(({ id, ...rest }) => rest));
    // Raw SSE framing: "event: <type>" lines, no OpenAI [DONE].
    const raw = await L.request(tools.url, '/v1/messages', { body: { ...body, stream: true },
                                                             headers: { 'x-api-key': KEY } });
    assert.match(raw.body, /^event: message_start\ndata: \{/);
    assert.ok(!raw.body.includes('[DONE]'));
  });

  it('takes a tool_result back, counted as count_tokens says', async () => {
    const first = await client(tools).messages.create({ model: 'qwen3-tools', max_tokens: 64, messages: ASK,
                                                       tools: TOOLS });
    const messages = [...ASK, { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: first.content[0].id, content: '18 °C, clear' }] }];
    const second = await client(tools).messages.create({ model: 'qwen3-tools', max_tokens: 64, messages, tools: TOOLS });
    const count = await client(tools).messages.countTokens({ model: 'qwen3-tools', messages, tools: TOOLS });
    assert.equal(count.input_tokens, second.usage.input_tokens + second.usage.cache_read_input_tokens);
    assert.ok(count.input_tokens > first.usage.input_tokens + first.usage.cache_read_input_tokens);
  });

  it('reports stop sequences, max_tokens stops and system prompts', async () => {
    const c = client(chat);
    const base = { model: 'qwen3-chat', system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }],
                   temperature: 0 };
    const long = await c.messages.create({ ...base, max_tokens: 24 });
    assert.equal(long.stop_reason, 'max_tokens');
    assert.equal(long.usage.output_tokens, 24);
    const text = long.content.map((b) => b.thinking ?? b.text).join('');
    const stop = [...text].slice(6, 8).join('');
    const stopped = await c.messages.create({ ...base, max_tokens: 24, stop_sequences: [stop, 'never-in-text'] });
    assert.equal(stopped.stop_reason, 'stop_sequence');
    assert.equal(stopped.stop_sequence, stop);
    const off = await c.messages.countTokens({ ...base, thinking: { type: 'disabled' } });
    const on = await c.messages.countTokens(base);
    assert.ok(off.input_tokens > on.input_tokens, 'thinking disabled closes the <think> block in the prompt');
  });

  it('forces a named tool with tool_choice tool (constrained decoding on the random chat model)', async () => {
    const tools = [{ name: 'get_unit', input_schema: { type: 'object', properties: { unit: { enum: ['c', 'f'] } },
                                                       required: ['unit'] } }];
    const body = { model: 'qwen3-chat', max_tokens: 48, messages: ASK, tools,
                   tool_choice: { type: 'tool', name: 'get_unit' }, temperature: 0 };
    const msg = await client(chat).messages.create(body);
    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(msg.content.map((b) => [b.type, b.name]), [['tool_use', 'get_unit']]);
    assert.ok(['c', 'f'].includes(msg.content[0].input.unit));
    const final = await client(chat).messages.stream(body).finalMessage();
    assert.deepEqual(final.content.map(({ id, ...rest }) => rest), msg.content.map(({ id, ...rest }) => rest));
    // The input is generated in the order input_schema lists its properties (zeta before
    // alpha): its streamed JSON text shows it (the blocking input object has sorted keys).
    const ordered = [{ name: 'set', input_schema: { type: 'object', properties: { zeta: { type: 'boolean' },
      alpha: { type: 'integer', enum: [1, 2] } }, required: ['zeta', 'alpha'] } }];
    let input = '';
    for await (const e of await client(chat).messages.create({ ...body, tools: ordered, stream: true,
      tool_choice: { type: 'tool', name: 'set' }, temperature: 1, max_tokens: 60 }))
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') input += e.delta.partial_json;
    assert.deepEqual(Object.keys(JSON.parse(input)), ['zeta', 'alpha'], input);
  });

  it('answers errors in Anthropic\'s shape', async () => {
    const c = client(chat);
    const bad = async (body, status, message) => {
      await assert.rejects(c.messages.create({ model: 'qwen3-chat', messages: ASK, ...body }), (e) => {
        assert.equal(e.status, status);
        assert.equal(e.error.type, 'error');
        assert.equal(e.error.error.type, status === 401 ? 'authentication_error' : 'invalid_request_error');
        assert.match(e.error.error.message, message);
        return true;
      });
    };
    await bad({}, 400, /'max_tokens': is required/);
    await bad({ max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] }, 400,
      /messages\[0\]\.content\[0\]\.type/);
    await bad({ max_tokens: 8, tools: TOOLS, tool_choice: { type: 'sometimes' } }, 400, /tool_choice\.type/);
    await bad({ max_tokens: 8, stop_sequences: 'x' }, 400, /stop_sequences/);
    await assert.rejects(client(chat, 'wrong').messages.create({ model: 'qwen3-chat', max_tokens: 8, messages: ASK }),
      (e) => e.status === 401 && e.error.error.type === 'authentication_error');
  });
});
