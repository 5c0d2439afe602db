// Writes tests/fixtures/tokenizer/golden_<name>.json with Hugging Face
// tokenizers (the official Rust library through its Node binding).
// Usage: npm install && node generate.mjs [path/to/shared]
// Each case: t = text, ids = encode(t, add_special_tokens=false),
// sp = encode(t, true) when different, d = decode(ids) when != t,
// dsp = decode(sp) when != d, ds = decode(sp, skip_special_tokens=true) when != d.
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';
import { Tokenizer } from 'tokenizers';
import { STRINGS } from './strings.mjs';
import { SYNTHETIC, SYNTH_STRINGS } from './synth.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const shared = path.resolve(process.argv[2] ?? path.join(repo, '..', 'shared'));
const outDir = path.join(repo, 'tests', 'fixtures', 'tokenizer');
const version = JSON.parse(fs.readFileSync(path.join(here, 'node_modules', 'tokenizers', 'package.json'))).version;

const SOURCES = {
  qwen3: 'tokenizers/qwen3/tokenizer.json',
  gemma3: 'tokenizers/gemma3/tokenizer.json',
  stories260K: 'models/stories260K/tokenizer.json',
};

async function golden(tok, text) {
  const enc = async (s, special) => (await tok.encode(s, null, { addSpecialTokens: special })).getIds();
  const ids = await enc(text, false);
  const sp = await enc(text, true);
  const d = await tok.decode(ids, false);
  const dsp = await tok.decode(sp, false);
  const ds = await tok.decode(sp, true);
  const c = { t: text, ids };
  if (JSON.stringify(sp) !== JSON.stringify(ids)) c.sp = sp;
  if (d !== text) c.d = d;
  if (dsp !== d) c.dsp = dsp;
  if (ds !== d) c.ds = ds;
  return c;
}

export async function writeGoldens(name, tokenizerJsonPath, strings, sourceLabel) {
  const tok = Tokenizer.fromFile(tokenizerJsonPath);
  await writeCases(name, tok, strings, sourceLabel);
}

async function writeCases(name, tok, strings, sourceLabel) {
  const cases = [];
  for (const s of strings) cases.push(await golden(tok, s));
  const out = { tokenizer: name, source: sourceLabel, generator: `tokenizers (npm) ${version}`, cases };
  // One case per line keeps diffs readable and the file compact.
  const body = cases.map((c) => JSON.stringify(c)).join(',\n');
  const head = JSON.stringify({ tokenizer: out.tokenizer, source: out.source, generator: out.generator });
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `golden_${name}.json`);
  fs.writeFileSync(file, head.slice(0, -1) + ',"cases":[\n' + body + '\n]}\n');
  console.log(`${file}: ${cases.length} cases`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, rel] of Object.entries(SOURCES)) {
    await writeGoldens(name, path.join(shared, rel), STRINGS, `shared/${rel}`);
  }
  // Synthetic tokenizers: tokenizer.json under synth/<name>/, goldens on a
  // third of the strings plus the targeted ones.
  const subset = [...new Set([...SYNTH_STRINGS, ...STRINGS.filter((_, i) => i % 3 === 0)])];
  for (const [name, make] of Object.entries(SYNTHETIC)) {
    const dir = path.join(outDir, 'synth', name);
    fs.mkdirSync(dir, { recursive: true });
    const json = JSON.stringify(make());
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), json + '\n');
    await writeCases(name, Tokenizer.fromString(json), subset, `tests/fixtures/tokenizer/synth/${name}/tokenizer.json (synth.mjs)`);
  }
}
