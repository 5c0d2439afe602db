// OpenAI's Responses API (/v1/responses, stateless) with the official `openai` client:
// a function call non-streamed and streamed (event sequence, sequence numbers, the
// stream helper's final response), a function_call_output round trip, a text answer
// cut by max_output_tokens with its streamed deltas joining to the same text, and
// errors naming the Responses fields.
//
// Function calls run on the bigram model of lib/bigram_model.js, whose answer to the
// weather question is exactly the Qwen3 call below; text on the chat test model.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const OpenAI = require('openai');
const L = require('./lib/server');
const { buildBigramModel } = require('./lib/bigram_model');

const CALL = '<tool_call>{"name":"get_weather","arguments":{"city": "Paris"}}</tool_call>';
const TOOLS = [{
  type: 'function',
  name: 'get_weather',
  description: 'Get the current weather in a given city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}];
const QUESTION = "What's the weather like in Paris today?";

let chat, tools, dir;

describe('responses', () => {
  before(async () => {
    chat = await L.startServer({ model: L.CHAT_MODEL });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-responses-'));
    const chatTools = TOOLS.map(({ type, ...f }) => ({ type, function: f }));
    await buildBigramModel(chat.url, L.CHAT_MODEL, path.join(dir, 'qwen3-tools'),
      { messages: [{ role: 'user', content: QUESTION }], tools: chatTools }, CALL);
    tools = await L.startServer({ model: path.join(dir, 'qwen3-tools') });
  });
  after(async () => {
    for (const s of [chat, tools]) if (s) assert.equal((await s.stop()).code, 0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const client = (srv) => new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'unused', maxRetries: 0 });
  const body = { model: 'qwen3-tools', input: QUESTION, tools: TOOLS };

  it('returns a function_call item', async () => {
    const r = await client(tools).responses.create(body);
    assert.equal(r.object, 'response');
    assert.match(r.id, /^resp_/);
    assert.equal(r.status, 'completed');
    assert.equal(r.output.length, 1);
    const [call] = r.output;
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.match(call.call_id, /^call_[0-9a-f]{24}$/);
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.equal(r.output_text, '');
    assert.deepEqual(r.tools, TOOLS);
    assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
  });

  it('streams the same output as typed events', async () => {
    const whole = await client(tools).responses.create(body);
    const stream = client(tools).responses.stream(body);
    const events = [];
    stream.on('event', (e) => events.push(e));
    const final = await stream.finalResponse();
    const types = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);  // runs of deltas as one
    assert.deepEqual(types, ['response.created', 'response.in_progress',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done',
      'response.output_item.done', 'response.completed']);
    // The arguments stream in pieces that join to the non-streamed arguments.
    const pieces = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta);
    assert.ok(pieces.length > 3, `the arguments came in ${pieces.length} pieces`);
    assert.equal(pieces.join(''), whole.output[0].arguments);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    // ids differ per response; parsed_arguments is the stream helper's own addition.
    const strip = (items) => items.map(({ id, call_id, parsed_arguments, ...rest }) => rest);
    assert.deepEqual(strip(final.output), strip(whole.output));
  });

  it('takes a function_call_output back', async () => {
    const first = await client(tools).responses.create(body);
    const call = first.output[0];
    const input = [{ role: 'user', content: QUESTION },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: '18 °C, clear' }];
    const second = await client(tools).responses.create({ ...body, input });
    assert.equal(second.status, 'completed');
    assert.ok(second.usage.input_tokens > first.usage.input_tokens);
  });

  it('cuts text at max_output_tokens, streamed deltas joining to the same text', async () => {
    const req = { model: 'qwen3-chat', instructions: 'Be brief.', input: 'Hello there', max_output_tokens: 16,
                  temperature: 0 };
    const r = await client(chat).responses.create(req);
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.usage.output_tokens, 16);
    assert.equal(r.instructions, 'Be brief.');
    const events = [];
    const stream = client(chat).responses.stream(req);
    stream.on('event', (e) => events.push(e));
    const final = await stream.finalResponse();
    assert.equal(events[events.length - 1].type, 'response.incomplete');
    const joined = (type) => events.filter((e) => e.type === type).map((e) => e.delta).join('');
    assert.equal(joined('response.output_text.delta'), r.output_text);
    const reasoning = r.output.filter((i) => i.type === 'reasoning').map((i) => i.content[0].text).join('');
    assert.equal(joined('response.reasoning_text.delta'), reasoning);
    const text = (resp) => resp.output.filter((i) => i.type === 'message').map((i) => i.content[0].text).join('');
    assert.equal(text(final), text(r));
  });

  it('forces a named function with tool_choice (constrained decoding on the random chat model)', async () => {
    const r = await client(chat).responses.create({ model: 'qwen3-chat', input: QUESTION, max_output_tokens: 48,
      tools: [{ type: 'function', name: 'get_time', parameters: { type: 'object', properties: {} } }],
      tool_choice: { type: 'function', name: 'get_time' } });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.map((o) => [o.type, o.name, o.arguments]), [['function_call', 'get_time', '{}']]);
    // Properties in the order the request lists them (zeta before alpha), for a
    // function's parameters and for text.format's schema.
    const schema = { type: 'object', properties: { zeta: { type: 'boolean' }, alpha: { type: 'integer', enum: [1, 2] } },
                     required: ['zeta', 'alpha'] };
    const f = await client(chat).responses.create({ model: 'qwen3-chat', input: QUESTION, max_output_tokens: 60,
      tools: [{ type: 'function', name: 'set', parameters: schema }], tool_choice: { type: 'function', name: 'set' } });
    assert.deepEqual(Object.keys(JSON.parse(f.output[0].arguments)), ['zeta', 'alpha']);
    const j = await client(chat).responses.create({ model: 'qwen3-chat', input: QUESTION, max_output_tokens: 60,
      text: { format: { type: 'json_schema', name: 'o', schema } } });
    assert.deepEqual(Object.keys(JSON.parse(j.output_text)), ['zeta', 'alpha']);
  });

  it('names the Responses field of a bad request', async () => {
    const bad = async (extra, param) => {
      await assert.rejects(client(chat).responses.create({ model: 'qwen3-chat', input: 'x', ...extra }),
        (e) => { assert.equal(e.status, 400); assert.equal(e.param, param); return true; });
    };
    await bad({ previous_response_id: 'resp_1' }, 'previous_response_id');
    await bad({ tools: [{ type: 'web_search' }] }, 'tools[0].type');
    await bad({ input: [{ type: 'image_generation_call' }] }, 'input[0].type');
    await bad({ max_output_tokens: 0 }, 'max_output_tokens');
    await bad({ text: { format: { type: 'xml' } } }, 'text.format.type');
    await bad({ text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object', not: {} } } } },
      'text.format.schema');
  });

  it('text.format json_schema constrains the answer', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'],
      additionalProperties: false };
    const r = await client(chat).responses.create({ model: 'qwen3-chat', input: 'ok?', temperature: 1, max_output_tokens: 60,
      text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
    assert.equal(r.status, 'completed', r.output_text);
    assert.equal(typeof JSON.parse(r.output_text).ok, 'boolean');
  });
});
