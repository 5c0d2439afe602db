// (a) The official `openai` npm client against a live server: completions on
// stories260K, chat on the synthetic Qwen3 model with the real Qwen3 chat template,
// streaming and not, API keys, and errors as the client surfaces them.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const OpenAI = require('openai');
const L = require('./lib/server');

const KEY = 'sk-e2e-test-key';
let text;  // stories260K server
let chat;  // chat-model server (with an API key)
let CHAT = 'qwen3-chat';  // the chat model's id: its directory's name

async function collect(streamPromise) {
  const chunks = [];
  for await (const c of await streamPromise) chunks.push(c);
  return chunks;
}

describe('openai client', () => {
  before(async () => {
    [text, chat] = await Promise.all([
      L.startServer({ model: L.STORIES }),
      L.startServer({ model: L.CHAT_MODEL, args: ['--api-key', KEY] }),
    ]);
    CHAT = (await chatClient().models.list()).data[0].id;
  });
  after(async () => {
    const codes = await Promise.all([text.stop(), chat.stop()]);
    for (const c of codes) assert.equal(c.code, 0, 'server exit status');
  });

  const textClient = () => new OpenAI({ baseURL: text.url + '/v1', apiKey: 'unused', maxRetries: 0 });
  const chatClient = (key = KEY) => new OpenAI({ baseURL: chat.url + '/v1', apiKey: key, maxRetries: 0 });

  it('lists and retrieves the model', async () => {
    const client = textClient();
    const list = await client.models.list();
    assert.deepEqual(list.data.map((m) => m.id), ['stories260K']);
    const m = await client.models.retrieve('stories260K');
    assert.equal(m.object, 'model');
  });

  it('completions: non-streaming, streaming with usage, same text', async () => {
    const client = textClient();
    const params = { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 24, temperature: 0 };
    const full = await client.completions.create(params);
    assert.equal(full.object, 'text_completion');
    assert.equal(full.choices.length, 1);
    assert.equal(full.usage.completion_tokens, 24);
    assert.equal(full.usage.total_tokens, full.usage.prompt_tokens + 24);
    assert.equal(full.choices[0].finish_reason, 'length');
    const chunks = await collect(client.completions.create({ ...params, stream: true,
      stream_options: { include_usage: true } }));
    const streamed = chunks.flatMap((c) => c.choices.map((x) => x.text)).join('');
    assert.equal(streamed, full.choices[0].text);
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, 24);
  });

  it('completions: token prompts, prompt lists, n, seed, logprobs, echo, stop', async () => {
    const client = textClient();
    const lists = await client.completions.create({ model: 'stories260K', prompt: [[1, 400, 401], 'Once'],
      max_tokens: 5, n: 2, temperature: 0.9, seed: 7 });
    assert.equal(lists.choices.length, 4);
    assert.deepEqual(lists.choices.map((c) => c.index), [0, 1, 2, 3]);
    const again = await client.completions.create({ model: 'stories260K', prompt: [[1, 400, 401], 'Once'],
      max_tokens: 5, n: 2, temperature: 0.9, seed: 7 });
    assert.deepEqual(again.choices.map((c) => c.text), lists.choices.map((c) => c.text), 'same seed, same text');

    const lp = await client.completions.create({ model: 'stories260K', prompt: 'Hi', max_tokens: 4, logprobs: 3 });
    const l = lp.choices[0].logprobs;
    assert.equal(l.tokens.length, 4);
    assert.equal(l.token_logprobs.length, 4);
    assert.ok(l.top_logprobs.every((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 3));
    assert.ok(l.token_logprobs.every((x) => x <= 0));

    const echo = await client.completions.create({ model: 'stories260K', prompt: 'Once upon', max_tokens: 3,
      echo: true });
    assert.ok(echo.choices[0].text.startsWith('Once upon'));

    const base = await client.completions.create({ model: 'stories260K', prompt: 'The dog', max_tokens: 30 });
    const t = base.choices[0].text;
    const stop = t.slice(6, 8);
    const cut = t.indexOf(stop);
    const stopped = await client.completions.create({ model: 'stories260K', prompt: 'The dog', max_tokens: 30, stop });
    assert.equal(stopped.choices[0].text, t.slice(0, cut));
    assert.equal(stopped.choices[0].finish_reason, 'stop');
  });

  // lm-eval's loglikelihood request: echo + logprobs + max_tokens 0 gives every prompt
  // token's logprob (the first null). For a prompt that ends in a greedy continuation,
  // those equal the logprobs the continuation was generated with.
  it('completions: echo + logprobs give the prompt\'s logprobs', async () => {
    const client = textClient();
    const gen = await L.request(text.url, '/v1/generate', { body: { tokens: [1, 403, 407], max_tokens: 6,
                                                                    temperature: 0, logprobs: true } });
    assert.equal(gen.status, 200, gen.body);
    const { tokens: ids, logprobs: genLp } = gen.json.choices[0];
    const prompt = [1, 403, 407, ...ids];
    const r = await client.completions.create({ model: 'stories260K', prompt, max_tokens: 0, echo: true,
                                                logprobs: 2 });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 0);
    assert.equal(c.logprobs.tokens.length, prompt.length);
    assert.equal(c.logprobs.token_logprobs[0], null);
    assert.equal(c.logprobs.top_logprobs[0], null);
    c.logprobs.token_logprobs.slice(3).forEach((lp, j) => assert.ok(Math.abs(lp - genLp[j]) < 1e-4, `token ${j}`));
    assert.ok(c.logprobs.top_logprobs.slice(1).every((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 2));
    // With generated tokens after the prompt, streamed: the first chunk echoes the prompt with its logprobs.
    const stream = await client.completions.create({ model: 'stories260K', prompt, max_tokens: 2, echo: true,
                                                     logprobs: 0, stream: true, temperature: 0 });
    const chunks = [];
    for await (const ch of stream) chunks.push(ch);
    const first = chunks[0].choices[0];
    assert.equal(first.logprobs.tokens.length, prompt.length);
    assert.deepEqual(first.logprobs.token_logprobs.slice(1), c.logprobs.token_logprobs.slice(1));
    const all = await client.completions.create({ model: 'stories260K', prompt, max_tokens: 2, echo: true,
                                                  logprobs: 0, temperature: 0 });
    assert.equal(all.choices[0].logprobs.tokens.length, prompt.length + 2);
    assert.equal(chunks.map((ch) => ch.choices[0]?.text ?? '').join(''), all.choices[0].text);
  });

  it('chat: non-streaming and streaming agree; roles, usage, max_completion_tokens', async () => {
    const client = chatClient();
    const params = {
      model: CHAT,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hello.' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: [{ type: 'text', text: 'Again,' }, { type: 'text', text: 'please.' }] },
      ],
      max_completion_tokens: 16,
      temperature: 0,
    };
    const full = await client.chat.completions.create(params);
    assert.equal(full.object, 'chat.completion');
    assert.equal(full.choices[0].message.role, 'assistant');
    assert.equal(typeof full.choices[0].message.content, 'string');
    assert.ok(full.usage.prompt_tokens > 10);
    assert.ok(full.usage.completion_tokens <= 16);
    const chunks = await collect(client.chat.completions.create({ ...params, stream: true,
      stream_options: { include_usage: true } }));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const streamed = chunks.flatMap((c) => c.choices.map((x) => x.delta.content || '')).join('');
    assert.equal(streamed, full.choices[0].message.content);
    const fin = chunks.flatMap((c) => c.choices).filter((x) => x.finish_reason);
    assert.equal(fin.length, 1);
    assert.equal(fin[0].finish_reason, full.choices[0].finish_reason);
    const usage = chunks[chunks.length - 1].usage;
    assert.equal(usage.prompt_tokens, full.usage.prompt_tokens);
    assert.equal(usage.completion_tokens, full.usage.completion_tokens);
    assert.ok(usage.prompt_tokens_details.cached_tokens > 0, 'the second request reuses the prompt KV');
  });

  it('chat: tools, tool calls and tool results render; logprobs; n', async () => {
    const client = chatClient();
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const r = await client.chat.completions.create({
      model: CHAT, tools, max_tokens: 8, n: 2, logprobs: true, top_logprobs: 2,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
          function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c": 21}' },
      ],
    });
    assert.equal(r.choices.length, 2);
    const lp = r.choices[0].logprobs.content;
    assert.equal(lp.length, r.usage.completion_tokens / 2);
    assert.ok(lp.every((e) => e.top_logprobs.length === 2 && Array.isArray(e.bytes)));
  });

  it('chat: errors come back as the client expects', async () => {
    await assert.rejects(chatClient('wrong-key').chat.completions.create({ model: CHAT,
      messages: [{ role: 'user', content: 'hi' }] }), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    await assert.rejects(chatClient().chat.completions.create({ model: CHAT, max_tokens: 4,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', not: {} } } },
      messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'response_format.json_schema.schema' &&
      e.message.includes("'not'"));
    await assert.rejects(chatClient().chat.completions.create({ model: CHAT, max_tokens: 4,
      response_format: { type: 'json_object' }, guided_regex: 'a+', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'guided_regex');
    await assert.rejects(chatClient().chat.completions.create({ model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }] }), (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
    await assert.rejects(textClient().completions.create({ model: 'stories260K', prompt: 'x', temperature: 3 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature');
    const ok = await chatClient().chat.completions.create({ model: CHAT, max_tokens: 2,
      response_format: { type: 'text' }, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ok.choices.length, 1);
  });
});

// Structured outputs through the client's response_format: every seeded answer at
// temperature 1 parses and validates against its schema (ajv), and ends by itself.
describe('openai client: structured outputs', () => {
  let server;
  before(async () => { server = await L.startServer({ model: L.CHAT_MODEL }); });
  after(async () => { assert.equal((await server.stop()).code, 0, 'server exit status'); });
  const client = () => new OpenAI({ baseURL: server.url + '/v1', apiKey: 'unused', maxRetries: 0 });

  it('json_schema answers validate with ajv', async () => {
    const Ajv = require('ajv');
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 20 },
        temp_c: { type: 'integer', minimum: -50, maximum: 60 },
        sky: { enum: ['clear', 'cloudy', 'rain'] },
      },
      required: ['city', 'temp_c', 'sky'],
      additionalProperties: false,
    };
    const validate = new Ajv().compile(schema);
    const model = (await client().models.list()).data[0].id;
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => client().chat.completions.create({
      model, temperature: 1, seed: i + 1, max_tokens: 120,
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    })));
    for (const r of answers) {
      const c = r.choices[0];
      assert.equal(c.finish_reason, 'stop', c.message.content);
      const value = JSON.parse(c.message.content);
      assert.ok(validate(value), JSON.stringify(validate.errors) + ' ' + c.message.content);
    }
  });

  it('guided_choice and a streamed json_object', async () => {
    const model = (await client().models.list()).data[0].id;
    const r = await client().chat.completions.create({ model, temperature: 1, seed: 3, max_tokens: 8,
      guided_choice: ['yes', 'no'], messages: [{ role: 'user', content: 'Yes or no?' }] });
    assert.ok(['yes', 'no'].includes(r.choices[0].message.content), r.choices[0].message.content);
    let text = '';
    for await (const chunk of await client().chat.completions.create({ model, temperature: 1, seed: 5, max_tokens: 200,
      stream: true, response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'JSON please' }] })) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.ok(text.startsWith('{'), text);
  });
});
