import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TelemetryDlqV1, TelemetryV1 } from '@offsite/contracts';
import { createBatchConsumer, createKafkaClient, ensureTopics, type BatchConsumer } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import {
  hj212HourlyUpload,
  requireEnv,
  runService,
  silentLogger,
  until,
  type ServiceProcess,
} from '@offsite/testing';
import mqtt from 'mqtt';
import pg from 'pg';
import { writeMosquittoAuth } from './acl.js';

/** The service's package directory (runService starts `src/main.ts` there). */
const serviceDir = new URL('..', import.meta.url);

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const pgUrl = requireEnv('OFFSITE_PG_URL');
const mqttUrl = requireEnv('OFFSITE_MQTT_URL');
const svcUser = requireEnv('OFFSITE_MQTT_USERNAME');
const svcPassword = requireEnv('OFFSITE_MQTT_PASSWORD');
const run = randomUUID().slice(0, 8);
const schema = `test_${randomBytes(6).toString('hex')}`;
const telTopic = `test.mqtt.tel.${run}`;
const dlqTopic = `test.mqtt.dlq.${run}`;
const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'mqtt-int', logger: silentLogger });
const children: ServiceProcess[] = [];
const consumers: BatchConsumer[] = [];
let pool: pg.Pool;

async function collect(topics: string[]): Promise<Map<string, unknown[]>> {
  const got = new Map<string, unknown[]>(topics.map((t) => [t, []]));
  const c = createBatchConsumer({
    kafka,
    groupId: `collect-${randomUUID()}`,
    topics,
    logger: silentLogger,
    handle: async (b) =>
      void got.get(b.topic)!.push(...b.messages.map((m) => JSON.parse(m.value!.toString()))),
  });
  consumers.push(c);
  await c.start();
  return got;
}

function ingestor(env: Record<string, string>): ServiceProcess {
  const s = runService(serviceDir, {
    OFFSITE_KAFKA_BROKERS: brokers,
    OFFSITE_PG_URL: pgUrl,
    OFFSITE_PG_SCHEMA: schema,
    OFFSITE_MQTT_URL: mqttUrl,
    OFFSITE_MQTT_USERNAME: svcUser,
    OFFSITE_MQTT_PASSWORD: svcPassword,
    OFFSITE_MQTT_SESSIONS: '2',
    OFFSITE_MQTT_SESSION_EXPIRY_S: '120',
    OFFSITE_TELEMETRY_TOPIC: telTopic,
    OFFSITE_DLQ_TOPIC: dlqTopic,
    OFFSITE_RETRY_INITIAL_MS: '100',
    OFFSITE_RETRY_MAX_MS: '500',
    ...env,
  });
  children.push(s);
  return s;
}

async function publisher(username: string, password: string) {
  const c = await mqtt.connectAsync(mqttUrl, {
    username,
    password,
    protocolVersion: 5,
    clientId: `pub-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
  return c;
}
const energy = (i: number) =>
  JSON.stringify({
    ts: new Date(Date.UTC(2024, 2, 1) + i * 60_000).toISOString(),
    powerKw: i,
    energyKwh: 1000 + i,
    status: 'running',
  });

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  pool = new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${schema}`, max: 2 });
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
  await ensureTopics(kafka, [
    { topic: telTopic, numPartitions: 3 },
    { topic: dlqTopic, numPartitions: 1 },
  ]);
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.kill9();
  for (const c of consumers) await c.stop().catch(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  const existing = await admin.listTopics();
  await admin.deleteTopics({ topics: existing.filter((t) => t.includes(run)) }).catch(() => undefined);
  await admin.disconnect();
  await pool.end();
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
});

