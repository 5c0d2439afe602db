// tool_choice "required" and named functions, enforced by constrained decoding in the
// call syntax of each tool-call parser (server/tool_call_grammar.h), through a live
// server and the official `openai` client. The chat test model has random weights:
// only the constraint makes its answers calls. For each parser (--tool-call-parser),
// seeded requests at temperature 1 must end with finish_reason "tool_calls", call an
// allowed tool with arguments that validate against its schema (ajv), and stream the
// same calls as the blocking answer, their arguments in pieces as they are generated.
// Also: properties come in the order the request wrote them, a parameters schema the
// grammar cannot enforce is a 400 naming the tool, and tool_choice "none" keeps the
// tools out of the prompt.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const OpenAI = require('openai');
const Ajv = require('ajv');
const L = require('./lib/server');

const ASK = [{ role: 'user', content: 'What is the weather in Paris for the next days?' }];
// Bounded values only: the random model writes whatever the constraint allows, and a
// free-text parameter of the XML syntaxes ends only at its closing tag.
const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather forecast', parameters: {
    type: 'object',
    properties: {
      unit: { enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1, maximum: 7 },
      detailed: { type: 'boolean' },
    },
    required: ['unit', 'days'],
  } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];
const ajv = new Ajv();
const VALIDATE = Object.fromEntries(TOOLS.map((t) => [t.function.name, ajv.compile(t.function.parameters)]));

// The calls of a streamed answer, joined as a client joins them, and how many parts
// each came in.
async function streamed(client, body) {
  const calls = [], parts = [];
  let content = '', finish = null;
  for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) {
    const c = chunk.choices[0];
    if (!c) continue;
    content += c.delta.content || '';
    for (const d of c.delta.tool_calls || []) {
      parts[d.index] = (parts[d.index] ?? 0) + 1;
      calls[d.index] ??= { name: '', arguments: '' };
      calls[d.index].name += d.function?.name || '';
      calls[d.index].arguments += d.function?.arguments || '';
    }
    finish = c.finish_reason || finish;
  }
  return { calls, parts, content, finish };
}

function checkCalls(calls, allowed, many) {
  assert.ok(calls.length >= 1);
  if (!many) assert.equal(calls.length, 1, JSON.stringify(calls));
  for (const call of calls) {
    const f = call.function ?? call;
    assert.ok(allowed.includes(f.name), f.name);
    const args = JSON.parse(f.arguments);
    assert.ok(VALIDATE[f.name](args), `${f.name} ${f.arguments}: ${JSON.stringify(VALIDATE[f.name].errors)}`);
  }
}

for (const parser of ['auto', 'qwen3-coder', 'glm45', 'llama3-json', 'gemma4']) {
  describe(`forced tool_choice, --tool-call-parser ${parser}`, () => {
    let srv, client, model;
    before(async () => {
      srv = await L.startServer({ model: L.CHAT_MODEL, args: ['--tool-call-parser', parser] });
      client = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'unused', maxRetries: 0 });
      model = (await client.models.list()).data[0].id;
    });
    after(async () => { if (srv) assert.equal((await srv.stop()).code, 0); });

    const choices = [
      ['required, one call', 'required', false, ['get_weather', 'get_time']],
      ['required, parallel calls', 'required', true, ['get_weather', 'get_time']],
      ['named', { type: 'function', function: { name: 'get_weather' } }, true, ['get_weather']],
    ];
    for (const [what, tool_choice, parallel, allowed] of choices) {
      // With parallel calls allowed, "required" takes one or more: the random model
      // mostly goes on calling until max_tokens (finish_reason "length", the last call
      // cut short), which is what the grammar allows; the calls before it validate.
      const many = parallel && tool_choice === 'required';
      it(`${what}: calls that validate, streamed as the same calls`, async () => {
        let most = 0;
        for (const seed of [1, 2]) {
          const body = { model, messages: ASK, tools: TOOLS, tool_choice, parallel_tool_calls: parallel,
                         temperature: 1, seed, max_tokens: 200 };
          const whole = await client.chat.completions.create(body);
          const choice = whole.choices[0];
          const calls = choice.message.tool_calls;
          if (many && choice.finish_reason === 'length') calls.pop();
          else assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
          if (choice.finish_reason === 'tool_calls') assert.equal(choice.message.content, null);
          checkCalls(calls, allowed, many);
          most = Math.max(most, calls.length);
          const s = await streamed(client, body);
          assert.equal(s.finish, choice.finish_reason);
          assert.equal(s.content, choice.message.content ?? '');
          assert.deepEqual(s.calls.slice(0, calls.length), calls.map((c) => ({ name: c.function.name,
                                                                                 arguments: c.function.arguments })));
          // Arguments stream as they are generated, not in one piece at the end.
          calls.forEach((c, i) => {
            if (c.function.arguments !== '{}') assert.ok(s.parts[i] > 2, `${parser}: ${s.parts[i]} parts`);
          });
        }
        if (many && parser === 'auto') assert.ok(most >= 2, 'parallel calls');
      });
    }
  });
}

