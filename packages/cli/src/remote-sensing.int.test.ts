// `offsite remote-sensing import` run as a process against the real servers (Postgres, Kafka, InfluxDB) with the
// example registry (ent-0008, shut down 2026-09-15 – 2026-11-16, is given a position here). The good fixture opens
// two deviations on the deviation topic, read back from Kafka: one for ent-0008 (a hotspot while it was shut down)
// and one for ent-0001's stack (a plume while the stack sent nothing: its InfluxDB database is empty); its
// low-confidence detection opens none. The same file again opens nothing. A malformed file, one with a detection
// outside OFFSITE_CITY_BOUNDS and a file that does not exist exit 1 with bilingual, field-named messages and
// store no detection (a refused file is kept as a rejection record).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviationV1 } from '@offsite/contracts';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { createTestSchema, requireEnv, silentLogger, until, type TestSchema } from '@offsite/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { runCli } from './run.test-fixtures.js';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const example = fileURLToPath(new URL('../../../registry/example.yaml', import.meta.url));
const suffix = randomBytes(4).toString('hex');
const topic = `test.cli-rs.deviation.${suffix}`;
const influxDb = `test_cli_rs_${suffix}`;
const influxUrl = requireEnv('OFFSITE_INFLUX_URL');

let db: TestSchema;
let kafka: Kafka;
let collector: Consumer;
let dir: string;
const events: DeviationV1[] = [];
let env: Record<string, string | undefined>;

/** `offsite ARGV…` as its own process, from source as `npm run offsite` runs it. */
function offsite(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=offsite-source', '--import', 'tsx', main, ...argv],
      { cwd: root, env, timeout: 90_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? -1) : 0, out: stdout, err: stderr }),
    );
  });
}

async function influxQuery(q: string): Promise<void> {
  const token = process.env.OFFSITE_INFLUX_TOKEN;
  const res = await fetch(`${influxUrl}/query?q=${encodeURIComponent(q)}`, {
    method: 'POST',
    headers: token ? { authorization: `Token ${token}` } : {},
  });
  if (!res.ok) throw new Error(`InfluxDB ${q}: ${res.status} ${await res.text()}`);
}

const rows = async (sql: string) => (await db.pool.query(sql)).rows;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-cli-rs-'));
  db = await createTestSchema({ prefix: 'test_cli_rs', max: 2 });
  env = {
    ...process.env,
    NODE_OPTIONS: '',
    OFFSITE_PG_SCHEMA: db.schema,
    OFFSITE_INFLUX_BUCKET: `${influxDb}/autogen`,
    OFFSITE_ANALYZER_DEVIATION_TOPIC: topic,
    OFFSITE_CITY_BOUNDS: '30.1,120,30.5,120.5',
  };
  expect((await runCli(['migrate'], '', env)).code).toBe(0);
  expect((await runCli(['registry', 'import', example], '', env)).code).toBe(0);
  await db.pool.query(`update enterprises set latitude = 30.2, longitude = 120.3 where id = 'ent-0008'`);
  await influxQuery(`CREATE DATABASE "${influxDb}"`);
  kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'cli-rs-int',
    logger: silentLogger,
  });
  await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
  collector = kafka.consumer({ groupId: `test-cli-rs-${suffix}` });
  await collector.connect();
  await collector.subscribe({ topics: [topic], fromBeginning: true });
  await collector.run({
    eachMessage: async ({ message }) =>
      void events.push(JSON.parse(message.value!.toString()) as DeviationV1),
  });
}, 120_000);

