import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TelemetryDlqV1, TelemetryV1 } from '@offsite/contracts';
import { createBatchConsumer, createKafkaClient, ensureTopics, type BatchConsumer } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import {
  createTestSchema,
  hj212HourlyUpload,
  requireEnv,
  runService,
  silentLogger,
  until,
  type ServiceProcess,
  type TestSchema,
} from '@offsite/testing';
import mqtt from 'mqtt';
import { writeMosquittoAuth } from './acl.js';

/** The service's package directory (runService starts `src/main.ts` there). */
const serviceDir = new URL('..', import.meta.url);

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const pgUrl = requireEnv('OFFSITE_PG_URL');
const mqttUrl = requireEnv('OFFSITE_MQTT_URL');
const deviceUrl = requireEnv('OFFSITE_MQTT_DEVICE_URL');
const svcUser = requireEnv('OFFSITE_MQTT_USERNAME');
const svcPassword = requireEnv('OFFSITE_MQTT_PASSWORD');
const run = randomUUID().slice(0, 8);
const telTopic = `test.mqtt.tel.${run}`;
const dlqTopic = `test.mqtt.dlq.${run}`;
const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'mqtt-int', logger: silentLogger });
const children: ServiceProcess[] = [];
const consumers: BatchConsumer[] = [];
let db: TestSchema;

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
    OFFSITE_PG_SCHEMA: db.schema,
    OFFSITE_MQTT_URL: mqttUrl,
    OFFSITE_MQTT_USERNAME: svcUser,
    OFFSITE_MQTT_PASSWORD: svcPassword,
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
/** An enterprise's gateway on the device listener (where the broker makes the username the client id). */
async function device(username: string, password: string, clientId = `gw-${randomUUID().slice(0, 8)}`) {
  return mqtt.connectAsync(deviceUrl, {
    username,
    password,
    protocolVersion: 5,
    clientId,
    reconnectPeriod: 0,
  });
}

/** Users and ACLs of this test's registry written to the shared broker's files, then `mqtt-reload`. */
async function applyRegistryAuth(): Promise<Record<string, string>> {
  const credentialsFile = `${repo}.offsite/mqtt/enterprise-credentials.json`;
  await writeMosquittoAuth({
    passwordFile: requireEnv('OFFSITE_MOSQUITTO_PASSWD_FILE'),
    aclFile: requireEnv('OFFSITE_MOSQUITTO_ACL_FILE'),
    credentialsFile,
    serviceUsername: svcUser,
    enterpriseIds: (await db.pool.query<{ id: string }>('select id from enterprises')).rows.map((r) => r.id),
  });
  await promisify(execFile)('bash', [`${repo}infra/bin/offsite-infra`, 'mqtt-reload'], {
    cwd: repo,
    timeout: 30_000,
  });
  return JSON.parse(await readFile(credentialsFile, 'utf8')) as Record<string, string>;
}

const energy = (i: number) =>
  JSON.stringify({
    ts: new Date(Date.UTC(2024, 2, 1) + i * 60_000).toISOString(),
    powerKw: i,
    energyKwh: 1000 + i,
    status: 'running',
  });

beforeAll(async () => {
  db = await createTestSchema({ max: 2 });
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
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
  await db.drop();
});