describe('tool_choice none, schema order, errors', () => {
  let srv;
  before(async () => { srv = await L.startServer({ model: L.CHAT_MODEL }); });
  after(async () => { if (srv) assert.equal((await srv.stop()).code, 0); });
  const chat = (body) => L.request(srv.url, '/v1/chat/completions', { body: { messages: ASK, ...body } });

  it('generates properties in the order the request wrote them', async () => {
    // Not sorted: zeta before alpha.
    const schema = { type: 'object',
                     properties: { zeta: { type: 'integer', enum: [1, 2] }, alpha: { type: 'boolean' } },
                     required: ['zeta', 'alpha'] };
    const r = await chat({ response_format: { type: 'json_schema', json_schema: { name: 'o', schema } },
                           temperature: 1, seed: 4, max_tokens: 40 });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(Object.keys(JSON.parse(r.json.choices[0].message.content)), ['zeta', 'alpha']);
    for (const parser of ['qwen3', 'qwen3-coder']) {
      const tools = [{ type: 'function', function: { name: 'f', parameters: schema } }];
      const body = { tools, tool_choice: { type: 'function', function: { name: 'f' } }, temperature: 1, seed: 4,
                     max_tokens: 60 };
      const srv2 = parser === 'qwen3' ? srv : await L.startServer({ model: L.CHAT_MODEL,
                                                                       args: ['--tool-call-parser', parser] });
      try {
        const c = await L.request(srv2.url, '/v1/chat/completions', { body: { messages: ASK, ...body } });
        assert.equal(c.status, 200, c.body);
        const args = c.json.choices[0].message.tool_calls[0].function.arguments;
        assert.deepEqual(Object.keys(JSON.parse(args)), ['zeta', 'alpha'], args);
      } finally {
        if (srv2 !== srv) assert.equal((await srv2.stop()).code, 0);
      }
    }
  });

  it('refuses a parameters schema it cannot enforce (naming the tool) and tools without a name', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object',
      properties: { x: { type: 'integer', not: {} } } } } }];
    const r = await chat({ tools, tool_choice: 'required', max_tokens: 8 });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.error.param, 'tools');
    assert.match(r.json.error.message, /tools-0-parameters\/properties\/x: unsupported keyword 'not'/);
    const nameless = await chat({ tools: [{ type: 'function', function: {} }], tool_choice: 'required',
                                  max_tokens: 8 });
    assert.equal(nameless.status, 400, nameless.body);
    assert.equal(nameless.json.error.param, 'tools');
  });

  it('keeps the tools out of the prompt with tool_choice none and parses no calls', async () => {
    const prompt = async (extra) => {
      const r = await L.request(srv.url, '/tokenize', { body: { messages: ASK, tools: TOOLS, ...extra } });
      assert.equal(r.status, 200, r.body);
      return (await L.request(srv.url, '/detokenize', { body: { tokens: r.json.tokens } })).json.prompt;
    };
    assert.match(await prompt({}), /get_weather/);
    assert.doesNotMatch(await prompt({ tool_choice: 'none' }), /get_weather|<tools>/);
    const r = await chat({ tools: TOOLS, tool_choice: 'none', max_tokens: 8, temperature: 0 });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.choices[0].message.tool_calls, undefined);
    assert.notEqual(r.json.choices[0].finish_reason, 'tool_calls');
  });
});
