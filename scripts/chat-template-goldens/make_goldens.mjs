// Renders the conversations in conversations.mjs with every chat template under test
// using @huggingface/jinja (the Jinja implementation transformers.js uses) and writes
// tests/fixtures/chat_template/goldens.json. tests/chat_template/golden_test.cc renders
// the same contexts with our interpreter and requires byte-identical output.
//
//   cd scripts/chat-template-goldens && npm install && node make_goldens.mjs
//   python3 check_jinja2.py --annotate   # cross-check against Jinja2 configured like
//                                        # transformers; records where they disagree
//
// The context each template sees is built as transformers' apply_chat_template builds
// it: the tokenizer's special tokens, then tools=None, documents=None,
// add_generation_prompt=False, then the conversation's own variables.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";
import { conversations } from "./conversations.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const shared = process.env.AX_SHARED_DIR ?? path.resolve(repo, "../shared");
const fixtures = path.join(repo, "tests/fixtures");

// Template name -> directory holding tokenizer_config.json; the test resolves "shared/"
// against AX_SHARED_DIR and "fixtures/" against AX_FIXTURES_DIR.
const templates = {
  qwen3: "shared/tokenizers/qwen3",
  gemma3: "shared/tokenizers/gemma3",
  llama3: "fixtures/chat_template/llama3",
  "llama3.1": "fixtures/chat_template/llama3.1",
  gemma4: "fixtures/chat_template/gemma4",
};

function resolveDir(rel) {
  if (rel.startsWith("shared/")) return path.join(shared, rel.slice("shared/".length));
  return path.join(fixtures, rel.slice("fixtures/".length));
}

// transformers' special_tokens_map: the set special-token attributes, additional
// special tokens and (newer versions) extra_special_tokens.
function specialTokens(config) {
  const content = (t) => (typeof t === "string" ? t : t && typeof t.content === "string" ? t.content : null);
  const out = {};
  for (const name of ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]) {
    const v = content(config[name]);
    if (v) out[name] = v;
  }
  if (Array.isArray(config.additional_special_tokens)) {
    out.additional_special_tokens = config.additional_special_tokens.map(content).filter((x) => x !== null);
  }
  for (const [k, v] of Object.entries(config.extra_special_tokens ?? {})) {
    if (content(v)) out[k] = content(v);
  }
  return out;
}

function loadTemplate(dir) {
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  let source = config.chat_template;
  if (Array.isArray(source)) source = source.find((t) => t.name === "default").template;
  return { source, specials: specialTokens(config) };
}

const renders = [];
for (const [name, rel] of Object.entries(templates)) {
  const { source, specials } = loadTemplate(resolveDir(rel));
  const template = new Template(source);
  for (const conv of conversations) {
    if (conv.only && !conv.only.includes(name)) continue;
    const context = { ...specials, tools: null, documents: null, add_generation_prompt: false, ...structuredClone(conv.context) };
    const entry = { conversation: conv.name, template: name };
    try {
      entry.expected = template.render(context);
    } catch (e) {
      entry.error = String(e && e.message ? e.message : e);
    }
    renders.push(entry);
  }
}

const version = JSON.parse(fs.readFileSync(path.join(here, "node_modules/@huggingface/jinja/package.json"), "utf8")).version;
const out = {
  generator: `scripts/chat-template-goldens/make_goldens.mjs, @huggingface/jinja ${version}`,
  templates,
  conversations: conversations.map((c) => ({ name: c.name, context: c.context })),
  renders,
};
const file = path.join(fixtures, "chat_template/goldens.json");
fs.writeFileSync(file, JSON.stringify(out, null, 1) + "\n");
const errors = renders.filter((r) => r.error).length;
console.log(`${file}: ${conversations.length} conversations, ${renders.length} renders (${errors} errors)`);
