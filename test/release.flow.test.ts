// The release build as an operator deploys it: `npm run build`, one archive per service
// (`npm run release`), each unpacked on its own and installed with `npm ci` (the archive's lock file
// holds production dependencies only), then every service started with `node [its npm start flags]
// dist/main.js` against the test servers until /readyz answers 200. No tsx, TypeScript or other
// development tool is there to help. Installs and services run on Node 24, the production target
// (scripts/ensure-node24.sh), whichever Node runs the test. The timings of each stage are printed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureTopics } from '@offsite/kafka';
import { until } from '@offsite/testing';
import { loadRegistry } from '@offsite/store';
import {
  createPipeline,
  freePort,
  repoRoot,
  startService,
  type Pipeline,
  type ServiceProcess,
} from './support/pipeline.js';

const exec = promisify(execFile);
const SERVICES = [
  'hj212-gateway',
  'mqtt-ingestor',
  'kafka-ingestor',
  'influx-writer',
  'analyzer',
  'alerter',
  'console',
] as const;
const timings: Record<string, number> = {};
async function timed<T>(stage: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + (Date.now() - t0);
  }
}

/** Every file under `dir` (relative paths) outside node_modules. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...walk(dir, rel));
    } else out.push(rel);
  }
  return out;
}

const upstream = `upstream.release-${randomBytes(3).toString('hex')}.v1`;
let work: string;
let node24: string;
let pipe: Pipeline;
const running: ServiceProcess[] = [];
const unpacked = (name: string) => join(work, `offsite-${name}`);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'offsite-release-'));
  const node24Bin = (await exec('bash', ['scripts/ensure-node24.sh'], { cwd: repoRoot })).stdout.trim();
  node24 = join(node24Bin, 'node');
  await timed('build', () => exec('bash', ['scripts/build.sh'], { cwd: repoRoot, maxBuffer: 1 << 24 }));
  await timed('pack', () =>
    exec('bash', ['scripts/release/pack.sh', '--out', work, ...SERVICES, 'cli'], { cwd: repoRoot }),
  );
  const names: string[] = [...SERVICES, 'cli'];
  for (const name of names) await exec('tar', ['-xzf', join(work, `offsite-${name}.tar.gz`), '-C', work]);
  // Two installs at a time; --prefer-offline: the packages come from npm's cache, which the
  // repository's own install filled.
  await timed('npm ci', async () => {
    const queue = [...names];
    const worker = async () => {
      for (let name = queue.shift(); name; name = queue.shift()) {
        await exec('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
          cwd: unpacked(name),
          env: { PATH: `${node24Bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '' },
        });
      }
    };
    await Promise.all([worker(), worker()]);
  });
  pipe = await createPipeline(await loadRegistry({ path: join(repoRoot, 'registry/example.yaml') }));
  // A topic just created can be briefly unknown to the metadata of the next request.
  await until(
    () =>
      ensureTopics(pipe.kafka, [{ topic: upstream, numPartitions: 1 }]).then(
        () => true,
        () => false,
      ),
    30_000,
    `topic ${upstream}`,
  );
}, 900_000);

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  if (pipe) {
    const admin = pipe.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [upstream] }).catch(() => undefined);
    await admin.disconnect();
  }
  await pipe?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
  process.stdout.write(
    `release flow timings (s): ${Object.entries(timings)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`)
      .join(', ')}\n`,
  );
}, 120_000);

test('each archive holds JavaScript and production dependencies only, for Node 22 and 24', () => {
  for (const name of [...SERVICES, 'cli']) {
    const pkg = JSON.parse(readFileSync(join(unpacked(name), 'package.json'), 'utf8')) as {
      engines: unknown;
    };
    expect({ name, engines: pkg.engines }).toEqual({ name, engines: { node: '^22.12.0 || ^24.0.0' } });
    expect(readFileSync(join(unpacked(name), '.npmrc'), 'utf8')).toBe('engine-strict=true\n');
    const own = walk(unpacked(name));
    // TypeScript sources stay behind (declaration files are harmless and kept for the API).
    expect({ name, ts: own.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')) }).toEqual({
      name,
      ts: [],
    });
    const modules = readdirSync(join(unpacked(name), 'node_modules'));
    const scoped = readdirSync(join(unpacked(name), 'node_modules/@offsite'));
    const devTools = ['tsx', 'typescript', 'jest', '@swc', 'turbo', 'eslint', 'vite', 'prettier'];
    expect({ name, devTools: modules.filter((m) => devTools.includes(m)) }).toEqual({ name, devTools: [] });
    expect({ name, testing: scoped.includes('testing') }).toEqual({ name, testing: false });
  }
});

test('every service starts from its archive with plain node and becomes ready', async () => {
  const outbox = await mkdtemp(join(tmpdir(), 'offsite-release-outbox-'));
  const extra: Record<string, Record<string, string>> = {
    'hj212-gateway': { OFFSITE_HJ212_PORT: String(await freePort()) },
    'kafka-ingestor': {
      OFFSITE_UPSTREAM_TOPICS: upstream,
      OFFSITE_TELEMETRY_TOPIC: pipe.topic('telemetry.v1'),
      OFFSITE_DLQ_TOPIC: pipe.topic('telemetry.dlq.v1'),
      OFFSITE_KAFKA_INGESTOR_GROUP: `release-${pipe.id}`,
    },
    alerter: {
      OFFSITE_ALERTER_OUTBOX_DIR: outbox,
      OFFSITE_ALERTER_RECEIPT_REJECT_DIR: join(outbox, 'rejected'),
      OFFSITE_ALERTER_ACK_PORT: String(await freePort()),
      OFFSITE_ALERTER_ACK_SECRET: randomBytes(24).toString('hex'),
    },
    console: { OFFSITE_CONSOLE_PORT: String(await freePort()) },
  };
  try {
    await timed('start to ready', async () => {
      for (const name of SERVICES) {
        const dir = join(unpacked(name), 'services', name);
        running.push(
          startService(name, { ...pipe.env(name), ...(extra[name] ?? {}) }, await freePort(), {
            dir,
            node: node24,
          }),
        );
      }
      for (const s of running) await s.waitReady(120_000);
    });
    for (const s of running) {
      const res = await fetch(`http://127.0.0.1:${s.opsPort}/readyz`);
      expect({ name: s.name, status: res.status }).toEqual({ name: s.name, status: 200 });
      // The KafkaJS fast paths patch KafkaJS's CommonJS modules; from dist they must still take.
      expect({ name: s.name, fastPathsMissing: s.tail().includes('fast paths not installed') }).toEqual({
        name: s.name,
        fastPathsMissing: false,
      });
    }
    const consolePort = extra.console!.OFFSITE_CONSOLE_PORT;
    const page = await fetch(`http://127.0.0.1:${consolePort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"');
  } finally {
    await rm(outbox, { recursive: true, force: true });
  }
}, 300_000);

test('the operator CLI runs from its archive', async () => {
  const cli = join(unpacked('cli'), 'packages/cli/dist/main.js');
  const { stdout } = await exec(node24, [cli, '--help'], { env: { PATH: process.env.PATH ?? '' } });
  expect(stdout).toContain('offsite hj212 decode');
  // The services' own configuration schemas are in the archive: config check needs no service installed.
  const check = await exec(node24, [cli, 'config', 'check', 'influx-writer'], {
    env: {
      PATH: process.env.PATH ?? '',
      OFFSITE_KAFKA_BROKERS: '127.0.0.1:9092',
      OFFSITE_INFLUX_URL: 'http://127.0.0.1:8086',
      OFFSITE_INFLUX_BUCKET: 'offsite/autogen',
    },
  });
  expect(check.stdout).toContain('influx-writer: configuration valid');
});
