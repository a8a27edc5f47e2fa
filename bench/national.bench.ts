// npm run bench:national — the analyzer's retained state at national scale, on one process.
// D devices (each its own enterprise and gas outlet, 20 factors: real-time every 30 s, 10-minute and hourly
// averages) × H hours of event time through @offsite/domain's engine, spread over P partitions (one engine each, as
// the analyzer holds one per assigned partition). Readings are decoded from JSON as the analyzer decodes telemetry.v1,
// so their strings are not shared. The watermark advances after every 30-s step (the analyzer: after every batch).
// Prints: heap per retained value after GC (the JS heap and array buffers' data), RSS, the checkpoints the analyzer would write (the state row and the
// gzip'd readings parts of services/analyzer/src/checkpoints.ts) as bytes per checkpoint and bytes/s, restore time
// per partition (decode the row and parts, restoreParts, the first advance that rebuilds the derived state; p50/p99
// over P × R restores), engine values per CPU second; then the line extrapolated to --fleet devices: analyzers
// needed for the memory (--heap-gb per analyzer) and for the engine's CPU.
// A script that prints numbers, not a test; no servers needed. The full 2,000 × 72 h does not fit this shared
// machine's memory on the current representation: the default is 8 devices, and the 2,000-device figures are the
// measured per-device cost × 2,000 (every cost here is per device: nothing is shared between devices).
// `--baseline REV` first runs the same measurement, in a child process, on the engine of git revision REV (its
// packages/domain extracted with `git archive` under .offsite/bench-baseline/REV) and prints both with the ratios.
// Usage: npm run bench:national -- [--devices 8] [--hours 72] [--partitions 4] [--restores 3]
//        [--fleet 20000] [--heap-gb 8] [--checkpoint-s 5] [--baseline REV]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type * as Domain from '@offsite/domain';
import type { Engine, EngineState, Reading } from '@offsite/domain';
import { fmt, gc, GAS, load, loggerRegistry, q, val } from './fleet.js';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '8' },
    hours: { type: 'string', default: '72' },
    partitions: { type: 'string', default: '4' },
    restores: { type: 'string', default: '3' },
    fleet: { type: 'string', default: '20000' },
    'heap-gb': { type: 'string', default: '8' },
    'checkpoint-s': { type: 'string', default: '5' },
    baseline: { type: 'string' },
    /** Internal: the engine module to measure (the baseline's), and print the figures as one JSON line. */
    engine: { type: 'string' },
  },
});
const DEVICES = Math.max(1, Math.min(2_000, Number(args.devices)));
const HOURS = Math.max(1, Math.min(96, Number(args.hours)));
const PARTITIONS = Math.max(1, Math.min(DEVICES, Number(args.partitions)));
const RESTORES = Math.max(1, Math.min(50, Number(args.restores)));
const FLEET = Number(args.fleet);
const HEAP_BUDGET = Number(args['heap-gb']) * 1024 ** 3;
const CHECKPOINT_S = Number(args['checkpoint-s']);
const ONE_ANALYZER = 2_000;
const ENGINE_TARGET = 200_000; // values/s per core, domain-rules.md §7

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2025-03-10T00:00:00+08:00');
/** Readings per device and hour: 120 real-time, 6 ten-minute, 1 hourly. */
const PER_HOUR = 127;

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
/** The JS heap and the array buffers' memory outside it (typed arrays' data), after GC. */
const heapAfterGc = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const peakRss = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;

/** The baseline's figures, measured first in a child process on the engine of `--baseline`. */
const baseline = args.baseline === undefined ? undefined : runBaseline(args.baseline);
const domain = (await import(
  args.engine === undefined ? '@offsite/domain' : pathToFileURL(args.engine).href
)) as typeof Domain;
const { createEngine, makeConfig, seenAt } = domain;

