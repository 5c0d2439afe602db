// Random strings (mixed scripts, whitespace, digits, special-token fragments)
// encoded by HF, in the golden format, to /tmp/ax-tokenizer-fuzz/. A local
// check, not a committed fixture; see README.md.
import path from 'path';
import fs from 'fs';
import { fileURLToPath } from 'url';
import { Tokenizer } from 'tokenizers';
import { SYNTHETIC } from './synth.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '..', '..', '..', 'shared');
const n = Number(process.argv[2] ?? 1000);
let seed = Number(process.argv[3] ?? 1);
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rand() * a.length)];
const atoms = ['the', ' The', 'cat', "'s", "'LL", ' ', '  ', '\t', '\n', '\r\n', '\n\n', '0', '42', '2024', '3.14',
  '中文', '日本語', '한국어', 'العربية', 'हिन्दी', 'é', 'e\u0301', 'ﬁ', '😀', '👍🏽', '👨‍👩‍👧', '\u00A0', '\u3000', '\u180E',
  '\u200B', '<|im_start|>', '<|im_end|>', '<start_of_turn>', '<s>', '</s>', '<bos>', '<', '|', '>', '!', '?', '...',
  '--', '==', '{', '}', '(', ')', '"', "'", '`', '#', '$', '%', '&', '*', '_', 'x', 'Z', 'HELLO', 'hello', 'ab',
  '<mask>', '[SEP]', '<br>', 'ǅ', 'İ', 'ß', 'Σ', 'ς', '\u0000', '\u007F', '\uFFFD', '𝔘', '𓀀', 'ｆ'];
const strings = [];
for (let i = 0; i < n; ++i) {
  let s = '';
  const len = 1 + Math.floor(rand() * 12);
  for (let k = 0; k < len; ++k) s += pick(atoms);
  strings.push(s);
}
const out = '/tmp/ax-tokenizer-fuzz';
fs.mkdirSync(out, { recursive: true });
const sources = {
  qwen3: Tokenizer.fromFile(path.join(shared, 'tokenizers/qwen3/tokenizer.json')),
  gemma3: Tokenizer.fromFile(path.join(shared, 'tokenizers/gemma3/tokenizer.json')),
  stories260K: Tokenizer.fromFile(path.join(shared, 'models/stories260K/tokenizer.json')),
};
for (const [name, make] of Object.entries(SYNTHETIC)) sources[name] = Tokenizer.fromString(JSON.stringify(make()));
for (const [name, tok] of Object.entries(sources)) {
  const cases = [];
  for (const t of strings) {
    const ids = (await tok.encode(t, null, { addSpecialTokens: false })).getIds();
    const sp = (await tok.encode(t, null, { addSpecialTokens: true })).getIds();
    cases.push({ t, ids, sp, d: await tok.decode(ids, false), dsp: await tok.decode(sp, false), ds: await tok.decode(sp, true) });
  }
  fs.writeFileSync(path.join(out, `golden_${name}.json`), JSON.stringify({ tokenizer: name, cases }));
}
console.log(`${strings.length} strings x ${Object.keys(sources).length} tokenizers -> ${out}`);
