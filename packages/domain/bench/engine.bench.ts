// Engine throughput on one core: one gas outlet (10 factors) reporting real-time every 30 s, minute data every
// 10 min and hourly data, plus a production/treatment meter pair every minute, in time order, with the watermark
// advanced to each reading's time (what the analyzer does). Not a test.
// Usage (from packages/domain): node --conditions=offsite-source --import tsx bench/engine.bench.ts [hours=48] [warmupHours=0]
// Prints readings/s (wall and per CPU second), p50/p99 latency of ingest+advance, and heap used after a GC when run with --expose-gc.
import { createEngine, makeConfig, type Reading, type RegistryView } from '../src/index.js';

const hours = Number(process.argv[2] ?? 48);
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2025-03-10T00:00:00+08:00');
const FACTORS = [
  'a21026',
  'a21002',
  'a34013',
  'a19001',
  'a00000',
  'a01011',
  'a01012',
  'a01013',
  'a01014',
  'a21005',
];

const registry: RegistryView = {
  enterprises: [{ id: 'E1' }],
  outlets: [{ id: 'OUT1', enterpriseId: 'E1', kind: 'gas', referenceO2: 9 }],
  limits: [
    { siteId: 'OUT1', factor: 'a21026', value: 35, unit: 'mg/m3', basis: 'hourly', converted: true },
    { siteId: 'OUT1', factor: 'a21002', value: 50, unit: 'mg/m3', basis: 'hourly', converted: true },
    { siteId: 'OUT1', factor: 'a34013', value: 10, unit: 'mg/m3', basis: 'hourly', converted: true },
  ],
  instrumentRanges: [{ siteId: 'OUT1', factor: 'a21026', max: 500 }],
  devices: [
    { id: 'MN1', siteId: 'OUT1', cadenceSeconds: 30 },
    { id: 'P1', siteId: 'P1', cadenceSeconds: 60 },
    { id: 'T1', siteId: 'T1', cadenceSeconds: 60 },
  ],
  meters: [
    { id: 'P1', enterpriseId: 'E1', role: 'production', ratedWindowKwh: 10 },
    { id: 'T1', enterpriseId: 'E1', role: 'treatment', servesMeterId: 'P1', ratedWindowKwh: 5 },
  ],
  maintenanceWindows: [],
};

// Deterministic pseudo-random values (xorshift), so every run measures the same input.
let seed = 12345;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return ((seed >>> 0) % 10_000) / 10_000;
}
function value(factor: string, t: number): number {
  const base: Record<string, number> = { a19001: 9, a00000: 40, a21026: 30, a21002: 40, a34013: 8 };
  // Now and then a stuck analyser (flatline) or a high hour, so deviations open and resolve.
  if (factor === 'a21026' && Math.floor(t / HOUR) % 7 === 3) return 30;
  return Number(((base[factor] ?? 20) * (0.9 + 0.25 * rnd())).toFixed(2));
}

function readings(): Reading[] {
  const out: Reading[] = [];
  let p = 0;
  let tr = 0;
  for (let t = T0; t < T0 + hours * HOUR; t += 30_000) {
    out.push({
      eventId: `rt-${t}`,
      enterpriseId: 'E1',
      siteId: 'OUT1',
      deviceId: 'MN1',
      kind: 'emission',
      interval: 'realtime',
      dataTime: t,
      measurements: FACTORS.map((f) => ({ factor: f, stat: 'Rtd', value: value(f, t), flag: 'N' })),
    });
    if (t % MIN === 0) {
      p += 3 * (0.9 + 0.2 * rnd());
      // Treatment idles one hour in five.
      tr += Math.floor(t / HOUR) % 5 === 2 ? 0.01 : 1.5 * (0.9 + 0.2 * rnd());
      for (const [id, v] of [
        ['P1', p],
        ['T1', tr],
      ] as const) {
        out.push({
          eventId: `e-${id}-${t}`,
          enterpriseId: 'E1',
          siteId: id,
          deviceId: id,
          kind: 'energy',
          interval: 'realtime',
          dataTime: t,
          measurements: [{ factor: 'energy_kwh', stat: 'Cou', value: Number(v.toFixed(2)) }],
        });
      }
    }
    // Minute data (10-minute period) and hour data arrive when their interval closes.
    const end = t + 30_000;
    if (end % (10 * MIN) === 0) {
      out.push({
        eventId: `mi-${end}`,
        enterpriseId: 'E1',
        siteId: 'OUT1',
        deviceId: 'MN1',
        kind: 'emission',
        interval: 'minute',
        periodSeconds: 600,
        dataTime: end - 10 * MIN,
        measurements: FACTORS.map((f) => ({ factor: f, stat: 'Avg', value: value(f, t), flag: 'N' })),
      });
    }
    if (end % HOUR === 0) {
      out.push({
        eventId: `h-${end}`,
        enterpriseId: 'E1',
        siteId: 'OUT1',
        deviceId: 'MN1',
        kind: 'emission',
        interval: 'hour',
        periodSeconds: 3600,
        dataTime: end - HOUR,
        measurements: FACTORS.map((f) => ({ factor: f, stat: 'Avg', value: value(f, t), flag: 'N' })),
      });
    }
  }
  return out;
}

const input = readings();
const engine = createEngine(makeConfig(), registry);
const lat = new Float64Array(input.length);
let outputs = 0;
const gc = (globalThis as { gc?: () => void }).gc;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
input.forEach((r, i) => {
  const a = performance.now();
  outputs += engine.ingest(r).length;
  outputs += engine.advance(Math.max(r.dataTime, engine.watermark ?? r.dataTime)).length;
  lat[i] = performance.now() - a;
});
const elapsed = performance.now() - t0;
// CPU time of this process (user + system): less sensitive than wall time to other jobs on a shared machine.
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
gc?.();
const sorted = Array.from(lat).sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
const snapshotKb = JSON.stringify(engine.snapshot()).length / 1024;
console.log(
  JSON.stringify({
    hours,
    readings: input.length,
    outputs,
    seconds: Number((elapsed / 1000).toFixed(2)),
    readingsPerSecond: Math.round(input.length / (elapsed / 1000)),
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    readingsPerCpuSecond: Math.round(input.length / cpuSeconds),
    p50ms: Number(q(0.5).toFixed(3)),
    p99ms: Number(q(0.99).toFixed(3)),
    maxMs: Number(sorted[sorted.length - 1]!.toFixed(2)),
    heapUsedMb: Number(heapMb.toFixed(1)),
    heapAfterGc: gc !== undefined,
    snapshotKb: Math.round(snapshotKb),
  }),
);