/** Extracts the engine of `rev` and runs this bench on it with the same arguments; its figures. */
function runBaseline(rev: string): Figures {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = resolve('.offsite/bench-baseline', sha);
  if (!existsSync(resolve(dir, 'packages/domain/src/index.ts'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} packages/domain | tar -x -C "${dir}"`]);
  }
  const rest = process.argv.slice(2).filter((a, i, all) => a !== '--baseline' && all[i - 1] !== '--baseline');
  const out = execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1]!,
      ...rest,
      '--engine',
      resolve(dir, 'packages/domain/src/index.ts'),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
  );
  const lines = out.trim().split('\n');
  return {
    ...(JSON.parse(lines[lines.length - 1]!) as Figures),
    label: `baseline ${rev} (${sha.slice(0, 7)})`,
  };
}

const devices = Array.from({ length: DEVICES }, (_, i) => `E${String(i + 1).padStart(5, '0')}`);
const registry = loggerRegistry(devices);
const config = makeConfig();

/** One reading as JSON text (the analyzer parses each telemetry record: no string is shared between readings). */
function readingJson(e: string, t: number, interval: Reading['interval'], stat: string, k: number): string {
  const r: Reading = {
    eventId: `${interval}-${e}-${t}`,
    enterpriseId: e,
    siteId: `OUT-${e}`,
    deviceId: `MN-${e}`,
    kind: 'emission',
    interval,
    ...(interval === 'minute' ? { periodSeconds: 600 } : {}),
    dataTime: t,
    // Every 100th real-time packet of a logger carries flag T on SO2 (out of range): deviations open and resolve.
    measurements: GAS.map((factor) => ({
      factor,
      stat,
      value: val(factor),
      unit: 'mg/m3',
      flag: interval === 'realtime' && k % 100 === 0 && factor === 'a21026' ? 'T' : 'N',
    })),
  };
  return JSON.stringify(r);
}

/** The readings of one 30-s step of one device (real-time; a 10-minute and an hourly average when one ends). */
function step(e: string, t: number, k: number): Reading[] {
  const out = [readingJson(e, t, 'realtime', 'Rtd', k)];
  if ((t - T0) % (10 * MIN) === 10 * MIN - 30_000)
    out.push(readingJson(e, t - 10 * MIN + 30_000, 'minute', 'Avg', k));
  if ((t - T0) % HOUR === HOUR - 30_000) out.push(readingJson(e, t - HOUR + 30_000, 'hour', 'Avg', k));
  return out.map((s) => JSON.parse(s) as Reading);
}

// What services/analyzer/src/checkpoints.ts writes: the state row as JSON text, each readings part gzip'd JSON, in the
// domain's compact checkpoint format (checkpoint-format.ts) when the measured engine has it (the plain JSON before).
const format = {
  encodeStateRow: domain.encodeStateRow ?? ((s: EngineState) => s),
  decodeStateRow: domain.decodeStateRow ?? ((s: EngineState) => s),
  encodePart: domain.encodePart ?? ((r: readonly Reading[]) => r),
  decodePart: domain.decodePart ?? ((r: Reading[]) => r),
} as {
  encodeStateRow: (s: EngineState) => unknown;
  decodeStateRow: (row: never) => EngineState;
  encodePart: (r: readonly Reading[]) => unknown;
  decodePart: (part: never) => Reading[];
};
const encodeState = (s: EngineState) => JSON.stringify(format.encodeStateRow(s));
const encodePart = (readings: readonly Reading[]) =>
  gzipSync(JSON.stringify(format.encodePart(readings)), { level: 1 });
const decodePart = (b: Buffer) => format.decodePart(JSON.parse(gunzipSync(b).toString('utf8')) as never);

interface Partition {
  devices: string[];
  engine: Engine;
  maxSeen: number;
  parts: { newest: number; bytes: Buffer }[];
  stateJson: string;
}

/** One checkpoint of the partition; the state row is kept only for the restores at the end (not in the heap figure). */
function checkpoint(
  p: Partition,
  keepRow: boolean,
): { stateBytes: number; partBytes: number; readings: number; keepFrom: number } {
  const cp = p.engine.checkpoint();
  const stateJson = encodeState(cp.state);
  const kept = cp.full ? [] : p.parts.filter((x) => x.newest >= cp.keepFrom);
  let partBytes = 0;
  if (cp.readings.length > 0) {
    const bytes = encodePart(cp.readings);
    partBytes = bytes.length;
    kept.push({ newest: Math.max(...cp.readings.map((r) => r.dataTime)), bytes });
  }
  p.parts = kept;
  if (keepRow) p.stateJson = stateJson;
  return { stateBytes: stateJson.length, partBytes, readings: cp.readings.length, keepFrom: cp.keepFrom };
}

const partitions: Partition[] = Array.from({ length: PARTITIONS }, (_, i) => ({
  devices: devices.filter((_, j) => j % PARTITIONS === i),
  engine: createEngine(config, registry),
  maxSeen: -Infinity,
  parts: [],
  stateJson: '',
}));

const heap0 = heapAfterGc();
let ingested = 0;
let values = 0;
let outputs = 0;
let engineCpu = 0;
let partBytesTotal = 0;
let partReadings = 0;
const end = T0 + HOURS * HOUR;
for (let t = T0, k = 0; t < end; t += 30_000, k++) {
  for (const p of partitions) {
    const batch = p.devices.flatMap((e, i) => step(e, t, k + i));
    const c0 = process.cpuUsage();
    for (const r of batch) {
      outputs += p.engine.ingest(r).length;
      p.maxSeen = Math.max(p.maxSeen, seenAt(r, config));
    }
    outputs += p.engine.advance(p.maxSeen).length;
    const c = process.cpuUsage(c0);
    engineCpu += (c.user + c.system) / 1e6;
    ingested += batch.length;
    values += batch.length * GAS.length;
    // A checkpoint every simulated hour (the parts' bytes per reading do not depend on how often).
    if ((t - T0) % HOUR === HOUR - 30_000) {
      const c1 = checkpoint(p, false);
      partBytesTotal += c1.partBytes;
      partReadings += c1.readings;
    }
  }
}
const heap = heapAfterGc() - heap0;
const rss = process.memoryUsage().rss;
// Retained: readings at or after the final lateness horizon (the local day of the watermark less 48 h).
// The last checkpoint: the state row at full retention, the row the restores start from.
const finals = partitions.map((p) => checkpoint(p, true));
const stateBytes = finals.reduce((n, c) => n + c.stateBytes, 0);
const keepFrom = finals[0]!.keepFrom;
let retainedReadings = 0;
for (let t = T0; t < end; t += 30_000) {
  if (t >= keepFrom) retainedReadings += DEVICES;
  if ((t - T0) % (10 * MIN) === 10 * MIN - 30_000 && t - 10 * MIN + 30_000 >= keepFrom)
    retainedReadings += DEVICES;
  if ((t - T0) % HOUR === HOUR - 30_000 && t - HOUR + 30_000 >= keepFrom) retainedReadings += DEVICES;
}
const retainedValues = retainedReadings * GAS.length;
const perValue = heap / retainedValues;
const perDevice = heap / DEVICES;

// Restore every partition R times from its checkpoint (row + parts), as after a rebalance.
const restoreMs: number[] = [];
let restoredWatermark = 0;
for (let r = 0; r < RESTORES; r++) {
  for (const p of partitions) {
    const t0 = performance.now();
    const state = format.decodeStateRow(JSON.parse(p.stateJson) as never);
    const readings = p.parts.flatMap((x) => decodePart(x.bytes));
    const engine = createEngine(config, registry);
    engine.restoreParts(state, readings, { durable: true });
    engine.advance((engine.watermark ?? 0) + 1); // rebuilds every enterprise's derived state
    restoreMs.push(performance.now() - t0);
    restoredWatermark = engine.watermark ?? 0;
  }
}
void restoredWatermark;
restoreMs.sort((a, b) => a - b);
const partBytesOnDisk = partitions.reduce((n, p) => n + p.parts.reduce((m, x) => m + x.bytes.length, 0), 0);

// National rate: readings per device and second; the state row is rewritten at every checkpoint.
const readingsPerDeviceS = PER_HOUR / 3600;
const partPerReading = partBytesTotal / Math.max(1, partReadings);
const stateRowPerDevice = stateBytes / DEVICES;
const analyzerCpBytesPerS = (devs: number) =>
  (stateRowPerDevice * devs) / CHECKPOINT_S + partPerReading * readingsPerDeviceS * devs;
const valuesPerCpuS = values / engineCpu;
const byMemory = Math.ceil((FLEET * perDevice) / HEAP_BUDGET);
const byCpu = Math.ceil((FLEET * readingsPerDeviceS * GAS.length) / valuesPerCpuS);
const analyzers = Math.max(byMemory, byCpu);

const figures: Figures = {
  label: args.engine === undefined ? 'this tree' : 'baseline',
  load: load(),
  ingested,
  values,
  outputs,
  engineCpu,
  valuesPerCpuS,
  heap,
  rss,
  peakRss: peakRss(),
  retainedReadings,
  perValue,
  perDevice,
  stateRowPerDevice,
  partPerReading,
  partBytesOnDisk,
  restoreP50: q(restoreMs, 0.5),
  restoreP99: q(restoreMs, 0.99),
  cpPerS2000: analyzerCpBytesPerS(ONE_ANALYZER),
  cpPerSFleet: analyzerCpBytesPerS(FLEET),
  byMemory,
  byCpu,
  analyzers,
};
if (args.engine !== undefined) {
  console.log(JSON.stringify(figures));
  process.exit(0);
}

interface Figures {
  label: string;
  load: string;
  ingested: number;
  values: number;
  outputs: number;
  engineCpu: number;
  valuesPerCpuS: number;
  heap: number;
  rss: number;
  peakRss: number;
  retainedReadings: number;
  perValue: number;
  perDevice: number;
  stateRowPerDevice: number;
  partPerReading: number;
  partBytesOnDisk: number;
  restoreP50: number;
  restoreP99: number;
  cpPerS2000: number;
  cpPerSFleet: number;
  byMemory: number;
  byCpu: number;
  analyzers: number;
}

function report(f: Figures): void {
  const perDevice = (ms: number) => ms / (DEVICES / PARTITIONS);
  console.log(`${f.label} (${f.load} when it ended):`);
  console.log(
    `  engine: ${fmt(f.ingested)} readings, ${fmt(f.values)} values in ${f.engineCpu.toFixed(1)} CPU s = ${fmt(f.valuesPerCpuS)} values per CPU s (${(f.valuesPerCpuS / ENGINE_TARGET).toFixed(2)}× the ${fmt(ENGINE_TARGET)} target); ${fmt(f.outputs)} outputs`,
  );
  console.log(
    `  memory: heap +${mib(f.heap)} after GC for ${fmt(f.retainedReadings)} retained readings = ${fmt(f.heap / f.retainedReadings)} B per reading, ${f.perValue.toFixed(1)} B per value (goal ≤ 16), ${mib(f.perDevice)} per device; RSS ${mib(f.rss)} (peak ${mib(f.peakRss)})`,
  );
  console.log(
    `  checkpoint: state row ${fmt(f.stateRowPerDevice / 1024)} kB per device (rewritten each checkpoint), parts ${f.partPerReading.toFixed(0)} B per reading gzip'd (${mib(f.partBytesOnDisk)} kept for ${DEVICES} devices)`,
  );
  console.log(
    `  restore per partition (${fmt(DEVICES / PARTITIONS)} devices, ${PARTITIONS} × ${RESTORES}): p50 ${f.restoreP50.toFixed(0)} ms, p99 ${f.restoreP99.toFixed(0)} ms = ${perDevice(f.restoreP50).toFixed(1)} ms per device`,
  );
  console.log(
    `  ${fmt(ONE_ANALYZER)} devices on one analyzer (× ${(ONE_ANALYZER / DEVICES).toFixed(0)} of the measured per-device cost): heap ${gib(f.perDevice * ONE_ANALYZER)}, checkpoints every ${CHECKPOINT_S} s ${mib(f.cpPerS2000)}/s, restore of one of ${PARTITIONS} partitions ~${fmt(perDevice(f.restoreP50) * (ONE_ANALYZER / PARTITIONS))} ms`,
  );
  console.log(
    `  ${fmt(FLEET)} devices (${fmt(FLEET * readingsPerDeviceS * GAS.length)} values/s): heap ${gib(f.perDevice * FLEET)}; N = ${f.analyzers} analyzers (memory at ${gib(HEAP_BUDGET)} heap each: ${f.byMemory}; engine CPU: ${f.byCpu}); checkpoints ${mib(f.cpPerSFleet)}/s over the fleet`,
  );
}

console.log(
  `national bench: ${DEVICES} devices × ${HOURS} h (${PER_HOUR} readings/h: real-time 30 s, 10-min, hourly; ${GAS.length} values each) over ${PARTITIONS} partitions; ${cpus().length} cores`,
);
if (baseline) report(baseline);
report(figures);
if (baseline) {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(
    `this tree ÷ baseline: heap per value ${ratio(figures.perValue, baseline.perValue)}, RSS ${ratio(figures.rss, baseline.rss)}, state row ${ratio(figures.stateRowPerDevice, baseline.stateRowPerDevice)}, parts per reading ${ratio(figures.partPerReading, baseline.partPerReading)}, restore p50 ${ratio(figures.restoreP50, baseline.restoreP50)}, p99 ${ratio(figures.restoreP99, baseline.restoreP99)}, values per CPU s ${ratio(figures.valuesPerCpuS, baseline.valuesPerCpuS)}; analyzers for ${fmt(FLEET)} devices ${baseline.analyzers} → ${figures.analyzers}`,
  );
}
