// A "bigram" model for the e2e tests: the chat test model (real Qwen3 tokenizer and
// template) rewritten so that its next token depends only on the current one, and its
// greedy answer to a given conversation is a chosen text. A real checkpoint the engine
// loads and runs like any other, for tests that need a live model to answer something
// exact (a tool call).
//
// Every attention and MLP output projection is zero, so the residual stream is the
// current token's embedding. Each token of the answer gets its own basis vector as
// embedding, and the LM head row of the token that should follow reads that vector with
// weight 100 (logit margin ~800 after the final norm), so greedy and sampled answers
// alike follow the chain. The conversation's last prompt token leads into it. A bigram
// model cannot repeat a token, so every token of the answer must be distinct: checked
// against the tokenizer before the model is written.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const L = require('./server');
const { readF32, writeF32 } = require('./safetensors');

function writeModel(chatDir, outDir, start, chain) {
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(chatDir))
    if (f !== 'model.safetensors' && f !== 'config.json' && !f.startsWith('.'))
      fs.copyFileSync(path.join(chatDir, f), path.join(outDir, f));
  const cfg = JSON.parse(fs.readFileSync(path.join(chatDir, 'config.json'), 'utf8'));
  const st = readF32(path.join(chatDir, 'model.safetensors'));
  const embed = st.tensors['model.embed_tokens.weight'];
  const [vocab, hidden] = embed.shape;
  assert.ok(chain.length < hidden, `a chain of ${chain.length} tokens needs more than ${hidden} basis vectors`);
  for (const name of st.names)
    if (/\.(o_proj|down_proj)\.weight$/.test(name)) st.tensors[name].data.fill(0);
  st.tensors['model.norm.weight'].data.fill(1);
  const head = new Float32Array(vocab * hidden);
  [start, ...chain.slice(0, -1)].forEach((tok, i) => {
    embed.data.fill(0, tok * hidden, (tok + 1) * hidden);
    embed.data[tok * hidden + i] = 1;   // token → basis vector i
    head[chain[i] * hidden + i] = 100;  // basis vector i → the next token's logit
  });
  st.tensors['lm_head.weight'] = { shape: [vocab, hidden], data: head };
  writeF32(path.join(outDir, 'model.safetensors'), [...st.names, 'lm_head.weight'], st.tensors, st.metadata);
  cfg.tie_word_embeddings = false;
  fs.writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(cfg, null, 2));
}

// Writes outDir: the model at chatDir answering `answer` + <|im_end|> to the chat
// `request` ({messages, tools}). chatUrl: a live server on chatDir (for /tokenize).
async function buildBigramModel(chatUrl, chatDir, outDir, request, answer) {
  const tok = async (body) => {
    const r = await L.request(chatUrl, '/tokenize', { body });
    assert.equal(r.status, 200, r.body);
    return r.json.tokens;
  };
  const prompt = await tok(request);
  const chain = [...await tok({ prompt: answer, add_special_tokens: false }),
                 ...await tok({ prompt: '<|im_end|>', add_special_tokens: false })];
  const start = prompt[prompt.length - 1];
  assert.equal(new Set([start, ...chain]).size, chain.length + 1, `the answer repeats a token: ${[start, ...chain]}`);
  writeModel(chatDir, outDir, start, chain);
  return chain.length;
}

module.exports = { buildBigramModel };
