// Small synthetic tokenizer.json files that exercise the features the three
// real tokenizers do not use (Metaspace, ByteLevel with its regex and prefix
// space, Digits, Whitespace, Split behaviours, Lowercase/Strip/NFKC/NFD,
// added-token lstrip/rstrip/single_word/normalized, ignore_merges, unk fusing,
// Roberta/Bert post-processors, Strip/Replace/Metaspace decoders). Their BPE
// vocabularies are trained here, on Debian's GPL-3 text, by a plain BPE
// trainer: no real model vocabulary is copied.
import fs from 'fs';

function corpus() {
  let t = '';
  try { t = fs.readFileSync('/usr/share/common-licenses/GPL-3', 'utf8'); } catch { /* fall back */ }
  return t + '\nThe quick brown fox jumps over the lazy dog 0123456789. Hello hello HELLO world!\n';
}

// Deterministic BPE training: words are arrays of symbols with counts; each
// step merges the most frequent adjacent pair (ties: smallest pair string).
function train(wordCounts, nMerges) {
  const words = [...wordCounts.entries()].map(([w, c]) => ({ syms: w, c }));
  const merges = [];
  for (let step = 0; step < nMerges; ++step) {
    const pairs = new Map();
    for (const { syms, c } of words) {
      for (let i = 0; i + 1 < syms.length; ++i) {
        const k = syms[i] + '\u0000' + syms[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + c);
      }
    }
    let best = null, bestC = 1;
    for (const [k, c] of pairs) if (c > bestC || (c === bestC && best !== null && k < best)) { best = k; bestC = c; }
    if (best === null) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    for (const w of words) {
      const out = [];
      for (let i = 0; i < w.syms.length; ++i) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) { out.push(a + b); ++i; } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return merges;
}

function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; ++b) bs.push(b);
  for (let b = 161; b <= 172; ++b) bs.push(b);
  for (let b = 174; b <= 255; ++b) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; ++b) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const map = new Array(256);
  bs.forEach((b, i) => { map[b] = String.fromCodePoint(cs[i]); });
  return map;
}

function addMergesToVocab(vocab, merges) {
  let next = Math.max(...Object.values(vocab)) + 1;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
}

const base = { version: '1.0', truncation: null, padding: null };