describe('mqtt-ingestor as a process against the real Mosquitto, Kafka and Postgres', () => {
  it('produces every registered reading to telemetry.v1 and every bad message to the DLQ with its reason', async () => {
    const got = await collect([telTopic, dlqTopic]);
    const s = ingestor({ OFFSITE_MQTT_CLIENT_ID: `ing1-${run}` });
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
      OFFSITE_MQTT_CLIENT_ID: `ing2-${run}`,
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
    const creds = await applyRegistryAuth();
    const watcher = await publisher(svcUser, svcPassword);
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    // Probe topics of this run only (a simulator may publish on the shared broker).
    const own = `offsite/v1/ent-0001/meters/acl-probe-${run}/energy`;
    const foreign = `offsite/v1/ent-0002/meters/acl-probe-${run}/energy`;
    await watcher.subscribeAsync([own, foreign], { qos: 1 });

    const ent1 = await device('ent-0001', creds['ent-0001']!);
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

describe('an enterprise login attacking other tenants and the ingestor (shared Mosquitto, device listener)', () => {
  const clientId = `ing4-${run}`;
  let s: ServiceProcess;
  let creds: Record<string, string>;
  let got: Map<string, unknown[]>;
  const meterTopic = 'offsite/v1/ent-0001/meters/mtr-0001-p1/energy';
  // Each attack's readings: 40 minutes of its own day after 2024-03-10 (power_kw = minute).
  const minutes = (attack: number) => Array.from({ length: 40 }, (_, i) => (10 + attack) * 1440 + i);
  const stored = () =>
    new Set(
      (got.get(telTopic) as TelemetryV1[])
        .filter((t) => t.kind === 'energy' && t.siteId === 'mtr-0001-p1' && t.dataTime >= '2024-03-11')
        .map((t) => t.measurements.find((m) => m.factor === 'power_kw')?.value),
    );
  /** The victim gateway publishes an attack's readings (each PUBACKed); all must reach Kafka. */
  const publishAndCount = async (gateway: mqtt.MqttClient, attack: number) => {
    for (const i of minutes(attack)) await gateway.publishAsync(meterTopic, energy(i), { qos: 1 });
    // Waits for them, then compares (a lost reading shows in the comparison).
    await until(() => minutes(attack).every((i) => stored().has(i)), 30_000, 'the readings in Kafka').catch(
      () => undefined,
    );
    expect(minutes(attack).filter((i) => !stored().has(i))).toEqual([]);
  };
  const ingestorConnects = () => s.logs.filter((l) => l.includes('MQTT session connected')).length;
  const ingestorCloses = () => s.logs.filter((l) => l.includes('MQTT connection closed')).length;

  beforeAll(async () => {
    creds = await applyRegistryAuth();
    got = await collect([telTopic, dlqTopic]);
    s = ingestor({ OFFSITE_MQTT_CLIENT_ID: clientId });
    const ops = await s.opsUrl;
    await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, 'ready');
  });
  afterAll(async () => {
    if (s) expect(await s.stop()).toBe(0);
  });

  const attackerReceives = async (filters: string[], attack: number) => {
    const attacker = await device('ent-0002', creds['ent-0002']!);
    const received: string[] = [];
    attacker.on('message', (t) => received.push(t));
    await attacker.subscribeAsync(filters, { qos: 1 });
    const victim = await device('ent-0001', creds['ent-0001']!);
    await publishAndCount(victim, attack);
    await victim.endAsync();
    await attacker.endAsync();
    return received;
  };

  it('joining the share group `offsite-ingest` takes no reading from the ingestor and delivers none', async () => {
    const received = await attackerReceives(
      ['$share/offsite-ingest/offsite/v1/+/meters/+/energy', `$share/offsite-ingest/#`],
      1,
    );
    expect(received).toEqual([]);
  });

  it('subscribing to `#` takes no reading from the ingestor and delivers none', async () => {
    const received = await attackerReceives(['#', 'offsite/v1/+/meters/+/energy'], 2);
    expect(received).toEqual([]);
  });

  it("connecting with another tenant's client id does not disconnect that tenant's gateway", async () => {
    const victim = await device('ent-0001', creds['ent-0001']!, 'gateway-ent-0001');
    let victimClosed = 0;
    victim.on('close', () => victimClosed++);
    // Its requested id, and the id the broker gave it (its username).
    const a1 = await device('ent-0002', creds['ent-0002']!, 'gateway-ent-0001');
    const a2 = await device('ent-0002', creds['ent-0002']!, 'ent-0001');
    await publishAndCount(victim, 3);
    expect(victimClosed).toBe(0);
    expect(victim.connected).toBe(true);
    await Promise.all([a1.endAsync(true), a2.endAsync(true), victim.endAsync()]);
  });

  /** `send` on an MQTT 3.1.1 connection of ent-0002 (no broker limits honoured on the client's side); resolves once the broker closed it. */
  const closedByBroker = async (send: (c: mqtt.MqttClient) => void): Promise<void> => {
    const c = await mqtt.connectAsync(deviceUrl, {
      username: 'ent-0002',
      password: creds['ent-0002']!,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    send(c);
    await until(() => !c.connected, 10_000, 'the broker closing the connection');
    c.end(true);
  };

  it("a 600 KB payload from one tenant is refused by the broker and another tenant's readings keep flowing", async () => {
    const huge = Buffer.alloc(600_000, 'x');
    await closedByBroker((c) => c.publish('offsite/v1/ent-0002/meters/mtr-none/energy', huge, { qos: 1 }));
    const victim = await device('ent-0001', creds['ent-0001']!);
    await publishAndCount(victim, 5);
    await victim.endAsync();
  });

  it('a retained message is refused, so no tenant can store messages for the broker to replay', async () => {
    await closedByBroker((c) =>
      c.publish('offsite/v1/ent-0002/meters/mtr-none/status', '{"status":"online"}', {
        qos: 1,
        retain: true,
      }),
    );
  });

  it('a 60 KB payload that is no reading ends in the DLQ whole and is acknowledged', async () => {
    const attacker = await device('ent-0002', creds['ent-0002']!);
    const big = `{"junk":"${'y'.repeat(60_000)}"`;
    await attacker.publishAsync('offsite/v1/ent-0002/meters/mtr-none/energy', big, { qos: 1 });
    await attacker.endAsync();
    const dlq = () =>
      (got.get(dlqTopic) as TelemetryDlqV1[]).find(
        (d) =>
          d.origin.transport === 'mqtt' && d.origin.topic === 'offsite/v1/ent-0002/meters/mtr-none/energy',
      );
    await until(() => dlq() !== undefined, 30_000, 'the DLQ record');
    expect(dlq()).toMatchObject({ reason: { code: 'registry.unknown-meter' }, rawText: big });
    const victim = await device('ent-0001', creds['ent-0001']!);
    await publishAndCount(victim, 6);
    await victim.endAsync();
  });

  it("connecting with the ingestor's client id does not disconnect the ingestor", async () => {
    const before = { connects: ingestorConnects(), closes: ingestorCloses() };
    const attacker = await device('ent-0002', creds['ent-0002']!, clientId);
    const victim = await device('ent-0001', creds['ent-0001']!);
    await publishAndCount(victim, 4);
    expect({ connects: ingestorConnects(), closes: ingestorCloses() }).toEqual(before);
    await Promise.all([attacker.endAsync(true), victim.endAsync()]);
  });
});

/**
 * A Mosquitto of this test alone (own port and persistence dir), so it can be restarted: password
 * file and ACL written by `writeMosquittoAuth` as for the shared broker, global security settings.
 */
/** The broker `offsite-infra up` built into the servers' state directory (bin/ beside the env file). */
function mosquittoBinary(): string {
  const env = process.env.OFFSITE_ENV_FILE;
  if (!env) throw new Error('OFFSITE_ENV_FILE is not set: run through scripts/jest.sh');
  return join(dirname(env), 'bin', 'mosquitto');
}

async function privateBroker(enterpriseIds: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-mosq-'));
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  await promisify(execFile)('mosquitto_passwd', ['-c', '-b', passwordFile, svcUser, svcPassword]);
  await writeMosquittoAuth({
    passwordFile,
    aclFile,
    credentialsFile: join(dir, 'enterprise-credentials.json'),
    serviceUsername: svcUser,
    enterpriseIds,
  });
  const credentials = JSON.parse(await readFile(join(dir, 'enterprise-credentials.json'), 'utf8')) as Record<
    string,
    string
  >;
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwordFile}`,
      `acl_file ${aclFile}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 60',
      'max_packet_size 65536',
      'retain_available false',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) await promisify(execFile)('chown', ['-R', 'mosquitto:mosquitto', dir]);
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(mosquittoBinary(), ['-c', conf], { stdio: 'ignore' });
    await until(
      async () => {
        try {
          const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
            username: svcUser,
            password: svcPassword,
            reconnectPeriod: 0,
          });
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
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM'); // graceful: Mosquitto saves its persistence file on the way out
    await exited;
  };
  return { url: `mqtt://127.0.0.1:${port}`, start, stop, dir, credentials };
}

describe('mqtt-ingestor across broker restarts', () => {
  it('gets every reading meters published while Mosquitto restarted twice, each under one telemetry id', async () => {
    const meters = (
      await db.pool.query<{ enterprise_id: string; id: string }>(
        `select enterprise_id, id from meters where enterprise_id in ('ent-0001', 'ent-0002', 'ent-0003') order by id`,
      )
    ).rows;
    expect(meters.length).toBeGreaterThanOrEqual(3);
    const broker = await privateBroker([...new Set(meters.map((m) => m.enterprise_id))]);
    await broker.start();
    const publishers: mqtt.MqttClient[] = [];
    try {
      const got = await collect([telTopic]);
      const s = ingestor({
        OFFSITE_MQTT_URL: broker.url,
        OFFSITE_MQTT_CLIENT_ID: `ing3-${run}`,
        OFFSITE_MQTT_SESSION_EXPIRY_S: '300',
      });
      const ops = await s.opsUrl;
      await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, 'ready');
      // One gateway per enterprise, as the simulator's: MQTT.js, clean start, reconnecting every
      // 100 ms; a QoS 1 publish cut by the restart is sent again on the next connection.
      const gateway = new Map<string, mqtt.MqttClient>();
      for (const e of new Set(meters.map((m) => m.enterprise_id))) {
        const c = await mqtt.connectAsync(broker.url, {
          protocolVersion: 5,
          clientId: `gw-${e}-${run}`,
          username: e,
          password: broker.credentials[e],
          reconnectPeriod: 100,
        });
        publishers.push(c);
        gateway.set(e, c);
      }
      // Readings of this test only: on 2024-03-05, minute i of the day is power_kw BASE + i.
      const BASE = 4 * 1440;
      const acked = new Map<string, Set<number>>(meters.map((m) => [m.id, new Set()]));
      let next = 0;
      const publishRound = async () => {
        const i = next++;
        await Promise.all(
          meters.map(async (m) => {
            await gateway
              .get(m.enterprise_id)!
              .publishAsync(`offsite/v1/${m.enterprise_id}/meters/${m.id}/energy`, energy(BASE + i), {
                qos: 1,
              });
            acked.get(m.id)!.add(BASE + i);
          }),
        );
      };
      let publishing = true;
      const meterLoop = (async () => {
        while (publishing) {
          await publishRound();
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const restoredSessions = () => s.logs.filter((l) => l.includes('"sessionPresent":true')).length;
      await until(() => next >= 30, 30_000, 'readings before the first restart');

      // 1. Restart while meters publish and the ingestor is connected.
      await broker.stop();
      await broker.start();
      await until(() => restoredSessions() >= 1, 30_000, 'the ingestor back on its restored session');
      const afterFirst = next;
      await until(() => next >= afterFirst + 30, 30_000, 'readings after the first restart');

      // 2. Restart while the ingestor cannot reconnect yet (stopped): what meters publish after the
      // broker is back waits in the restored session.
      s.proc.kill('SIGSTOP');
      await broker.stop();
      await broker.start();
      const whileAway = next;
      await until(() => next >= whileAway + 30, 30_000, 'readings while the ingestor is away');
      s.proc.kill('SIGCONT');
      await until(() => restoredSessions() >= 2, 30_000, 'the ingestor back after the second restart');
      const afterSecond = next;
      await until(() => next >= afterSecond + 30, 30_000, 'readings after the second restart');
      publishing = false;
      await meterLoop;

      const energyOf = (t: TelemetryV1) => t.measurements.find((m) => m.factor === 'power_kw')?.value;
      const mine = () =>
        (got.get(telTopic) as TelemetryV1[]).filter(
          (t) =>
            t.kind === 'energy' &&
            t.dataTime >= '2024-03-05' &&
            t.dataTime < '2024-03-06' &&
            acked.has(t.siteId),
        );
      const sent = [...acked.values()].reduce((n, v) => n + v.size, 0);
      // Waits for them, then compares (a lost reading shows in the comparison below).
      await until(
        () => new Set(mine().map((t) => `${t.siteId}/${energyOf(t)}`)).size >= sent,
        60_000,
        'every acknowledged reading in Kafka',
      ).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      const records = mine();
      for (const m of meters) {
        const stored = new Set(records.filter((t) => t.siteId === m.id).map(energyOf));
        expect([...stored].sort((a, b) => a! - b!)).toEqual([...acked.get(m.id)!].sort((a, b) => a - b));
      }
      // A re-delivery after a produce (its PUBACK lost to the restart) repeats the record with the same
      // telemetry id, which the writer stores as one point: one id per reading.
      const ids = new Map<string, Set<string>>();
      for (const t of records) {
        const k = `${t.siteId}/${energyOf(t)}`;
        ids.set(k, (ids.get(k) ?? new Set()).add(t.eventId));
      }
      expect(ids.size).toBe(sent);
      expect([...ids.values()].every((v) => v.size === 1)).toBe(true);
      expect(restoredSessions()).toBe(2);
      expect(await s.stop()).toBe(0);
    } finally {
      for (const c of publishers) c.end(true);
      await broker.stop().catch(() => undefined);
      await rm(broker.dir, { recursive: true, force: true });
    }
  }, 180_000);
});
