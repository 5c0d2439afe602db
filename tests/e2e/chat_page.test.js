// The built-in chat page (GET /) in a real browser: Debian's chromium driven by
// puppeteer-core. The page shows the runtime report, streams an answer that equals
// the non-streamed chat response for the same request (reasoning folded apart from the
// content), and shows a tool call (the bigram tool model of lib/bigram_model.js).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const L = require('./lib/server');
const { buildBigramModel } = require('./lib/bigram_model');

const CHROMIUM = process.env.AX_CHROMIUM || '/usr/bin/chromium';
const CALL = '<tool_call>{"name":"get_weather","arguments":{"city": "Paris"}}</tool_call>';
const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const QUESTION = "What's the weather like in Paris today?";

let chat, tools, browser, dir;

// Types `text` into the page's box, sends it and waits for the answer to finish.
async function ask(page, text) {
  await page.type('#input', text);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.assistant[data-done="1"]', { timeout: 60000 });
  return page.$eval('.assistant:last-child', (el) => ({
    content: el.querySelector('.content').textContent,
    reasoning: el.querySelector('details').hidden ? null : el.querySelector('details div').textContent,
    tools: [...el.querySelectorAll('.tool')].map((t) => t.textContent),
    stats: el.querySelector('.stats').textContent,
  }));
}

describe('chat page', { skip: !fs.existsSync(CHROMIUM) && `no browser at ${CHROMIUM}` }, () => {
  before(async () => {
    chat = await L.startServer({ model: L.CHAT_MODEL });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-page-'));
    await buildBigramModel(chat.url, L.CHAT_MODEL, path.join(dir, 'qwen3-tools'),
      { messages: [{ role: 'user', content: QUESTION }], tools: TOOLS }, CALL);
    tools = await L.startServer({ model: path.join(dir, 'qwen3-tools') });
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
                                       args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    if (browser) await browser.close();
    for (const s of [chat, tools]) if (s) assert.equal((await s.stop()).code, 0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams the same answer as the API, with the runtime shown', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(chat.url + '/');
    await page.waitForSelector('#runtime[data-ready="1"]');
    assert.match(await page.$eval('#runtime', (el) => el.textContent), /qwen3-chat · Qwen3ForCausalLM · .* · cpu/);
    await page.$eval('#temperature', (el) => { el.value = '0'; });
    await page.$eval('#max_tokens', (el) => { el.value = '24'; });
    const shown = await ask(page, 'Hello there');
    const api = await L.request(chat.url, '/v1/chat/completions', { body: {
      messages: [{ role: 'user', content: 'Hello there' }], temperature: 0, max_tokens: 24 } });
    const m = api.json.choices[0].message;
    assert.equal(shown.content, m.content);
    assert.equal(shown.reasoning, m.reasoning_content);
    assert.match(shown.stats, /^24 tokens · first token [0-9.]+ s · [0-9.]+ tok\/s · length$/);
    assert.deepEqual(errors, []);
  });

  it('shows a tool call', async () => {
    const page = await browser.newPage();
    await page.goto(tools.url + '/');
    await page.waitForSelector('#runtime[data-ready="1"]');
    await page.$eval('#tools', (el, v) => { el.value = v; }, JSON.stringify(TOOLS));
    const shown = await ask(page, QUESTION);
    assert.deepEqual(shown.tools, ['tool call: get_weather({"city":"Paris"})'], JSON.stringify(shown));
    assert.equal(shown.content, '');
    assert.match(shown.stats, /tool_calls$/);
  });
});
