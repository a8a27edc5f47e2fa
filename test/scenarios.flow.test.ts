// End to end on the shared servers: simulator (HJ 212 over TCP) → hj212-gateway → Kafka → influx-writer
// + analyzer → deviation.v1, in an isolated pipeline (own topics, Postgres schema, InfluxDB database).
// Each scripted scenario must produce its expected rule on its enterprise and site; the enterprise
// under declared maintenance must produce none inside its window; every acknowledged reading must
// be in InfluxDB.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviationV1 } from '@offsite/contracts';
import { fitToDay, generateRegistry, parseRegistryText, planRun, type Scenario } from '@offsite/simulator';
import { until } from '@offsite/testing';
import {
  createPipeline,
  freePort,
  lag,
  readAll,
  repoRoot,
  startService,
  type Pipeline,
  type ServiceProcess,
} from './support/pipeline.js';

const DAY = Date.parse('2026-11-28T00:00:00+08:00');
// 08:00–17:00 local covers every scenario window (09:00–16:00) with an hour on each side.
const START = DAY + 8 * 3_600_000;
const HOURS = 9;
const KINDS = 'exceedance,flatline,offline,maintenance';
const t0 = Date.now();
const timing = (what: string) =>
  process.stdout.write(`[flow ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}\n`);

let pipe: Pipeline;
let scenarios: Scenario[];
const services: ServiceProcess[] = [];

beforeAll(async () => {
  const template = parseRegistryText(
    await readFile(join(repoRoot, 'registry/example.yaml'), 'utf8'),
    'registry/example.yaml',
  );
  const registry = fitToDay(generateRegistry(template, { count: 12 }), DAY);
  scenarios = planRun(registry, 0, START, KINDS.split(',') as never).scenarios;
  pipe = await createPipeline(registry);
  timing(`pipeline ${pipe.prefix} ready (schema ${pipe.schema}, InfluxDB ${pipe.influxDb})`);
  const hj212Port = await freePort();
  for (const name of ['hj212-gateway', 'influx-writer', 'analyzer']) {
    const env = { ...pipe.env(name), OFFSITE_HJ212_PORT: String(hj212Port) };
    services.push(startService(name, env, await freePort()));
  }
  await Promise.all(services.map((s) => s.waitReady()));
  timing('gateway, writer and analyzer ready');

  const sim = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(repoRoot, 'services/simulator'),
    env: {
      PATH: process.env.PATH ?? '',
      OFFSITE_LOG_LEVEL: 'warn',
      OFFSITE_OPS_PORT: String(await freePort()),
      OFFSITE_SIM_REGISTRY: pipe.registryPath,
      OFFSITE_SIM_START: new Date(START).toISOString(),
      OFFSITE_SIM_HOURS: String(HOURS),
      OFFSITE_SIM_SPEED: '0',
      OFFSITE_SIM_SCENARIOS: KINDS,
      OFFSITE_SIM_NO_MQTT: 'true',
      OFFSITE_HJ212_PORT: String(hj212Port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let simOut = '';
  sim.stdout.on('data', (d: Buffer) => (simOut = (simOut + d.toString()).slice(-20_000)));
  sim.stderr.on('data', (d: Buffer) => (simOut = (simOut + d.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((r) => sim.once('exit', r));
  if (code !== 0) throw new Error(`simulator exited ${code}:\n${simOut}`);
  timing('simulator finished');
  await until(
    async () =>
      (await lag(pipe.kafka, `flow-analyzer-${pipe.id}`, pipe.topic('telemetry.v1'))) === 0 &&
      (await lag(pipe.kafka, `flow-writer-${pipe.id}`, pipe.topic('telemetry.v1'))) === 0,
    300_000,
    'analyzer and writer to catch up',
  );
  timing('analyzer and writer caught up');
}, 600_000);

afterAll(async () => {
  for (const s of services) await s.stop('SIGTERM');
  await pipe?.cleanup();
  timing('cleaned up');
}, 120_000);

const latest = (events: DeviationV1[]) => {
  const m = new Map<string, DeviationV1>();
  for (const e of events) if ((m.get(e.id)?.revision ?? 0) < e.revision) m.set(e.id, e);
  return [...m.values()];
};

test('each scenario produces its expected rule on its enterprise and site, maintenance none', async () => {
  const devs = latest(await readAll<DeviationV1>(pipe.kafka, pipe.topic('deviation.v1')));
  timing(
    `${devs.length} deviations: ${[...new Set(devs.map((d) => `${d.rule}@${d.enterpriseId}`))].sort().join(' ')}`,
  );
  expect(scenarios.map((s) => s.kind).sort()).toEqual(['exceedance', 'flatline', 'maintenance', 'offline']);
  const sites = new Map<string, string>();
  const registry = parseRegistryText(await readFile(pipe.registryPath, 'utf8'), pipe.registryPath);
  for (const e of registry.enterprises)
    for (const o of e.outlets) for (const d of o.devices) sites.set(d.mn, o.id);
  for (const s of scenarios) {
    const mine = devs.filter((d) => d.enterpriseId === s.enterpriseId);
    if (s.kind === 'maintenance') {
      const inWindow = mine.filter(
        (d) => Date.parse(d.windowStart) < s.to && Date.parse(d.windowEnd ?? d.windowStart) > s.from,
      );
      expect(inWindow).toEqual([]);
      continue;
    }
    const rules = mine.filter((d) => s.expect.includes(d.rule));
    expect({ scenario: s.kind, rules: [...new Set(rules.map((d) => d.rule))] }).toEqual({
      scenario: s.kind,
      rules: s.expect,
    });
    expect([...new Set(rules.map((d) => d.siteId))]).toEqual([sites.get(s.target)]);
    if (s.factor) expect([...new Set(rules.map((d) => d.factor))]).toEqual([s.factor]);
  }
}, 120_000);