// SentencePiece-like: Metaspace, byte fallback, unk, lowercase + NFKC, odd added tokens.
function spTokenizer() {
  const counts = new Map();
  for (const w of corpus().toLowerCase().split(/\s+/).filter(Boolean)) {
    const syms = [...('▁' + w)];
    const k = syms;
    const key = syms.join('\u0001');
    counts.set(key, { syms: k, c: (counts.get(key)?.c ?? 0) + 1 });
  }
  const wc = new Map([...counts.values()].map((v) => [v.syms, v.c]));
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; ++b) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const charCounts = new Map();
  for (const [syms, c] of wc) for (const s of syms) charCounts.set(s, (charCounts.get(s) ?? 0) + c);
  let next = 259;
  for (const [ch] of [...charCounts.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))) {
    if (ch.codePointAt(0) < 128 || ch === '▁') vocab[ch] = next++;  // rare chars go to byte fallback
  }
  const merges = train(wc, 250);
  addMergesToVocab(vocab, merges);
  const n = Object.keys(vocab).length;
  return {
    ...base,
    added_tokens: [
      { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: n, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
      { id: n + 1, content: '[SEP]', single_word: false, lstrip: false, rstrip: true, normalized: false, special: false },
      { id: n + 2, content: 'HELLO', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
      { id: n + 3, content: 'ab', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
      { id: n + 4, content: '<br>', single_word: true, lstrip: true, rstrip: true, normalized: false, special: true },
    ],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: true },
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: false, ignore_merges: true, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}

// GPT-2-like: ByteLevel with regex and prefix space, Digits, Strip + NFD, Bert post-processor.
function byteLevelTokenizer() {
  const map = bytesToUnicode();
  const enc = new TextEncoder();
  const re = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
  const counts = new Map();
  for (const m of corpus().matchAll(re)) {
    const syms = [...enc.encode(m[0])].map((b) => map[b]);
    const key = syms.join('\u0001');
    counts.set(key, { syms, c: (counts.get(key)?.c ?? 0) + 1 });
  }
  const wc = new Map([...counts.values()].map((v) => [v.syms, v.c]));
  const vocab = {};
  map.forEach((ch, b) => { vocab[ch] = b; });
  const merges = train(wc, 400);
  addMergesToVocab(vocab, merges);
  const n = Object.keys(vocab).length;
  return {
    ...base,
    added_tokens: [
      { id: n, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: n + 1, content: '<|im_start|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: n + 2, content: ' mid', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
    ],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Strip', strip_left: true, strip_right: true }, { type: 'NFD' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Digits', individual_digits: true },
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }] },
    post_processor: { type: 'BertProcessing', sep: ['<|endoftext|>', n], cls: ['<|im_start|>', n + 1] },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

// Split behaviours, Whitespace/WhitespaceSplit, string-form Replace, Strip/Replace decoders.
function splitsTokenizer(variant) {
  const sp = spTokenizer();
  const t = { ...sp, added_tokens: sp.added_tokens.slice(0, 3) };
  t.model = { ...sp.model, ignore_merges: false, fuse_unk: false, byte_fallback: true };
  t.post_processor = { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } };
  if (variant === 1) {
    t.normalizer = { type: 'Sequence', normalizers: [
      { type: 'Replace', pattern: { Regex: '\\s{2,}' }, content: ' ' },
      { type: 'Strip', strip_left: true, strip_right: false },
      { type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };
    t.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { String: '▁' }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { Regex: '\\p{P}+' }, behavior: 'Isolated', invert: false },
      { type: 'Digits', individual_digits: false }] };
    t.decoder = { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 }] };
  } else {
    t.normalizer = null;
    t.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: '[aeiou]' }, behavior: 'Contiguous', invert: false },
      { type: 'Split', pattern: { Regex: '\\d' }, behavior: 'MergedWithPrevious', invert: false },
      { type: 'Split', pattern: { Regex: '[A-Z]' }, behavior: 'Removed', invert: true },
      { type: 'Whitespace' }] };
    t.decoder = { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { Regex: '[aeiou]' }, content: '*' }, { type: 'ByteFallback' }, { type: 'Fuse' }] };
  }
  return t;
}

function wsSplitTokenizer() {
  const t = splitsTokenizer(2);
  t.pre_tokenizer = { type: 'Sequence', pretokenizers: [
    { type: 'WhitespaceSplit' },
    { type: 'Split', pattern: { Regex: 'e' }, behavior: 'MergedWithNext', invert: true },
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false }] };
  t.decoder = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  t.post_processor = null;
  return t;
}

export const SYNTHETIC = {
  synth_sp: spTokenizer,
  synth_bytelevel: byteLevelTokenizer,
  synth_splits1: () => splitsTokenizer(1),
  synth_splits2: () => splitsTokenizer(2),
  synth_wssplit: wsSplitTokenizer,
};

// Extra strings aimed at the added-token options and splitting rules.
export const SYNTH_STRINGS = [
  '<mask>', '  <mask>  x', 'a<mask>b', 'a  <mask>', '[SEP]   next', 'x [SEP]\n\ty', '[SEP][SEP] [SEP]',
  'HELLO world', 'hello world', 'say hello there', 'sayhello there', 'hello,world', 'Hello', 'HELLO',
  'ab cab abab', 'AB', '<br>', 'x <br> y', 'x<br>y', ' <br>', '<br> <br>  <br>', 'a mid b', ' mid', 'mid',
  'Digits 2024 and 7 and 1234567', 'It\'s 5 o\'clock', 'UPPER lower MiXeD', 'e e e', 'eee', 'tree free',
  'punct!!! ... ,,, ;;', '  spaced   out  text  ', '<s>hi</s>', 'ﬁ ﬂ ① ㎏', 'Ⅻ ½',
];
