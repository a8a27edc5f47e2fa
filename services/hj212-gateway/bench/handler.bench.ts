/**
 * Benchmark (not a test): the gateway's per-packet CPU work without sockets or Kafka — frame split,
 * `handleFrame` (header peek, registry lookup from the cache, decode, auth, normalise, validate,
 * build the 9014) and the JSON of every record — on one core. CPU time is what this measures, so
 * it stays meaningful on a shared machine where wall-clock latency does not.
 *
 *   flock /tmp/offsite-bench.lock node --conditions=offsite-source --import tsx services/hj212-gateway/bench/handler.bench.ts [--packets 100000] [--values 20]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { decodePacket, encodePacket, FrameSplitter, SplitPacketReassembler } from '@offsite/hj212';
import { createDeviceDirectory } from '../src/device-directory.js';
import { handleFrame, topicsWithPrefix, type HandlerContext } from '../src/packet-handler.js';

const { values: args } = parseArgs({
  options: { packets: { type: 'string', default: '100000' }, values: { type: 'string', default: '20' } },
});
const N = Number(args.packets);
const VALUES = Number(args.values);
const MN = '99010201FG00010000000001';
const PW = 'Hd7q2Lx9';

const directory = createDeviceDirectory({
  ttlMs: 3_600_000,
  find: async (mn) => ({
    mn,
    enterpriseId: 'ent-bench',
    outletId: 'outlet-bench',
    password: PW,
    sm4Key: null,
    protocolVersion: 2017,
    minuteIntervalS: 600,
    enabled: true,
  }),
});
let seq = 0;
const ctx: HandlerContext = {
  policy: 'tolerant',
  maxSegmentBytes: 9999,
  cipherEncoding: 'hex',
  directory,
  topics: topicsWithPrefix('bench.'),
  nextId: () => `raw-bench-${(seq++).toString(36)}`,
};
const state = {
  info: { id: 'c-bench-0', remoteAddress: '127.0.0.1', remotePort: 50000, localPort: 20212 },
  reassembler: new SplitPacketReassembler({ timeoutMs: 60_000 }),
};

const frames = Array.from({ length: 1000 }, (_, k) => {
  const items = [`DataTime=202403011${k % 10}${String(k % 60).padStart(2, '0')}00`];
  for (let v = 0; v < VALUES; v++)
    items.push(`a${21000 + v}-Rtd=${(v * 7 + k) % 100}.5,a${21000 + v}-Flag=N`);
  return encodePacket({
    qn: `20240301100000${String(k % 1000).padStart(3, '0')}`,
    st: '31',
    cn: '2011',
    pw: PW,
    mn: MN,
    flag: 5,
    cp: items.join(';'),
  });
});
const stream = Buffer.concat(frames);

async function pass(count: number): Promise<{ seconds: number; bytes: number }> {
  const splitter = new FrameSplitter();
  const at = new Date().toISOString();
  const nowMs = Date.now();
  let bytes = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
  while (done < count) {
    for (let pos = 0; pos < stream.length && done < count; pos += 1460) {
      for (const ev of splitter.push(stream.subarray(pos, pos + 1460))) {
        if (ev.kind !== 'frame') throw new Error(ev.error.code);
        const h = await handleFrame(ctx, state, ev.frame, at, nowMs);
        if (h.outcome !== 'telemetry') throw new Error(`${h.outcome}: ${h.detail}`);
        for (const r of h.records) bytes += r.message.value.length;
        done++;
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (cpu.user + cpu.system) / 1e6, bytes };
}

/** Baseline, same run: decodePacket alone on the same frames (what the codec costs by itself). */
function decodeOnly(count: number): number {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++)
    if (!decodePacket(frames[i % frames.length] as Buffer).ok) throw new Error('decode');
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1e6;
}

decodeOnly(Math.min(N, 20_000));
await pass(Math.min(N, 20_000)); // warm-up (JIT, the registry cache)
const decodeSeconds = decodeOnly(N);
const heap0 = process.memoryUsage().heapUsed;
const r = await pass(N);
process.stdout.write(
  [
    `handler: ${N} packets of ${VALUES} values, ${(stream.length / frames.length).toFixed(0)} bytes each: ${((r.seconds / N) * 1e6).toFixed(1)} µs CPU/packet = ${Math.round(N / r.seconds)} packets/s on one core`,
    `  baseline decodePacket alone: ${((decodeSeconds / N) * 1e6).toFixed(1)} µs CPU/packet; the handler costs ${(r.seconds / decodeSeconds).toFixed(1)}x the decode`,
    `  records: ${((r.bytes / N) | 0).toLocaleString('en')} bytes of JSON per packet (raw in, raw out, telemetry); heap delta ${((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toFixed(0)} MiB`,
    `  load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ].join('\n') + '\n',
);
