// The alerter as a real process: kill -9 during a burst of sends, restart, and every
// (group, recipient, channel, round) reaches the SMTP sink exactly once; the same for the messages
// other services request on message.request.v1 (the console's reminders and outreach).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { DeviationV1, MessageRequestV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import { requireEnv, silentLogger, until, type TestSchema } from '@offsite/testing';
import {
  burstPolicy,
  deviation as dev,
  expectedMessageIds,
  freshSchema,
  topicNames,
  mails as inbox,
} from '../test/int-support.js';

const serviceDir = path.resolve(import.meta.dirname, '..');
const id = randomBytes(4).toString('hex');
const domain = `k${id}.example`;
const midDomain = `mid-${id}.offsite`;
const prefix = `t-alerter-${id}.`;
const topics = topicNames(prefix);
const mails = (dir: string) => inbox(dir, midDomain);
const deviation = (enterpriseId: string, n: number, over: Partial<DeviationV1> = {}) =>
  dev(id, enterpriseId, n, over);

describe('alerter process killed with SIGKILL mid-round', () => {
  const mailDir = requireEnv('OFFSITE_MAIL_DIR');
  const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
  const redisUrl = requireEnv('OFFSITE_REDIS_URL');
  const kafka = createKafkaClient({ brokers, clientId: `alerter-test-${id}`, logger: silentLogger });
  let db: TestSchema;
  let pool: pg.Pool;
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';

  const start = () => {
    const proc = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', 'src/main.ts'], {
      cwd: serviceDir,
      env: {
        ...process.env,
        OFFSITE_LOG_LEVEL: 'warn',
        OFFSITE_OPS_PORT: '0',
        OFFSITE_ALERTER_ACK_PORT: '0',
        OFFSITE_ALERTER_TOPIC_PREFIX: prefix,
        OFFSITE_ALERTER_GROUP_ID: `alerter-test-${id}`,
        OFFSITE_PG_SCHEMA: db.schema,
        OFFSITE_ALERTER_QUEUE_PREFIX: `t-alerter-${id}`,
        OFFSITE_ALERTER_EMAIL_TRANSPORT: 'smtp',
        OFFSITE_ALERTER_MESSAGE_ID_DOMAIN: midDomain,
        OFFSITE_ALERTER_OUTBOX_DIR: path.join(dir, 'outbox'),
        OFFSITE_ALERTER_ACK_SECRET: 'kill-nine-test-secret',
        OFFSITE_ALERTER_POLICY_FILE: path.join(dir, 'policy.json'),
        // A slow provider, so that the kill lands in the middle of a round.
        OFFSITE_ALERTER_RATE_LIMITS: 'smtp=8/1000',
        OFFSITE_ALERTER_SEND_BACKOFF_MS: '200',
        // Jobs of the killed process are picked up again within seconds instead of a minute.
        OFFSITE_ALERTER_JOB_LOCK_MS: '3000',
        OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS: '6000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-20_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    child = proc;
    return proc;
  };

  /** Records in a topic (every partition, high minus low watermark). */
  const records = async (t: string): Promise<number> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(t)).reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  };
  /** SIGTERM to the running alerter; its exit code (its output printed when not 0). */
  const stopCleanly = async (): Promise<number | null> => {
    child!.kill('SIGTERM');
    const code = await new Promise<number | null>((r) =>
      child!.exitCode !== null ? r(child!.exitCode) : child!.once('exit', (c) => r(c)),
    );
    if (code !== 0) process.stderr.write(output);
    return code;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alerter-k9-'));
    db = await freshSchema(domain);
    pool = db.pool;
    await ensureTopics(kafka, [
      { topic: topics.deviation, numPartitions: 3 },
      { topic: topics.notification, numPartitions: 1 },
      { topic: topics.dlq, numPartitions: 1 },
      { topic: topics.messageRequest, numPartitions: 1 },
    ]);
    const policy = burstPolicy(2);
    await writeFile(path.join(dir, 'policy.json'), JSON.stringify(policy));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const keys = await redis.keys(`t-alerter-${id}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends every (group, recipient, channel, round) exactly once across a kill -9 and a duplicate event', async () => {
    const enterprises = (await pool.query<{ id: string }>(`select id from enterprises order by id`)).rows.map(
      (r) => r.id,
    );
    expect(enterprises.length).toBeGreaterThanOrEqual(10);
    const events = enterprises.flatMap((e) => [deviation(e, 0), deviation(e, 1)]);
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    const produce = (evs: DeviationV1[]) =>
      producer.send(
        topics.deviation,
        evs.map((e) => ({ key: e.enterpriseId, value: JSON.stringify(e) })),
      );
    start();
    await produce(events);
    await produce([events[0]!]); // the same event delivered twice
    await producer.send(topics.deviation, [{ key: 'x', value: '{"not": "a deviation"' }]);

    await until(async () => (await mails(mailDir)).length >= 3, 60_000, 'first mails');
    child!.kill('SIGKILL');
    await new Promise<void>((r) =>
      child!.exitCode !== null || child!.signalCode ? r() : child!.once('exit', () => r()),
    );
    expect(child!.signalCode).toBe('SIGKILL');

    // Expected: one message per group and environment manager with an e-mail, rounds 1 and 2.
    const groups = (
      await pool.query<{ group_key: string; enterprise_id: string }>(
        `select distinct group_key, enterprise_id from alert_cases where group_key is not null`,
      )
    ).rows;
    const atKill = (await mails(mailDir)).length;
    // In doubt: claimed (`sending`) when the process died. The provider may have accepted them
    // already; the documented residual window allows these, and only these, to be sent again,
    // with the same Message-ID.
    const inDoubt = new Set(
      (
        await pool.query<{ id: string }>(`select id from alert_notifications where status = 'sending'`)
      ).rows.map((r) => `<${r.id}@${midDomain}>`),
    );

    start();
    await produce([events[1]!]); // and once more after the restart
    // Cases handled only after the restart have their groups now.
    await until(
      async () =>
        (await pool.query(`select 1 from alert_cases where group_key is null and suppressed_reason is null`))
          .rowCount === 0 &&
        (await pool.query(`select count(*)::int as n from alert_cases`)).rows[0].n === events.length,
      60_000,
      'all cases planned',
    );
    const allGroups = (
      await pool.query<{ group_key: string; enterprise_id: string }>(
        `select distinct group_key, enterprise_id from alert_cases where group_key is not null`,
      )
    ).rows;
    expect(allGroups.length).toBeGreaterThanOrEqual(groups.length);
    const expected = await expectedMessageIds(pool, midDomain, 2);
    expect(expected.size).toBeGreaterThanOrEqual(2 * enterprises.length - 4);
    expect(atKill).toBeLessThan(expected.size); // the kill landed mid-burst

    await until(
      async () => {
        const got = new Set((await mails(mailDir)).map((m) => m.messageId));
        const sent = await pool.query(`select 1 from alert_notifications where status = 'sent'`);
        return [...expected].every((e) => got.has(e)) && sent.rowCount === expected.size;
      },
      90_000,
      'every expected mail, recorded as sent',
    );
    await new Promise((r) => setTimeout(r, 2500)); // room for a duplicate to show up
    const got = await mails(mailDir);
    const counts = new Map<string, number>();
    for (const m of got) counts.set(m.messageId!, (counts.get(m.messageId!) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1);
    // Exactly once outside the residual window; at most twice inside it.
    expect(duplicates.filter(([mid, n]) => !inDoubt.has(mid) || n > 2)).toEqual([]);
    process.stdout.write(
      `kill -9: ${atKill}/${expected.size} mails before the kill, ${inDoubt.size} in doubt, ${duplicates.length} resent with the same Message-ID\n`,
    );
    expect(new Set(counts.keys())).toEqual(expected);
    const sent = await pool.query<{ n: number }>(
      `select count(*)::int as n from alert_notifications where status = 'sent'`,
    );
    expect(sent.rows[0]!.n).toBe(expected.size);

    // notification.v1 events were published and the malformed record went to the DLQ.
    expect(await records(topics.notification)).toBeGreaterThan(0);
    expect(await records(topics.dlq)).toBe(1);
    expect(await stopCleanly()).toBe(0);
    await producer.disconnect();
  }, 240_000);

  it('delivers every requested message exactly once across a kill -9 and repeated requests', async () => {
    const request = (n: number): MessageRequestV1 => ({
      schema: 'message.request.v1',
      id: `msg-${id}-${n}`,
      kind: n % 2 === 0 ? 'complaint-reminder' : 'outreach',
      channel: 'email',
      recipient: {
        kind: n % 2 === 0 ? 'inspector' : 'enterprise-contact',
        id: `r-${n}`,
        name: '王伟',
        address: `r${n}@${domain}`,
      },
      language: 'zh',
      subject: `【信访举报】#${n} 受理时限临近`,
      text: `信访举报 #${n} 受理时限临近，请及时处理。`,
      sms: `信访举报#${n}受理时限临近。`,
      requestedAt: '2026-03-02T01:00:00.000Z',
    });
    const requests = Array.from({ length: 40 }, (_, n) => request(n));
    const mine = async () => (await mails(mailDir)).filter((m) => m.messageId?.startsWith(`<msg-${id}-`));
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    const produce = (rs: MessageRequestV1[]) =>
      producer.send(
        topics.messageRequest,
        rs.map((r) => ({ key: r.id, value: JSON.stringify(r) })),
      );
    start();
    await produce(requests);
    await produce(requests.slice(0, 5)); // the same requests again
    await producer.send(topics.messageRequest, [{ key: 'x', value: '{"schema": "message.request.v1"}' }]);

    await until(async () => (await mine()).length >= 3, 60_000, 'first requested mails');
    child!.kill('SIGKILL');
    await new Promise<void>((r) =>
      child!.exitCode !== null || child!.signalCode ? r() : child!.once('exit', () => r()),
    );
    const atKill = (await mine()).length;
    expect(atKill).toBeLessThan(requests.length); // the kill landed mid-burst
    const inDoubt = new Set(
      (
        await pool.query<{ id: string }>(
          `select id from alert_notifications where status = 'sending' and id like $1`,
          [`msg-${id}-%`],
        )
      ).rows.map((r) => `<${r.id}@${midDomain}>`),
    );

    start();
    await produce(requests.slice(30)); // and again after the restart
    const expected = new Set(requests.map((r) => `<${r.id}@${midDomain}>`));
    await until(
      async () => {
        const got = new Set((await mine()).map((m) => m.messageId));
        const sent = await pool.query(
          `select 1 from alert_notifications where status = 'sent' and id like $1`,
          [`msg-${id}-%`],
        );
        return [...expected].every((e) => got.has(e)) && sent.rowCount === expected.size;
      },
      90_000,
      'every requested mail, recorded as sent',
    );
    await new Promise((r) => setTimeout(r, 2500)); // room for a duplicate to show up
    const counts = new Map<string, number>();
    for (const m of await mine()) counts.set(m.messageId!, (counts.get(m.messageId!) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1);
    expect(duplicates.filter(([mid, n]) => !inDoubt.has(mid) || n > 2)).toEqual([]);
    expect(new Set(counts.keys())).toEqual(expected);
    process.stdout.write(
      `message requests, kill -9: ${atKill}/${expected.size} mails before the kill, ${inDoubt.size} in doubt, ${duplicates.length} resent with the same Message-ID\n`,
    );
    const rows = await pool.query<{ kind: string; recipient_kind: string; address_masked: string }>(
      `select kind, recipient_kind, address_masked from alert_notifications where id = $1`,
      [`msg-${id}-2`],
    );
    expect(rows.rows).toEqual([
      {
        kind: 'complaint-reminder',
        recipient_kind: 'inspector',
        address_masked: expect.stringContaining('*'),
      },
    ]);
    expect(await records(topics.dlq)).toBe(2); // the first test's malformed deviation and this malformed request
    expect(await stopCleanly()).toBe(0);
    await producer.disconnect();
  }, 240_000);
});
