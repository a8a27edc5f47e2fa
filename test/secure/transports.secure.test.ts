// Secure transports against the real servers of a secure set (`OFFSITE_INFRA_SECURE=1 offsite-infra up`,
// started by scripts/secure-transports.sh): TLS everywhere with the set's own CA, passwords everywhere.
// Each client gets the CA through the project's own options (never NODE_EXTRA_CA_CERTS), so a test
// that passes shows the option works; the failing cases show that the servers refuse what they must.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { telemetryEventId, type TelemetryV1 } from '@offsite/contracts';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, flux, queryRows } from '@offsite/influx';
import { createBatchConsumer, createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import {
  kafkaSecurity,
  loadConfig,
  KafkaSecurityEnv,
  readCaFile,
  redisConnectionOptions,
} from '@offsite/runtime';
import {
  readyStatus,
  requireEnv,
  runService,
  silentLogger,
  until,
  type ServiceProcess,
} from '@offsite/testing';
import { Type } from '@sinclair/typebox';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import pg from 'pg';

const ca = readCaFile(requireEnv('OFFSITE_TLS_CA_FILE'))!;
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
const kafkaEnv = loadConfig(Type.Object({ ...KafkaSecurityEnv }), process.env);
const kafkaPassword = requireEnv('OFFSITE_KAFKA_PASSWORD');
const run = randomUUID().slice(0, 8);
const children: ServiceProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.kill9();
});

