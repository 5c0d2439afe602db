// Reads and writes F32 safetensors files (the e2e tests' synthetic models).
'use strict';
const fs = require('fs');

// → { metadata, names: [...] in file order, tensors: { name: { shape, data: Float32Array } } }
function readF32(file) {
  const buf = fs.readFileSync(file);
  const hlen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
  const data = buf.subarray(8 + hlen);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const tensors = {};
  for (const name of names) {
    const t = header[name];
    if (t.dtype !== 'F32') throw new Error(`${file}: ${name}: expected F32, got ${t.dtype}`);
    const bytes = data.subarray(t.data_offsets[0], t.data_offsets[1]);
    tensors[name] = { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) };
  }
  return { metadata: header.__metadata__ || { format: 'pt' }, names, tensors };
}

// tensors: { name: { shape, data: Float32Array } }, written in `names` order.
function writeF32(file, names, tensors, metadata = { format: 'pt' }) {
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const bytes = tensors[name].data.byteLength;
    header[name] = { dtype: 'F32', shape: tensors[name].shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let hjson = JSON.stringify(header);
  while ((8 + Buffer.byteLength(hjson)) % 8 !== 0) hjson += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(hjson)));
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, len);
  fs.writeSync(fd, Buffer.from(hjson));
  for (const name of names) {
    const d = tensors[name].data;
    fs.writeSync(fd, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  fs.closeSync(fd);
}

module.exports = { readF32, writeF32 };
