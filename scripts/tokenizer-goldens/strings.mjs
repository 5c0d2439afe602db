// The golden input strings: varied scripts, code, whitespace, special tokens,
// byte-fallback material. Exported as one list; generate.mjs encodes each.
import fs from 'fs';

const prose = [
  'Hello, world!', 'Once upon a time', 'Once upon a time, there was a little dragon',
  'The quick brown fox jumps over the lazy dog.', "It's a beautiful day, isn't it? I'd say we'll go.",
  "They're here; we've seen 'em. You'LL SEE, I'M SURE, HE'D KNOW.",
  'Mr. Smith paid $3.50 for 2 apples on 2024-01-15 at 10:30am.',
  'E-mail me at someone@example.com or visit https://example.org/path?q=1&r=two#frag',
  'Lily and Ben went to the park. They saw a big, red ball!', 'A', 'a', 'I', '.', '!!!', '???',
  '"Quoted text" and \'single quotes\' and `backticks`.', '(parentheses) [brackets] {braces} <angles>',
  'Hyphen-ated words, em—dashes, en–dashes, and ellipses…', 'Curly “double” and ‘single’ quotes.',
  'ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS #@!', 'camelCaseIdentifier snake_case_identifier kebab-case',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'The year 1999 and the number 3.14159265358979 and -42 and 1e-10.',
  '12345678901234567890', '0', '00', '007', '1,234,567.89', '١٢٣٤٥ (Arabic-Indic digits)', '²³¹ ½ ¾ Ⅻ',
  'Version v2.0.1-beta+build.5', 'phone: +1 (555) 123-4567', '100% of 50% is 25%',
];
const code = [
  'def add(a, b):\n    return a + b\n', 'for (int i = 0; i < n; ++i) {\n\tsum += v[i];\n}',
  '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }',
  'const f = (x) => x ** 2;\nconsole.log([1,2,3].map(f));', 'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;',
  'fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!("{:?}", v);\n}',
  '<div class="box"><p>Hello</p></div>', '{"key": [1, 2.5, true, null], "nested": {"a": "b"}}',
  'if x != None and y <= 3:\n        pass\n    else:\n        raise ValueError("bad")',
  '    indented four\n        indented eight\n\tand a tab', 'x=1;y=2;z=x+y', 'a->b; c::d; e=>f; g<=h; i!=j; k&&l||m',
  'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello")\n}\n',
  '# Markdown title\n\n- item one\n- item two\n\n```python\nprint(1)\n```\n', '$ ls -la | grep ".txt" > out.log 2>&1',
  'public static void main(String[] args) { System.out.println("Hi"); }', '<?php echo $var; ?>', '// comment\n/* block */',
];
const scripts = [
  '你好，世界！', '我们今天去公园散步吧。', '日本語のテキストです。ひらがなとカタカナ。', 'カタカナ　全角スペース',
  '안녕하세요, 세계!', '한국어 문장을 토큰화합니다.', 'مرحبا بالعالم', 'اللغة العربية جميلة جدا.',
  'नमस्ते दुनिया', 'हिन्दी में एक वाक्य।', 'Привет, мир! Как дела?', 'Ελληνικά: Γειά σου Κόσμε',
  'שלום עולם', 'สวัสดีชาวโลก', 'Tiếng Việt có dấu: Xin chào thế giới', 'ქართული ენა', 'Հայերեն լեզու',
  'ትግርኛ ፊደል', 'தமிழ் மொழி', 'বাংলা ভাষা', 'Türkçe ığüşöç İstanbul', 'Polski: zażółć gęślą jaźń',
  'Deutsch: Größe, Straße, Äpfel', 'Français : où est l’hôtel ? Ça va.', 'Español: ¿Qué tal? ¡Muy bien!',
  'Mixed 中文 and English 和 数字 123', '𓀀𓀁 hieroglyphs', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝒷𝑜𝓁𝒹', 'ᚠᚢᚦᚨᚱᚲ runes',
];
const emoji = [
  '😀', '👍🏽', '👨‍👩‍👧‍👦 family', '🏳️‍🌈 flag', '❤️ heart', 'I ❤️ NY 🗽', '🤖🚀✨🔥💯',
  '👩🏿‍💻 coder', '🇯🇵🇺🇸 flags', 'Smile :) 😊 wink ;) 😉', '1️⃣ keycap', '🧑‍🤝‍🧑', 'emoji at end 🎉',
];
const accents = [
  'café', 'cafe\u0301', 'naïve', 'nai\u0308ve', 'résumé', 're\u0301sume\u0301', 'Å Å A\u030A',
  'ñ n\u0303', '\u1100\u1161\u11A8 jamo', 'Ǆ ǅ ǆ', 'ﬁ ligature', 'Ｆｕｌｌｗｉｄｔｈ', '\u0041\u0300\u0316',
];
const spaces = [
  '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r\n\r\n', ' \n ', '\t\t\t',
  ' leading space', '  two leading', 'trailing space ', 'trailing two  ', '  both sides  ',
  'multiple    spaces   inside', 'tab\tseparated\tvalues', 'line1\nline2\nline3', 'windows\r\nline\r\nends',
  'mixed \t \n whitespace', 'ends with newline\n', '\nstarts with newline', 'a\u00A0b (nbsp)',
  'ideographic\u3000space', 'line\u2028separator', 'mongolian\u180Evowel separator', 'zero\u200Bwidth',
  'em\u2003space', '\u180E \u180E  x', ' \u180E ', '       indented', 'x' + ' '.repeat(20) + 'y', '\n'.repeat(40), ' '.repeat(33),
  'a\tb\n\tc\r\nd  ', ' \t\n\r\u000B\u000C',
];
const specials = [
  '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n', '<|im_start|>', '<|im_end|>', '<|endoftext|>',
  'text<|endoftext|>more text', '<think>\nreasoning\n</think>\nanswer', '<|im_start|>system\nYou are helpful.<|im_end|>',
  '<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n', '<start_of_turn>', '<end_of_turn>',
  '<bos>hello', 'hello<eos>', '<pad><pad>', '<unk>', '<mask> token', '[multimodal]', '<unused7> and <unused123>',
  '<s>', '</s>', '<s> Hello </s>', 'Hello <s> world', 'a</s>b', '<s><s></s>', '<table><tr><td>cell</td></tr></table>',
  '<h1>Title</h1><strong>bold</strong><em>em</em>', '<start_of_image><image_soft_token><end_of_image>',
  '<|im_start|> spaced <|im_end|>', '  <|im_start|>  ', '<|im_start', 'im_start|>', '<<|im_end|>>',
  '<|vision_start|><|image_pad|><|vision_end|>', '<tool_call>{"name": "f"}</tool_call>',
];
const bytes = [
  '\u0000', '\u0001\u0002\u0003', 'bell\u0007', '\u007F delete', '\uE000 private use', '\uFFFD replacement',
  '\uFEFF bom', '\u00AD soft hyphen', 'ǂ click', '\u{10FFFD}', '\u{1F9FF}\u{1FA70}', '€ £ ¥ ₹ ₿',
  '™ ® © ℃ № ⅓', '→ ← ↑ ↓ ⇒ ∀ ∃ ∅ ∞ ≠ ≤ ≥', '┌─┐│└┘ box', '░▒▓█ blocks', '♠♣♥♦ ♪♫',
];

function gpl() {
  try {
    const t = fs.readFileSync('/usr/share/common-licenses/GPL-3', 'utf8');
    return [t.slice(0, 600), t.slice(3000, 3400)];
  } catch { return []; }
}

// Programmatic combinations to widen coverage.
const combos = [];
const words = ['the', 'The', ' the', 'THE', 'cat', 'sat', 'on', 'mat', '123', '4567', '中文', 'é', '🙂', "'s", "'T"];
for (let i = 0; i < words.length; ++i) {
  for (const sep of [' ', '  ', '\n', '', '\t']) combos.push(words[i] + sep + words[(i * 7 + 3) % words.length]);
}
for (let n = 1; n <= 12; ++n) combos.push('9'.repeat(n));
for (const n of [2, 5, 17]) combos.push('ab'.repeat(n), 'ha'.repeat(n) + '!', '-'.repeat(n), '='.repeat(n) + '>');

export const STRINGS = [...new Set([
  ...prose, ...code, ...scripts, ...emoji, ...accents, ...spaces, ...specials, ...bytes, ...gpl(), ...combos,
])];