describe('Kafka: SASL/SCRAM-SHA-512 over TLS', () => {
  it('produces and consumes with the configured security; refuses a wrong password and plaintext', async () => {
    expect(kafkaEnv.OFFSITE_KAFKA_TLS).toBe(true);
    const kafka = createKafkaClient({
      brokers,
      clientId: 'secure-test',
      logger: silentLogger,
      ...kafkaSecurity(kafkaEnv),
    });
    const topic = `test.secure.${run}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    await producer.send(topic, [{ key: 'k', value: 'over SASL_SSL' }]);
    await producer.disconnect();
    const got: string[] = [];
    const consumer = createBatchConsumer({
      kafka,
      groupId: `g-${run}`,
      topics: [topic],
      logger: silentLogger,
      handle: async (b) => {
        got.push(...b.messages.map((m) => m.value!.toString()));
      },
    });
    await consumer.start();
    await until(() => got.length >= 1, 30_000, 'the message');
    await consumer.stop();
    expect(got).toEqual(['over SASL_SSL']);

    const wrong = createKafkaClient({
      brokers,
      clientId: 'secure-test-wrong',
      logger: silentLogger,
      retries: 0,
      ...kafkaSecurity({ ...kafkaEnv, OFFSITE_KAFKA_PASSWORD: 'not-the-password' }),
    });
    const admin = wrong.admin();
    await expect(admin.connect()).rejects.toThrow(/SASL.*authentication failed/i);
    const plain = createKafkaClient({
      brokers,
      clientId: 'secure-test-plain',
      logger: silentLogger,
      retries: 0,
    });
    const plainAdmin = plain.admin();
    await expect(plainAdmin.connect()).rejects.toThrow();
  });
});

describe('Postgres: sslmode=verify-full', () => {
  const url = requireEnv('OFFSITE_PG_URL');

  it('connects over TLS with the certificate verified; no TLS and an unknown CA are refused', async () => {
    expect(new URL(url).searchParams.get('sslmode')).toBe('verify-full');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>(
      'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    );
    await client.end();
    expect(rows).toEqual([{ ssl: true }]);

    const noTls = new pg.Client({ connectionString: url.replace(/\?.*$/, '?sslmode=disable') });
    await expect(noTls.connect()).rejects.toThrow(/no pg_hba.conf entry.*no encryption/);
    const systemCas = new pg.Client({
      connectionString: url.replace(/sslrootcert=[^&]*/, 'sslrootcert=/etc/ssl/certs/ca-certificates.crt'),
    });
    await expect(systemCas.connect()).rejects.toThrow(/certificate/);
  });
});

describe('Redis: AUTH over TLS (rediss://) and through Sentinel', () => {
  const tls = { ca, sentinelPassword: requireEnv('OFFSITE_REDIS_SENTINEL_PASSWORD') };

  it('BullMQ runs a job over rediss:// with AUTH; a wrong password and no TLS are refused', async () => {
    const connection = redisConnectionOptions(requireEnv('OFFSITE_REDIS_URL'), tls);
    expect(connection.tls).toEqual({ ca });
    const queue = new Queue(`secure-${run}`, { connection, prefix: 'secure-test' });
    const worker = new Worker(`secure-${run}`, async (job) => `done ${String(job.data.n)}`, {
      connection,
      prefix: 'secure-test',
    });
    const job = await queue.add('j', { n: 1 });
    await until(async () => (await job.isCompleted()) === true, 20_000, 'the job');
    expect((await queue.getJob(job.id!))?.returnvalue).toBe('done 1');
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();

    const wrong = new Redis({
      ...connection,
      password: 'not-the-password',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const wrongErrors: string[] = [];
    wrong.on('error', (e: Error) => wrongErrors.push(e.message));
    await expect(wrong.connect()).rejects.toThrow();
    expect(wrongErrors.join('\n')).toMatch(/WRONGPASS/);
    wrong.disconnect();
    const { tls: _tls, ...plain } = connection;
    const noTls = new Redis({ ...plain, lazyConnect: true, retryStrategy: () => null, connectTimeout: 3000 });
    await expect(noTls.connect().then(() => noTls.ping())).rejects.toThrow();
    noTls.disconnect();
  });

  it('finds the primary through Sentinel (TLS to both) and runs a BullMQ job there', async () => {
    const connection = redisConnectionOptions(requireEnv('OFFSITE_REDIS_SENTINEL_URL'), tls);
    expect(connection.sentinels).toHaveLength(1);
    const redis = new Redis(connection);
    expect(await redis.call('ROLE')).toEqual(expect.arrayContaining(['master']));
    await redis.quit();
    const queue = new Queue(`sentinel-${run}`, { connection, prefix: 'secure-test' });
    const worker = new Worker(`sentinel-${run}`, async () => 'via sentinel', {
      connection,
      prefix: 'secure-test',
    });
    const job = await queue.add('j', {});
    await until(async () => (await job.isCompleted()) === true, 20_000, 'the job');
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();

    const wrong = new Redis({
      ...redisConnectionOptions(requireEnv('OFFSITE_REDIS_SENTINEL_URL'), { ca, sentinelPassword: 'nope' }),
      lazyConnect: true,
      sentinelRetryStrategy: () => null,
    });
    wrong.on('error', () => undefined); // the rejection below carries the reason
    await expect(wrong.connect()).rejects.toThrow(/All sentinels are unreachable.*WRONGPASS/);
    wrong.disconnect();
  });
});

describe('InfluxDB over HTTPS', () => {
  it('writes and queries with the CA; without it the certificate is refused', async () => {
    const url = requireEnv('OFFSITE_INFLUX_URL');
    expect(url).toMatch(/^https:/);
    const conn = { url, token: requireEnv('OFFSITE_INFLUX_TOKEN'), org: '-', ca };
    const db = `secure_${run}`;
    const client = createInfluxClient({ ...conn, bucket: `${db}/autogen` }, silentLogger);
    await ensureDatabase1x(client, db);
    const writer = createInfluxWriter({ ...conn, bucket: `${db}/autogen`, logger: silentLogger });
    await writer.write([`probe,run=${run} v=1.5 1700000000`]);
    writer.close();
    const rows = await queryRows<{ _value: number }>(
      client,
      '-',
      flux`from(bucket: ${`${db}/autogen`}) |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "probe")`,
    );
    expect(rows.map((r) => r._value)).toEqual([1.5]);

    const noCa = createInfluxClient({ ...conn, ca: undefined, bucket: `${db}/autogen` }, silentLogger);
    await expect(ensureDatabase1x(noCa, db)).rejects.toThrow(/certificate/);
  });
});

describe('Mosquitto: the TLS listeners', () => {
  it('a meter publishes on the device listener over mqtts:// and the service listener delivers it; a wrong password and plaintext are refused', async () => {
    const serviceUrl = requireEnv('OFFSITE_MQTT_URL');
    const deviceUrl = requireEnv('OFFSITE_MQTT_DEVICE_URL');
    expect([serviceUrl, deviceUrl]).toEqual([
      expect.stringMatching(/^mqtts:/),
      expect.stringMatching(/^mqtts:/),
    ]);
    const auth = {
      username: requireEnv('OFFSITE_MQTT_USERNAME'),
      password: requireEnv('OFFSITE_MQTT_PASSWORD'),
    };
    const opts = { ...auth, ca, protocolVersion: 5 as const, reconnectPeriod: 0 };
    const sub = await mqtt.connectAsync(serviceUrl, opts);
    const topic = `offsite/secure-test/${run}`;
    const got = new Promise<string>((res) => sub.on('message', (_t, p) => res(p.toString())));
    await sub.subscribeAsync(topic, { qos: 1 });
    const pub = await mqtt.connectAsync(deviceUrl, opts);
    await pub.publishAsync(topic, 'over TLS', { qos: 1 });
    expect(await got).toBe('over TLS');
    await pub.endAsync();
    await sub.endAsync();

    for (const url of [serviceUrl, deviceUrl]) {
      await expect(mqtt.connectAsync(url, { ...opts, password: 'nope' })).rejects.toThrow(
        /Bad User Name or Password|Not authorized/i,
      );
      await expect(
        mqtt.connectAsync(url, { ...auth, protocolVersion: 5, reconnectPeriod: 0 }),
      ).rejects.toThrow(/certificate/);
      await expect(
        mqtt.connectAsync(url.replace('mqtts:', 'mqtt:'), {
          ...auth,
          protocolVersion: 5,
          reconnectPeriod: 0,
          connectTimeout: 3000,
        }),
      ).rejects.toThrow();
    }
  });
});

describe('a service on the secure transports (influx-writer: Kafka SASL_SSL in, InfluxDB HTTPS out)', () => {
  const serviceDir = fileURLToPath(new URL('../../services/influx-writer', import.meta.url));
  const topic = `test.secure.telemetry.${run}`;
  const db = `secure_w_${run}`;
  const secureEnv = (extra: Record<string, string> = {}) => ({
    OFFSITE_INFLUX_BUCKET: `${db}/autogen`,
    OFFSITE_INFLUX_ORG: '-',
    OFFSITE_TELEMETRY_TOPIC: topic,
    OFFSITE_DLQ_TOPIC: topic,
    OFFSITE_INFLUX_WRITER_GROUP: `secure-writer-${run}`,
    OFFSITE_BATCH_MAX_DELAY_MS: '100',
    ...extra,
  });

  it('writes a reading end to end over TLS', async () => {
    const kafka = createKafkaClient({
      brokers,
      clientId: 'secure-e2e',
      logger: silentLogger,
      ...kafkaSecurity(kafkaEnv),
    });
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
    const influx = createInfluxClient(
      {
        url: requireEnv('OFFSITE_INFLUX_URL'),
        token: requireEnv('OFFSITE_INFLUX_TOKEN'),
        org: '-',
        bucket: `${db}/autogen`,
        ca,
      },
      silentLogger,
    );
    await ensureDatabase1x(influx, db);
    const s = runService(serviceDir, secureEnv());
    children.push(s);
    const ops = await s.opsUrl;
    await until(async () => (await readyStatus(ops)) === 200, 60_000, 'the writer ready');
    const base = {
      enterpriseId: 'ent-secure',
      deviceId: 'MNSECURE',
      kind: 'emission' as const,
      interval: 'hour' as const,
      dataTime: '2024-01-01T00:00:00.000Z',
    };
    const reading: TelemetryV1 = {
      schema: 'telemetry.v1',
      eventId: telemetryEventId(base),
      ...base,
      siteId: 'DA0SEC',
      source: 'hj212',
      hj212: { st: '31', cn: '2061', version: '2017' },
      receivedAt: '2024-06-01T00:00:00Z',
      irregularities: [],
      measurements: [{ factor: 'a21026', stat: 'Avg', value: 42.5, unit: 'mg/m3', flag: 'N' }],
    };
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    await producer.send(topic, [{ key: base.enterpriseId, value: JSON.stringify(reading) }]);
    await producer.disconnect();
    const q = flux`from(bucket: ${`${db}/autogen`}) |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._field == "Avg")`;
    await until(async () => (await queryRows(influx, '-', q)).length > 0, 60_000, 'the point in InfluxDB');
    expect((await queryRows<{ _value: number }>(influx, '-', q)).map((r) => r._value)).toEqual([42.5]);
    expect(await s.stop()).toBe(0);
    expect(s.logs.join('\n')).not.toContain(kafkaPassword);
  });

  it('a wrong Kafka password: exits non-zero naming Kafka, and the password is in no log line', async () => {
    const s = runService(serviceDir, secureEnv({ OFFSITE_KAFKA_PASSWORD: 'wrong-password-0123456789' }));
    children.push(s);
    const code = await s.exited;
    const out = s.logs.join('\n');
    expect(code).not.toBe(0);
    expect(out).toMatch(/kafka/i);
    expect(out).toMatch(/SASL.*authentication failed/i);
    expect(out).not.toContain('wrong-password-0123456789');
    expect(out).not.toContain(kafkaPassword);
  });

  it('a missing CA file: exits 78 naming the variable before connecting to anything', async () => {
    const s = runService(serviceDir, secureEnv({ OFFSITE_INFLUX_CA_FILE: '/nonexistent/ca.pem' }));
    children.push(s);
    expect(await s.exited).toBe(78);
    expect(s.logs.join('\n')).toContain(
      'OFFSITE_INFLUX_CA_FILE: cannot read file /nonexistent/ca.pem (ENOENT)',
    );
  });
});

describe('every service takes the secure settings of the servers it uses', () => {
  const services = fileURLToPath(new URL('../../services/', import.meta.url));
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const rules: [RegExp, RegExp, string][] = [
    [/createKafkaClient\(/, /kafkaSecurity\(env\)/, 'main.ts: createKafkaClient without kafkaSecurity(env)'],
    [/OFFSITE_KAFKA_BROKERS:/, /\.\.\.KafkaSecurityEnv/, 'config.ts: Kafka without KafkaSecurityEnv'],
    [/OFFSITE_PG_URL:/, /OFFSITE_PG_URL: PgUrl\(\)/, 'config.ts: OFFSITE_PG_URL not PgUrl()'],
    [/OFFSITE_REDIS_URL:/, /\.\.\.RedisTlsEnv/, 'config.ts: Redis without RedisTlsEnv'],
    [/OFFSITE_INFLUX_URL:/, /\.\.\.InfluxTlsEnv/, 'config.ts: InfluxDB without InfluxTlsEnv'],
    [/OFFSITE_MQTT_URL:/, /\.\.\.MqttTlsEnv/, 'config.ts: MQTT without MqttTlsEnv'],
  ];
  it('finds no service that would talk to a server without its TLS and authentication settings', () => {
    const problems: string[] = [];
    for (const name of readdirSync(services)) {
      const text = `${read(`${services}${name}/src/config.ts`)}\n${read(`${services}${name}/src/main.ts`)}`;
      for (const [uses, secured, what] of rules)
        if (uses.test(text) && !secured.test(text)) problems.push(`${name} ${what}`);
    }
    expect(problems).toEqual([]);
  });
});
