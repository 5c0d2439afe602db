// Load-time faults: ax-engine-server given a broken copy of the demo model
// (models/ax-demo-qwen3) must exit non-zero before listening, with an error that names
// the file, the tensor and the sizes involved — never crash, hang or get OOM-killed.
'use strict';
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SERVER_BIN = process.env.AX_SERVER_BIN;
const DEMO = process.env.AX_DEMO_MODEL;

// The demo model's safetensors as {hlen, header, data}.
function readModel() {
  const buf = fs.readFileSync(path.join(DEMO, 'model.safetensors'));
  const hlen = Number(buf.readBigUInt64LE(0));
  return { buf, hlen, header: JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')), data: buf.subarray(8 + hlen) };
}

function image(header, data, { hlenOverride } = {}) {
  let hjson = JSON.stringify(header);
  while ((8 + Buffer.byteLength(hjson)) % 8 !== 0) hjson += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hlenOverride ?? Buffer.byteLength(hjson)));
  return Buffer.concat([len, Buffer.from(hjson), data]);
}

// A copy of the demo model whose model.safetensors is `weights` (a Buffer, or a function
// given the file's path that writes it) and whose config.json is edited by `config`.
function brokenModel(weights, config = (c) => c) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ax-load-fault-'));
  for (const f of fs.readdirSync(DEMO)) {
    if (f === 'model.safetensors' || f === 'config.json') continue;
    fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
  }
  const cfg = config(JSON.parse(fs.readFileSync(path.join(DEMO, 'config.json'), 'utf8')));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  const file = path.join(dir, 'model.safetensors');
  if (typeof weights === 'function') weights(file);
  else fs.writeFileSync(file, weights);
  return { dir, file };
}

// Runs the server on `dir`; it must exit non-zero within the timeout, before listening.
function expectLoadFailure(dir, parts, args = []) {
  const r = spawnSync(SERVER_BIN, ['--model', dir, '--backend', 'cpu', '--port', '0', '--threads', '1', ...args],
    { encoding: 'utf8', timeout: 60000 });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.error, undefined, `the server did not exit: ${r.error}`);
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.notEqual(r.status, 0, `exit status 0:\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /listening on/);
  for (const p of parts) assert.ok(r.stderr.includes(p), `stderr lacks ${JSON.stringify(p)}:\n${r.stderr}`);
  return r.stderr;
}

// The first tensor, in name order, whose data ends past `region` bytes.
function firstPast(header, region) {
  return Object.keys(header).filter((k) => k !== '__metadata__').sort()
    .find((k) => header[k].data_offsets[1] > region);
}

describe('load-time faults', { skip: !SERVER_BIN || !DEMO ? 'AX_SERVER_BIN / AX_DEMO_MODEL unset' : false }, () => {
  it('a truncated weight file names the file, the tensor past its end and the sizes', () => {
    const m = readModel();
    const keep = 8 + m.hlen + Math.floor(m.data.length * 0.6);
    const { dir, file } = brokenModel(m.buf.subarray(0, keep));
    const region = keep - 8 - m.hlen;
    const cut = firstPast(m.header, region);  // the header's tensors are checked in name order
    const [b, e] = m.header[cut].data_offsets;
    expectLoadFailure(dir, [file, `tensor '${cut}'`, `[${b}, ${e}]`, `past the data region (${region} bytes)`]);
  });

  it('a corrupted header (bytes overwritten, length field) names the file and what is wrong', () => {
    const m = readModel();
    const garbled = Buffer.from(m.buf);
    garbled.fill(0x7b, 8 + Math.floor(m.hlen / 2), 8 + Math.floor(m.hlen / 2) + 16);  // '{' x 16 mid-header
    let broken = brokenModel(garbled);
    expectLoadFailure(broken.dir, [broken.file, 'invalid JSON']);
    broken = brokenModel(image(m.header, m.data, { hlenOverride: m.buf.length * 4 }));
    expectLoadFailure(broken.dir, [broken.file, `header length ${m.buf.length * 4} exceeds file size ${m.buf.length}`]);
  });

  it('a tensor of the wrong dtype or shape names the tensor, its dtype or shape, and the file', () => {
    const m = readModel();
    const name = 'model.layers.3.mlp.up_proj.weight';
    assert.equal(m.header[name].dtype, 'BF16');
    const wrongDtype = structuredClone(m.header);
    wrongDtype[name].dtype = 'I16';  // same size: the offsets still hold
    let broken = brokenModel(image(wrongDtype, m.data));
    expectLoadFailure(broken.dir, [broken.file, `tensor '${name}'`, 'dtype I16 is not supported']);
    const wrongShape = structuredClone(m.header);
    const [r, c] = m.header[name].shape;
    wrongShape[name].shape = [c, r];
    broken = brokenModel(image(wrongShape, m.data));
    expectLoadFailure(broken.dir, [name, `shape [${c}, ${r}], expected [${r}, ${c}]`, broken.file]);
  });

  it('weights larger than memory fail before allocating, naming the tensor and the sizes', () => {
    // embed_tokens declared [2^30, hidden] in BF16 (768 GiB at hidden 384) in a sparse file.
    const m = readModel();
    const header = structuredClone(m.header);
    const emb = 'model.embed_tokens.weight';
    const hidden = header[emb].shape[1];
    const vocab = 2 ** 30;
    const start = m.data.length;
    const bytes = vocab * hidden * 2;
    header[emb] = { dtype: 'BF16', shape: [vocab, hidden], data_offsets: [start, start + bytes] };
    const img = image(header, m.data);
    const broken = brokenModel((file) => {
      fs.writeFileSync(file, img);
      fs.truncateSync(file, img.length + bytes);
    }, (c) => ({ ...c, vocab_size: vocab }));
    const err = expectLoadFailure(broken.dir, [emb, 'GiB', 'available']);
    assert.match(err, /768\.00 GiB/);
  });

  it('a KV cache larger than memory fails with its size and what is available', () => {
    // 64 TiB: its 2^30 blocks once aborted the server (std::bad_alloc building the block
    // pool). Twice this machine's memory: each layer's buffers fit what is free, the sum
    // does not (it once started, to be OOM-killed as the blocks filled).
    for (const mb of [64 * 1024 * 1024, Math.ceil((2 * os.totalmem()) / 2 ** 20)]) {
      const { dir } = brokenModel(fs.readFileSync(path.join(DEMO, 'model.safetensors')));
      expectLoadFailure(dir, ['KV cache of', 'blocks x 16 tokens', 'GiB', 'available when loading began'],
        ['--kv-cache-mb', String(mb)]);
    }
  });
});
