#!/usr/bin/env node
// Makes the chat test model: ax-engine-bench's `tiny-qwen3` synthetic shape (2 layers,
// hidden 64, random weights) with the real Qwen3 tokenizer and chat template. The
// shape's vocabulary is 256 ids, too few for the tokenizer's 151,669, so the embedding
// (tied with the LM head) is widened to Qwen3's 151,936 rows: the first 256 rows are
// the synthetic ones, the rest deterministic pseudo-random values of the same scale.
// EOS/BOS become Qwen3's (<|im_end|>, <|endoftext|>). ~39 MB, made once per build dir.
//
//   node make_chat_model.js AX_ENGINE_BENCH QWEN3_TOKENIZER_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { readF32, writeF32 } = require('./lib/safetensors');

const [bench, tokDir, outDir] = process.argv.slice(2);
if (!bench || !tokDir || !outDir) {
  console.error('usage: make_chat_model.js AX_ENGINE_BENCH QWEN3_TOKENIZER_DIR OUT_DIR');
  process.exit(2);
}
const VOCAB = 151936;
const marker = path.join(outDir, '.complete');
if (fs.existsSync(marker)) process.exit(0);

const tmp = outDir + '.tmp';
fs.rmSync(tmp, { recursive: true, force: true });
execFileSync(bench, ['synth-model', '--shape', 'tiny-qwen3', '--dtype', 'f32', '--seed', '0', '--out', tmp,
  '--tokenizer', tokDir], { stdio: 'inherit' });

// ---- widen the embedding in model.safetensors ----
const file = path.join(tmp, 'model.safetensors');
const st = readF32(file);
for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
  const t = st.tensors[name];
  if (!t) continue;
  const [rows, cols] = t.shape;
  const wide = new Float32Array(VOCAB * cols);
  wide.set(t.data);
  const half = 2.0 / Math.sqrt(cols) * Math.sqrt(3.0);
  let s = 0x9e3779b9 >>> 0;  // xorshift32: the same model on every machine
  for (let i = rows * cols; i < wide.length; ++i) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    wide[i] = ((s / 4294967296) * 2 - 1) * half;
  }
  st.tensors[name] = { shape: [VOCAB, cols], data: wide };
}
writeF32(file, st.names, st.tensors, st.metadata);

// ---- config: Qwen3's vocabulary and special ids ----
const cfgPath = path.join(tmp, 'config.json');
const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
Object.assign(cfg, { vocab_size: VOCAB, bos_token_id: 151643, eos_token_id: 151645 });
fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
fs.writeFileSync(path.join(tmp, 'generation_config.json'),
  JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643], do_sample: false }, null, 2));
fs.writeFileSync(path.join(tmp, '.complete'), 'ok\n');
fs.rmSync(outDir, { recursive: true, force: true });
fs.renameSync(tmp, outDir);
console.log(`chat model: ${outDir} (tiny-qwen3 widened to ${VOCAB} ids)`);
