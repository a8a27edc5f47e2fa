// The invitation e-mail end to end: an officer invites with an e-mail address; the console asks the
// alerter (message.request.v1 on a private topic); the alerter — its real process — sends it through
// the SMTP sink, once, even when the request is repeated; the link in the mail opens the invitation;
// the token appears in no log line of either service.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MessageRequestV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import { managerEmailPolicy, readSinkMails, requireEnv, silentLogger, until } from '@offsite/testing';
import { createWorld, http, loginAs, sendAs, type World } from './fixture.js';

const id = randomBytes(4).toString('hex');
const prefix = `t-console-inv-${id}.`;
const topic = `${prefix}message.request.v1`;
const midDomain = `inv-${id}.offsite`;
const alerterDir = path.resolve(import.meta.dirname, '../../alerter');
const kafka = createKafkaClient({
  brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
  clientId: `console-inv-${id}`,
  logger: silentLogger,
});
const producer = createDurableProducer(kafka, { logger: silentLogger });
const published: MessageRequestV1[] = [];
const publish = async (r: MessageRequestV1) => {
  published.push(r);
  await producer.send(topic, [{ key: r.id, value: JSON.stringify(r) }]);
};
let w: World;
let dir: string;
let child: ChildProcess | undefined;
let output = '';
const mails = async () =>
  readSinkMails(requireEnv('OFFSITE_MAIL_DIR'), (h) => !!h.messageId?.endsWith(`@${midDomain}>`));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'console-inv-'));
  await producer.connect();
  await ensureTopics(
    kafka,
    ['deviation.v1', 'notification.v1', 'telemetry.dlq.v1', 'message.request.v1'].map((t) => ({
      topic: `${prefix}${t}`,
      numPartitions: 1,
    })),
  );
  w = await createWorld({ portal: { publish, publicUrl: 'https://console.qinglan.example/' } });
  await writeFile(
    path.join(dir, 'policy.json'),
    JSON.stringify(managerEmailPolicy({ rounds: 1, interval: '1h' })),
  );
  child = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', 'src/main.ts'], {
    cwd: alerterDir,
    env: {
      ...process.env,
      OFFSITE_LOG_LEVEL: 'debug',
      OFFSITE_OPS_PORT: '0',
      OFFSITE_ALERTER_ACK_PORT: '0',
      OFFSITE_ALERTER_TOPIC_PREFIX: prefix,
      OFFSITE_ALERTER_GROUP_ID: `console-inv-${id}`,
      OFFSITE_PG_SCHEMA: w.schema,
      OFFSITE_ALERTER_QUEUE_PREFIX: `t-console-inv-${id}`,
      OFFSITE_ALERTER_EMAIL_TRANSPORT: 'smtp',
      OFFSITE_ALERTER_MESSAGE_ID_DOMAIN: midDomain,
      OFFSITE_ALERTER_OUTBOX_DIR: path.join(dir, 'outbox'),
      OFFSITE_ALERTER_ACK_SECRET: 'invitation-mail-test-secret',
      OFFSITE_ALERTER_POLICY_FILE: path.join(dir, 'policy.json'),
      OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS: '6000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => {
    output += b.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => (child!.exitCode !== null ? r(null) : child!.once('exit', r)));
  }
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({
      topics: ['deviation.v1', 'notification.v1', 'telemetry.dlq.v1', 'message.request.v1'].map(
        (t) => `${prefix}${t}`,
      ),
    })
    .catch(() => undefined);
  await admin.disconnect();
  await w?.close();
  await rm(dir, { recursive: true, force: true });
});

it('e-mails the invitation link once through the alerter, even when the request is repeated; the token is never logged', async () => {
  const officer = await loginAs(w.base, 'officer-dist-lanxi');
  const inv = await sendAs<{ id: string; token: string; emailed: boolean }>(
    w.base,
    officer,
    'POST',
    '/api/portal/invitations',
    { enterpriseId: 'ent-0003', displayName: '环保专员 孙', email: `sun@${midDomain}` },
  );
  expect(inv.status).toBe(201);
  expect(inv.body.emailed).toBe(true);
  const token = inv.body.token;
  expect(published.map((r) => [r.id, r.kind, r.channel])).toEqual([
    [`portal-invitation-${inv.body.id}`, 'portal-invitation', 'email'],
  ]);

  await until(async () => (await mails()).length >= 1, 60_000, 'the invitation e-mail');
  // A repeated request (a retry after a lost acknowledgement) carries the same id: not sent again.
  await publish(published[0]!);
  await until(
    async () =>
      (
        await w.pool.query(`select 1 from alert_notifications where id = $1 and status = 'sent'`, [
          `portal-invitation-${inv.body.id}`,
        ])
      ).rowCount === 1,
    30_000,
    'the notification recorded as sent',
  );
  // A later message through the same alerter proves the repeat was consumed before we count.
  const later = await sendAs<{ id: string }>(w.base, officer, 'POST', '/api/portal/invitations', {
    enterpriseId: 'ent-0003',
    displayName: '环保专员 钱',
    email: `qian@${midDomain}`,
  });
  await until(async () => (await mails()).length >= 2, 60_000, 'the second invitation e-mail');
  const all = await mails();
  const sun = all.filter((m) => m.recipients.includes(`sun@${midDomain}`));
  expect(sun).toHaveLength(1);
  expect(all.filter((m) => m.recipients.includes(`qian@${midDomain}`))).toHaveLength(1);
  expect(later.status).toBe(201);

  const mail = sun[0]!;
  expect(mail.subject).toContain('企业门户账号邀请');
  const link = `https://console.qinglan.example/#/invite/${token}`;
  expect(mail.text).toContain(link);
  const open = await http(w.base, { method: 'GET', url: `/api/portal/invitations/${token}` });
  expect(open.statusCode).toBe(200);

  // Nowhere in the logs, the alerter's records or the audit trail.
  expect(output).not.toContain(token);
  const stored = await w.pool.query(
    `select (select count(*) from alert_notifications where row_to_json(alert_notifications)::text like $1) +
            (select count(*) from audit_log where row_to_json(audit_log)::text like $1) as n`,
    [`%${token}%`],
  );
  expect(Number(stored.rows[0].n)).toBe(0);
});