describe('mqtt-ingestor as a process against the real Mosquitto, Kafka and Postgres', () => {
  it('produces every registered reading to telemetry.v1 and every bad message to the DLQ with its reason', async () => {
    const got = await collect([telTopic, dlqTopic]);
    const s = ingestor({ OFFSITE_MQTT_SHARE_GROUP: `g1-${run}`, OFFSITE_MQTT_CLIENT_ID: `ing1-${run}` });
    const ops = await s.opsUrl;
    await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, 'ready');
    const pub = await publisher(svcUser, svcPassword);
    for (let i = 0; i < 50; i++)
      await pub.publishAsync('offsite/v1/ent-0001/meters/mtr-0001-p1/energy', energy(i), { qos: 1 });
    await pub.publishAsync(
      'offsite/v1/ent-0001/hj212/99010201FG00010000000001',
      hj212HourlyUpload('99010201FG00010000000001'),
      { qos: 1 },
    );
    const bad: [string, string, string][] = [
      ['offsite/v1/ent-0001/meters/mtr-nope/energy', energy(1), 'registry.unknown-meter'],
      ['offsite/v1/ent-nope/meters/mtr-0001-p1/energy', energy(2), 'registry.unknown-enterprise'],
      ['offsite/v1/ent-0001/meters/mtr-0001-p1/energy', 'not json', 'json.invalid'],
      ['offsite/v1/ent-0001/meters/mtr-0001-p1/energy', '{"ts":"yesterday"}', 'normalize.schema-invalid'],
      ['offsite/v1/ent-0001/hj212/99010201FG00010000000001', '##9999broken', 'hj212.crc-malformed'],
    ];
    for (const [t, p] of bad) await pub.publishAsync(t, p, { qos: 1 });
    await pub.endAsync();
    // The broker is shared (a simulator may be publishing too): look only at what this test sent.
    const mine = () =>
      (got.get(telTopic) as TelemetryV1[]).filter(
        (t) => t.dataTime >= '2024-02-29T18' && t.dataTime < '2024-03-02',
      );
    const badTopics = new Set(bad.map((b) => b[0]));
    const badRaw = new Set(bad.map((b) => Buffer.from(b[1]).toString('base64')));
    const mineDlq = () =>
      (got.get(dlqTopic) as TelemetryDlqV1[]).filter(
        (d) => d.origin.transport === 'mqtt' && badTopics.has(d.origin.topic) && badRaw.has(d.raw),
      );
    await until(
      () => mine().length >= 51 && mineDlq().length >= bad.length,
      30_000,
      'telemetry and DLQ records',
    );
    await new Promise((r) => setTimeout(r, 500));
    const tel = mine();
    expect(tel).toHaveLength(51);
    const meters = tel
      .filter((t) => t.kind === 'energy')
      .sort((a, b) => a.dataTime.localeCompare(b.dataTime));
    expect(meters).toHaveLength(50);
    meters.forEach((t, i) => {
      expect(t).toMatchObject({ enterpriseId: 'ent-0001', siteId: 'mtr-0001-p1', source: 'mqtt' });
      expect(t.measurements.find((m) => m.factor === 'power_kw')?.value).toBe(i);
    });
    expect(tel.find((t) => t.kind === 'emission')).toMatchObject({ siteId: 'out-0001-g1', interval: 'hour' });
    const dlq = mineDlq();
    expect(dlq.map((d) => d.reason.code).sort()).toEqual(bad.map((b) => b[2]).sort());
    for (const d of dlq) expect(d.source).toBe('mqtt');
    expect(await s.stop()).toBe(0);
  });

  it('sends the PUBACK only after Kafka acknowledged: a kill -9 before the produce makes the broker re-deliver', async () => {
    const lateTopic = `test.mqtt.late.${run}`; // does not exist yet: the produce cannot succeed
    const env = {
      OFFSITE_MQTT_SHARE_GROUP: `g2-${run}`,
      OFFSITE_MQTT_CLIENT_ID: `ing2-${run}`,
      OFFSITE_MQTT_SESSIONS: '1',
      OFFSITE_TELEMETRY_TOPIC: lateTopic,
    };
    const first = ingestor(env);
    const ops = await first.opsUrl;
    await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, 'ready');
    const pub = await publisher(svcUser, svcPassword);
    await pub.publishAsync('offsite/v1/ent-0001/meters/mtr-0001-p1/energy', energy(777), { qos: 1 });
    await pub.endAsync();
    await until(
      () => first.logs.some((l) => l.includes('produce failed; retrying')),
      30_000,
      'the ingestor holding the message',
    );
    await first.kill9();

    await ensureTopics(kafka, [{ topic: lateTopic, numPartitions: 1 }]);
    const got = await collect([lateTopic]);
    const second = ingestor(env);
    await until(
      () => (got.get(lateTopic) as TelemetryV1[]).some((t) => t.dataTime.startsWith('2024-03-01')),
      30_000,
      'the re-delivered message in Kafka',
    );
    await new Promise((r) => setTimeout(r, 500));
    const late = (got.get(lateTopic) as TelemetryV1[]).filter((t) => t.dataTime.startsWith('2024-03-01'));
    expect(late).toHaveLength(1);
    expect(late[0]!.measurements.find((m) => m.factor === 'power_kw')?.value).toBe(777);
    expect(second.logs.some((l) => l.includes('"sessionPresent":true'))).toBe(true);
    expect(await second.stop()).toBe(0);
  });

  it('writes Mosquitto users and ACLs from the registry: an enterprise cannot publish under another enterprise', async () => {
    await writeMosquittoAuth({
      passwordFile: requireEnv('OFFSITE_MOSQUITTO_PASSWD_FILE'),
      aclFile: requireEnv('OFFSITE_MOSQUITTO_ACL_FILE'),
      credentialsFile: `${repo}.offsite/mqtt/enterprise-credentials.json`,
      serviceUsername: svcUser,
      enterpriseIds: (await pool.query<{ id: string }>('select id from enterprises')).rows.map((r) => r.id),
    });
    try {
      await promisify(execFile)('bash', [`${repo}infra/bin/offsite-infra`, 'mqtt-reload'], {
        cwd: repo,
        timeout: 20_000,
      });
    } catch {
      // Workaround, reported to infra: servers started by an older `offsite-infra up` inherited its
      // lock descriptor, so `mqtt-reload` waits forever. Do what it does: restore ownership, SIGHUP.
      for (const f of ['OFFSITE_MOSQUITTO_PASSWD_FILE', 'OFFSITE_MOSQUITTO_ACL_FILE'])
        await promisify(execFile)('chown', ['mosquitto:mosquitto', requireEnv(f)]);
      const pid = Number((await readFile(`${repo}.offsite/run/mosquitto.pid`, 'utf8')).split(/\s/)[0]);
      process.kill(pid, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
    }
    const creds = JSON.parse(
      await readFile(`${repo}.offsite/mqtt/enterprise-credentials.json`, 'utf8'),
    ) as Record<string, string>;

    const watcher = await publisher(svcUser, svcPassword);
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    // Probe topics of this run only (a simulator may publish on the shared broker).
    const own = `offsite/v1/ent-0001/meters/acl-probe-${run}/energy`;
    const foreign = `offsite/v1/ent-0002/meters/acl-probe-${run}/energy`;
    await watcher.subscribeAsync([own, foreign], { qos: 1 });

    const ent1 = await publisher('ent-0001', creds['ent-0001']!);
    let reasonCode: number | undefined;
    try {
      const r = await ent1.publishAsync(foreign, energy(1), { qos: 1 });
      reasonCode = (r as { reasonCode?: number } | undefined)?.reasonCode;
    } catch (err) {
      reasonCode = (err as { code?: number }).code;
    }
    await ent1.publishAsync(own, energy(2), { qos: 1 });
    await until(() => seen.includes(own), 10_000, 'own-prefix publish');
    await new Promise((r) => setTimeout(r, 500));
    await ent1.endAsync();
    await watcher.endAsync();
    expect(seen).not.toContain(foreign);
    expect(reasonCode).toBe(0x87);
  });
});

