// Tool calls through a live server with the official `openai` client: the client's
// tools example (non-streamed, streamed chunk by chunk, and the stream helper's final
// message), a tool result sent back through the Qwen3 template and through Gemma 4's
// (tests/fixtures/chat_template/gemma4, via --chat-template), tool_choice "none", and
// "required" and named choices enforced by constrained decoding on the chat test model
// (random weights: only the constraint makes its answer a call).
//
// The model is the chat test model rewritten into a bigram model (lib/bigram_model.js)
// whose greedy answer is exactly
//   <tool_call>{"name":"get_weather","arguments":{"city": "Paris"}}</tool_call><|im_end|>
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const OpenAI = require('openai');
const L = require('./lib/server');
const { buildBigramModel } = require('./lib/bigram_model');

const { CALL, TOOLS, ASK } = require('./lib/weather_tool');

let plain, srv, dir, client, model;

describe('tool calls', () => {
  before(async () => {
    plain = await L.startServer({ model: L.CHAT_MODEL });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-tools-'));
    const tools = path.join(dir, 'qwen3-tools');
    await buildBigramModel(plain.url, L.CHAT_MODEL, tools, { messages: ASK, tools: TOOLS }, CALL);
    srv = await L.startServer({ model: tools });
    client = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'unused', maxRetries: 0 });
    model = (await client.models.list()).data[0].id;
  });
  after(async () => {
    for (const s of [plain, srv]) if (s) assert.equal((await s.stop()).code, 0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports the parser the template asked for', async () => {
    const r = await L.request(srv.url, '/v1/runtime', { method: 'GET' });
    assert.equal(r.json.chat.tool_call_parser, 'qwen3');
  });

  it('returns the call as message.tool_calls', async () => {
    const completion = await client.chat.completions.create({ model, messages: ASK, tools: TOOLS });
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  });

  it('streams delta.tool_calls that add up to the same call', async () => {
    const whole = await client.chat.completions.create({ model, messages: ASK, tools: TOOLS, temperature: 0 });
    const stream = await client.chat.completions.create({ model, messages: ASK, tools: TOOLS, temperature: 0,
                                                          stream: true });
    const calls = [], parts = [];
    let content = '', finish = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      content += c.delta.content || '';
      for (const d of c.delta.tool_calls || []) {
        parts.push(d);
        calls[d.index] ??= { id: '', name: '', arguments: '' };
        calls[d.index].id += d.id || '';
        calls[d.index].name += d.function?.name || '';
        calls[d.index].arguments += d.function?.arguments || '';
      }
      finish = c.finish_reason || finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(content, '');
    const want = whole.choices[0].message.tool_calls[0];
    assert.deepEqual(calls, [{ id: calls[0].id, name: want.function.name, arguments: want.function.arguments }]);
    // OpenAI's shape: the first part names the call, the arguments follow token by token.
    assert.equal(parts[0].type, 'function');
    assert.equal(parts[0].function.name, 'get_weather');
    assert.ok(parts.slice(1).every((d) => d.id === undefined && d.function.name === undefined));
    assert.ok(parts.length > 3, `the arguments came in ${parts.length} parts`);
    // The client's stream helper assembles the same message.
    const final = await client.chat.completions.stream({ model, messages: ASK, tools: TOOLS }).finalChatCompletion();
    assert.equal(final.choices[0].message.tool_calls[0].function.arguments, want.function.arguments);
  });

  it('takes the tool result back through the template', async () => {
    const first = await client.chat.completions.create({ model, messages: ASK, tools: TOOLS });
    const call = first.choices[0].message.tool_calls[0];
    const messages = [...ASK, first.choices[0].message,
                      { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature_c: 18 }) }];
    const r = await L.request(srv.url, '/tokenize', { body: { messages, tools: TOOLS } });
    assert.equal(r.status, 200, r.body);
    const text = (await L.request(srv.url, '/detokenize', { body: { tokens: r.json.tokens } })).json.prompt;
    assert.match(text, /<tool_response>\n\{"temperature_c": ?18\}\n<\/tool_response>/);
    assert.match(text, /<tool_call>\n\{"name": "get_weather", "arguments": \{"city": ?"Paris"\}\}\n<\/tool_call>/);
    const second = await client.chat.completions.create({ model, messages, tools: TOOLS });
    assert.equal(second.choices[0].finish_reason, 'tool_calls');
  });

  it('takes the tool result back through Gemma 4\'s template', async () => {
    const config = path.join(__dirname, '../fixtures/chat_template/gemma4/tokenizer_config.json');
    const template = path.join(dir, 'gemma4.jinja');
    fs.writeFileSync(template, JSON.parse(fs.readFileSync(config, 'utf8')).chat_template);
    const gemma = await L.startServer({ model: L.CHAT_MODEL, args: ['--chat-template', template] });
    try {
      const r = await L.request(gemma.url, '/v1/runtime', { method: 'GET' });
      assert.equal(r.json.chat.tool_call_parser, 'gemma4');
      // As an OpenAI client sends them: arguments as a JSON string, the result by id.
      const messages = [...ASK,
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature_c": 18}' }];
      const t = await L.request(gemma.url, '/tokenize', { body: { messages, tools: TOOLS } });
      assert.equal(t.status, 200, t.body);
      const text = (await L.request(gemma.url, '/detokenize', { body: { tokens: t.json.tokens } })).json.prompt;
      assert.ok(text.includes('<|turn>model\n<|tool_call>call:get_weather{city:<|"|>Paris<|"|>,days:2}<tool_call|>' +
                              '<|tool_response>response:get_weather{value:<|"|>{"temperature_c": 18}<|"|>}' +
                              '<tool_response|>'), text);
    } finally {
      assert.equal((await gemma.stop()).code, 0);
    }
  });

  it('leaves the text alone with tool_choice none', async () => {
    const none = await client.chat.completions.create({ model, messages: ASK, tools: TOOLS, tool_choice: 'none' });
    assert.equal(none.choices[0].message.content, CALL);
    assert.equal(none.choices[0].message.tool_calls, undefined);
    assert.equal(none.choices[0].finish_reason, 'stop');
  });

  // A unit enum keeps the constrained answer short whatever the random model prefers.
  const UNIT_TOOLS = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object',
      properties: { unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['unit'] } } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }];

  it('forces calls with tool_choice required or a named function, streamed as the same calls', async () => {
    const chat = new OpenAI({ baseURL: plain.url + '/v1', apiKey: 'unused', maxRetries: 0 });
    for (const tool_choice of ['required', { type: 'function', function: { name: 'get_weather' } }]) {
      const body = { model: 'qwen3-chat', messages: ASK, tools: UNIT_TOOLS, tool_choice, parallel_tool_calls: false,
                     temperature: 0, max_tokens: 64 };
      const whole = await chat.chat.completions.create(body);
      const choice = whole.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
      assert.equal(choice.message.content, null);
      assert.equal(choice.message.tool_calls.length, 1);
      const call = choice.message.tool_calls[0];
      if (tool_choice !== 'required') assert.equal(call.function.name, 'get_weather');
      if (call.function.name === 'get_weather')
        assert.ok(['celsius', 'fahrenheit'].includes(JSON.parse(call.function.arguments).unit), call.function.arguments);
      else assert.deepEqual(JSON.parse(call.function.arguments), {});
      const final = await chat.chat.completions.stream(body).finalChatCompletion();
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(final.choices[0].message.tool_calls.map((c) => c.function),
                       choice.message.tool_calls.map((c) => c.function));
    }
    const bad = async (body, param) => assert.rejects(
      chat.chat.completions.create({ model: 'qwen3-chat', messages: ASK, max_tokens: 8, ...body }),
      (e) => e.status === 400 && e.param === param);
    await bad({ tool_choice: 'required' }, 'tool_choice');
    await bad({ tools: UNIT_TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } },
              'tool_choice.function.name');
    await bad({ tools: UNIT_TOOLS, tool_choice: 'required', response_format: { type: 'json_object' } }, 'tool_choice');
  });
});
