// The alerter as a real process on a private Redis (own port and directory, AOF with
// appendfsync everysec, like production): Redis is shut down gracefully mid-burst and started
// again on the same port and directory, later killed with SIGKILL mid-burst and started again.
// The alerter is never restarted; every (group, recipient, channel, round) must reach the SMTP
// sink exactly once and the service must be ready again by itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import {
  freePort,
  readyStatus,
  requireEnv,
  runService,
  silentLogger,
  until,
  type ServiceProcess,
  type TestSchema,
} from '@offsite/testing';
import {
  burstPolicy,
  deviation,
  expectedMessageIds,
  freshSchema,
  mails,
  topicNames,
} from '../test/int-support.js';

const serviceDir = path.resolve(import.meta.dirname, '..');
const id = randomBytes(4).toString('hex');
const domain = `r${id}.example`;
const midDomain = `redis-${id}.offsite`;
const prefix = `t-alerter-r${id}.`;
const topics = topicNames(prefix);

/** A redis-server of our own: same port and directory on every start, AOF on. */
function privateRedis(port: number, dir: string) {
  let proc: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    async start(): Promise<void> {
      proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
          '--save',
          '',
          '--maxmemory-policy',
          'noeviction',
          '--daemonize',
          'no',
        ],
        { stdio: 'ignore' },
      );
      await until(
        async () => {
          const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          try {
            await r.connect();
            // Loaded (AOF replayed) and accepting writes.
            return (await r.info('persistence')).includes('loading:0');
          } catch {
            return false;
          } finally {
            r.disconnect();
          }
        },
        20_000,
        'private redis up',
      );
    },
    /** SHUTDOWN: Redis fsyncs the AOF and exits 0. */
    async shutdown(): Promise<void> {
      const r = new Redis(url, { maxRetriesPerRequest: 0 });
      const exited = once(proc!, 'exit');
      await r.call('shutdown').catch(() => undefined); // the connection closes instead of a reply
      r.disconnect();
      await exited;
    },
    async kill9(): Promise<void> {
      const exited = once(proc!, 'exit');
      proc!.kill('SIGKILL');
      await exited;
    },
    stop(): void {
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

describe('alerter when its Redis restarts mid-burst', () => {
  const mailDir = requireEnv('OFFSITE_MAIL_DIR');
  const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
  const kafka = createKafkaClient({ brokers, clientId: `alerter-test-${id}`, logger: silentLogger });
  let db: TestSchema;
  let pool: pg.Pool;
  let dir: string;
  let redis: ReturnType<typeof privateRedis>;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alerter-redis-'));
    redis = privateRedis(await freePort(), path.join(dir, 'redis'));
    await mkdir(path.join(dir, 'redis'));
    db = await freshSchema(domain);
    pool = db.pool;
    await ensureTopics(kafka, [
      { topic: topics.deviation, numPartitions: 3 },
      { topic: topics.notification, numPartitions: 1 },
      { topic: topics.dlq, numPartitions: 1 },
      { topic: topics.messageRequest, numPartitions: 1 },
    ]);
    await writeFile(path.join(dir, 'policy.json'), JSON.stringify(burstPolicy(2)));
  });

  afterAll(async () => {
    if (svc && svc.proc.exitCode === null) await svc.kill9();
    redis.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every mail exactly once across a graceful Redis restart and a Redis kill -9, without restarting the alerter', async () => {
    await redis.start();
    svc = runService(serviceDir, {
      OFFSITE_REDIS_URL: redis.url,
      OFFSITE_ALERTER_ACK_PORT: '0',
      OFFSITE_ALERTER_TOPIC_PREFIX: prefix,
      OFFSITE_ALERTER_GROUP_ID: `alerter-test-${id}`,
      OFFSITE_PG_SCHEMA: db.schema,
      OFFSITE_ALERTER_QUEUE_PREFIX: `t-alerter-r${id}`,
      OFFSITE_ALERTER_EMAIL_TRANSPORT: 'smtp',
      OFFSITE_ALERTER_MESSAGE_ID_DOMAIN: midDomain,
      OFFSITE_ALERTER_OUTBOX_DIR: path.join(dir, 'outbox'),
      OFFSITE_ALERTER_ACK_SECRET: 'redis-restart-test-secret',
      OFFSITE_ALERTER_POLICY_FILE: path.join(dir, 'policy.json'),
      // A slow provider, so that both Redis outages land in the middle of the sends.
      OFFSITE_ALERTER_RATE_LIMITS: 'smtp=6/1000',
      OFFSITE_ALERTER_SEND_BACKOFF_MS: '200',
      OFFSITE_ALERTER_JOB_LOCK_MS: '3000',
      OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    const opsUrl = await svc.opsUrl;
    await until(async () => (await readyStatus(opsUrl)) === 200, 60_000, 'alerter ready');

    const enterprises = (await pool.query<{ id: string }>(`select id from enterprises order by id`)).rows.map(
      (r) => r.id,
    );
    const events = enterprises.flatMap((e) => [deviation(id, e, 0), deviation(id, e, 1)]);
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    const produce = (evs: typeof events) =>
      producer.send(
        topics.deviation,
        evs.map((e) => ({ key: e.enterpriseId, value: JSON.stringify(e) })),
      );
    const count = async () => (await mails(mailDir, midDomain)).length;
    const half = Math.floor(events.length / 2);
    await produce(events.slice(0, half));

    // 1. Graceful: SHUTDOWN (AOF fsynced) while sends are going, 2 s down, same port and directory.
    await until(async () => (await count()) >= 3, 60_000, 'first mails');
    await redis.shutdown();
    const atShutdown = await count();
    await produce(events.slice(half)); // intake goes on while Redis is down (enqueues wait)
    await new Promise((r) => setTimeout(r, 2000));
    await redis.start();

    // 2. Crash: SIGKILL mid-burst (acknowledged writes are in the OS page cache; see README).
    await until(async () => (await count()) >= atShutdown + 6, 60_000, 'sends resumed after the restart');
    await redis.kill9();
    const atKill = await count();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();

    await until(
      async () =>
        (await pool.query(`select 1 from alert_cases where group_key is null and suppressed_reason is null`))
          .rowCount === 0 &&
        (await pool.query(`select count(*)::int as n from alert_cases`)).rows[0].n === events.length,
      60_000,
      'all cases planned',
    );
    const expected = await expectedMessageIds(pool, midDomain, 2);
    expect(expected.size).toBeGreaterThanOrEqual(2 * enterprises.length - 4);
    expect(atShutdown).toBeLessThan(expected.size); // the outages landed mid-burst
    expect(atKill).toBeLessThan(expected.size);
    await until(
      async () => {
        const got = new Set((await mails(mailDir, midDomain)).map((m) => m.messageId));
        const sent = await pool.query(`select 1 from alert_notifications where status = 'sent'`);
        return [...expected].every((e) => got.has(e)) && sent.rowCount === expected.size;
      },
      120_000,
      'every expected mail, recorded as sent',
    );
    await new Promise((r) => setTimeout(r, 2500)); // room for a duplicate to show up
    const counts = new Map<string, number>();
    for (const m of await mails(mailDir, midDomain))
      counts.set(m.messageId!, (counts.get(m.messageId!) ?? 0) + 1);
    process.stdout.write(
      `redis restarts: ${atShutdown}/${expected.size} mails at SHUTDOWN, ${atKill} at kill -9, ` +
        `${[...counts.values()].filter((n) => n > 1).length} duplicates\n`,
    );
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(counts.keys())).toEqual(expected);

    // Recovered by itself: the same process, ready, and its queues drained.
    expect(svc.proc.exitCode).toBeNull();
    await until(async () => (await readyStatus(opsUrl)) === 200, 30_000, 'ready after the restarts');
    const r = new Redis(redis.url, { maxRetriesPerRequest: null });
    const waiting = await r.llen(`t-alerter-r${id}:send-smtp:wait`);
    r.disconnect();
    expect(waiting).toBe(0);
    await producer.disconnect();
    expect(await svc.stop()).toBe(0);
  }, 300_000);
});