/** A Mosquitto of this test alone (own port and persistence dir), so it can be restarted. */
async function privateBroker() {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-mosq-'));
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 60',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) await promisify(execFile)('chown', ['-R', 'mosquitto:mosquitto', dir]);
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
    await until(
      async () => {
        try {
          const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
          await c.endAsync();
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'private Mosquitto up',
    );
  };
  const stop = async () => {
    const p = proc!;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM'); // graceful: Mosquitto saves its persistence file on the way out
    await exited;
  };
  return { url: `mqtt://127.0.0.1:${port}`, start, stop, dir };
}

describe('mqtt-ingestor across a broker restart', () => {
  it('keeps receiving after Mosquitto restarts with its persistent sessions (re-subscribes a restored session)', async () => {
    const broker = await privateBroker();
    await broker.start();
    try {
      const got = await collect([telTopic]);
      const s = ingestor({
        OFFSITE_MQTT_URL: broker.url,
        OFFSITE_MQTT_USERNAME: '',
        OFFSITE_MQTT_PASSWORD: '',
        OFFSITE_MQTT_SESSIONS: '1',
        OFFSITE_MQTT_SHARE_GROUP: `g3-${run}`,
        OFFSITE_MQTT_CLIENT_ID: `ing3-${run}`,
      });
      const ops = await s.opsUrl;
      await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, 'ready');
      const send = async (from: number, to: number) => {
        const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
        for (let i = from; i < to; i++)
          await pub.publishAsync('offsite/v1/ent-0001/meters/mtr-0001-p1/energy', energy(5000 + i), {
            qos: 1,
          });
        await pub.endAsync();
      };
      // Readings of this test only: minutes 5000… after 2024-03-01 (about 2024-03-04).
      const mine = () =>
        new Set(
          (got.get(telTopic) as TelemetryV1[])
            .filter((t) => t.kind === 'energy' && t.dataTime >= '2024-03-04')
            .map((t) => t.measurements.find((m) => m.factor === 'power_kw')?.value),
        );
      await send(0, 20);
      await until(() => mine().size >= 20, 30_000, 'readings before the restart');

      await broker.stop();
      await broker.start();
      await until(
        () => s.logs.filter((l) => l.includes('"sessionPresent":true')).length >= 1,
        30_000,
        'the ingestor back on its restored session',
      );
      await new Promise((r) => setTimeout(r, 500));
      await send(20, 40);
      await until(() => mine().size >= 40, 30_000, 'readings after the restart');
      expect([...mine()].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => 5000 + i));
      expect(await s.stop()).toBe(0);
    } finally {
      await broker.stop().catch(() => undefined);
      await rm(broker.dir, { recursive: true, force: true });
    }
  }, 120_000);
});