afterAll(async () => {
  await collector?.disconnect();
  const admin = kafka?.admin();
  if (admin) {
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  await influxQuery(`DROP DATABASE "${influxDb}"`).catch(() => undefined);
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const good = fixture('remote-sensing-good.csv');

it('imports a good file and puts its deviations, with their evidence, on the deviation topic', async () => {
  const r = await offsite(['remote-sensing', 'import', good, '--by', 'rs-officer']);
  expect(r).toMatchObject({ code: 0, err: '' });
  const line = JSON.parse(r.out.trim()) as Record<string, unknown>;
  expect(line).toMatchObject({
    file: good,
    state: 'accepted',
    again: false,
    detections: 3,
    judged: 3,
    matched: 2,
  });
  expect(line.deviations).toHaveLength(2);
  await until(() => events.length >= 2, 20_000, 'two remote-sensing deviations');
  expect(events.map((e) => e.id).sort()).toEqual([...(line.deviations as string[])].sort());
  const byEnterprise = new Map(events.map((e) => [e.enterpriseId, e]));
  expect(byEnterprise.get('ent-0008')).toMatchObject({
    rule: 'remote-sensing',
    siteId: 'ent-0008',
    state: 'opened',
    suspectedFalsification: true,
    windowStart: '2026-10-10T02:00:00.000Z',
    evidence: {
      params: {
        detection: { id: 'fy4b-001', kind: 'hotspot', confidence: 0.92, atText: '2026-10-10 10:00' },
        distanceM: 556,
        status: 'shutdown',
        reason: { kind: 'shutdown' },
        source: { file: 'remote-sensing-good.csv' },
      },
    },
  });
  expect(byEnterprise.get('ent-0001')).toMatchObject({
    rule: 'remote-sensing',
    siteId: 'out-0001-g1',
    evidence: {
      params: {
        detection: { id: 'fy4b-002', kind: 'plume' },
        distanceM: 517.2,
        reason: { kind: 'silent-outlets', outletIds: ['out-0001-g1'] },
      },
    },
  });
  expect(await rows(`select imported_by, status from analyzer_rs_files`)).toEqual([
    { imported_by: 'rs-officer', status: 'accepted' },
  ]);
}, 120_000);

it('imports the same file again without anything new', async () => {
  const r = await offsite(['remote-sensing', 'import', good]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out.trim())).toMatchObject({
    state: 'accepted',
    again: true,
    judged: 0,
    deviations: [],
  });
  // A later event would arrive after the first two: nothing else is on the topic.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect(events).toHaveLength(2);
  expect(await rows(`select count(*)::int as n from analyzer_rs_detections`)).toEqual([{ n: 3 }]);
}, 120_000);

it('refuses a malformed file whole, naming each bad row and field in English and Chinese', async () => {
  const bad = fixture('remote-sensing-malformed.csv');
  const r = await offsite(['remote-sensing', 'import', bad]);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.out.trim())).toMatchObject({ state: 'rejected' });
  expect(r.err).toContain(
    `${bad}: row 2: lat: must be a latitude of −90…90 degrees, got "95" / 纬度须在 −90…90 度之间，实际为 "95"`,
  );
  expect(r.err).toContain(`${bad}: row 2: time: must be an ISO 8601 time with offset`);
  expect(r.err).toContain(`${bad}: row 2: confidence: must be a number from 0 to 1, got "1.2" / 置信度须为`);
  // Its good first row is not stored either.
  expect(await rows(`select id from analyzer_rs_detections where id like 'bad-%'`)).toEqual([]);
}, 120_000);

it('refuses a file with a detection outside OFFSITE_CITY_BOUNDS whole', async () => {
  const far = fixture('remote-sensing-outside.geojson');
  const r = await offsite(['remote-sensing', 'import', far]);
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    `${far}: features[1]: position: position 31.2304, 121.4737 lies outside the city / 位置 31.2304, 121.4737 不在本市范围内`,
  );
  expect(await rows(`select id from analyzer_rs_detections where id like 'far-%'`)).toEqual([]);
}, 120_000);

it('imports none of the files when one of them does not exist', async () => {
  const fresh = join(dir, 'fresh.csv');
  writeFileSync(fresh, 'time,lat,lon,confidence\n2026-10-11T10:00:00+08:00,30.205,120.3,0.95\n');
  const missing = join(dir, 'missing.csv');
  const r = await offsite(['remote-sensing', 'import', fresh, missing]);
  expect(r).toMatchObject({ code: 1, out: '' });
  expect(r.err).toContain(
    `${missing}: file: cannot be read (ENOENT); nothing was imported / 文件无法读取（ENOENT），未导入任何文件`,
  );
  expect(await rows(`select file_name, status from analyzer_rs_files order by id`)).toEqual([
    { file_name: 'remote-sensing-good.csv', status: 'accepted' },
    { file_name: 'remote-sensing-malformed.csv', status: 'rejected' },
    { file_name: 'remote-sensing-outside.geojson', status: 'rejected' },
  ]);
  expect(await rows(`select count(*)::int as n from analyzer_rs_detections`)).toEqual([{ n: 3 }]);
  expect(events).toHaveLength(2);
}, 120_000);
