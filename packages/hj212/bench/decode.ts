/**
 * Throughput of the codec on one core: split + decode of a realistic stream (the standard's hourly
 * packet and a 1025-byte field capture), and encode of a 9014 reply; the Appendix A CRC table-driven
 * against the bitwise loop of the standard (the baseline, same run). Prints numbers; asserts nothing.
 * Run: flock /tmp/offsite-bench.lock node --conditions=offsite-source --import tsx packages/hj212/bench/decode.ts
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { dataAck, decodePacket, encodePacket, FrameSplitter, hj212Crc } from '@offsite/hj212';

const read = (name: string): string[] =>
  readFileSync(fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('##'));
const samples = [read('standard-examples.txt')[1]!, read('field-captures.txt')[4]!].map((l) =>
  Buffer.from(`${l}\r\n`),
);
const n = 50_000;
const stream = Buffer.concat(Array.from({ length: n }, (_, i) => samples[i % 2]!));

let t = process.hrtime.bigint();
const splitter = new FrameSplitter();
let values = 0;
for (let pos = 0; pos < stream.length; pos += 1460) {
  for (const e of splitter.push(stream.subarray(pos, pos + 1460))) {
    if (e.kind !== 'frame') throw new Error(e.error.code);
    const r = decodePacket(e.frame);
    if (!r.ok) throw new Error(r.error.code);
    values += r.packet.values.length;
  }
}
let s = Number(process.hrtime.bigint() - t) / 1e9;
console.log(
  `split+decode: ${n} packets (${(stream.length / 1e6).toFixed(1)} MB, ${values} values) in ${s.toFixed(2)} s = ${Math.round(n / s)} packets/s, ${Math.round(values / s)} values/s`,
);

const first = decodePacket(samples[0]!);
if (!first.ok) throw new Error('sample');
t = process.hrtime.bigint();
for (let i = 0; i < n; i++) encodePacket(dataAck(first.packet));
s = Number(process.hrtime.bigint() - t) / 1e9;
console.log(`encode 9014: ${Math.round(n / s)} replies/s`);

/** The standard's bitwise loop (what hj212Crc was before the table): the baseline. */
function bitwiseCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc = (crc >> 8) ^ byte;
    for (let i = 0; i < 8; i++) {
      const lsb = crc & 1;
      crc >>= 1;
      if (lsb) crc ^= 0xa001;
    }
  }
  return crc;
}
const segments = samples.map((b) => b.subarray(6, b.length - 6));
const crcRate = (f: (b: Uint8Array) => number): number => {
  let x = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) x ^= f(segments[i % 2]!);
  if (x === -1) console.log(x);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
};
crcRate(bitwiseCrc);
crcRate(hj212Crc); // warm both
const bit = crcRate(bitwiseCrc);
const table = crcRate(hj212Crc);
console.log(
  `CRC of the same segments: table ${Math.round(table)}/s, bitwise (baseline) ${Math.round(bit)}/s, ratio ${(table / bit).toFixed(1)}x`,
);
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
