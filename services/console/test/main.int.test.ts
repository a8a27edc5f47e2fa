// The console as a real process (src/main.ts): migrations, /readyz on the ops port, the UI served,
// a login over HTTP, a WeChat complaint consumed from complaint.intake.v1, late minute data consumed into its
// counters, and a clean exit on SIGTERM. It is ready and serves while its complaint consumer's group cannot admit
// it yet (a member holding a batch).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { kafkaMessage, kafkaTopics, type ComplaintIntakeV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import { runMigrations, importRegistry } from '@offsite/store';
import { createTestSchema, requireEnv, silentLogger, until, type TestSchema } from '@offsite/testing';
import { seedDemoUsers } from '../src/seed.js';
import { examplePath, PASSWORD } from './fixture.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });

let db: TestSchema | undefined;
let child: ChildProcess | undefined;
let output = '';
let stuck: ReturnType<typeof kafka.consumer> | undefined;
const run = randomBytes(4).toString('hex');
const requestTopic = `test.console-main.message-requests.${run}`;
const intakeTopic = `test.console-main.complaint-intake.${run}`;
const lateTopic = `test.console-main.telemetry-late.${run}`;
const kafka = createKafkaClient({
  brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
  clientId: 'console-main-int',
  logger: silentLogger,
});
afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [requestTopic, intakeTopic, lateTopic] }).catch(() => undefined);
  await admin.disconnect();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await stuck?.disconnect().catch(() => undefined);
  await db?.drop();
});

it('starts, is ready, serves the UI and the API, and exits 0 on SIGTERM', async () => {
  const url = requireEnv('OFFSITE_PG_URL');
  db = await createTestSchema({ max: 2 });
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: examplePath }, { logger: silentLogger });
  await seedDemoUsers(db.pool, () => PASSWORD);

  await ensureTopics(kafka, [
    { topic: requestTopic, numPartitions: 1 },
    { topic: intakeTopic, numPartitions: 1 },
    { topic: lateTopic, numPartitions: 1 },
  ]);
  // A member of the console's group stuck in a batch, as a killed console's consumer is until its session
  // ends: the group cannot rebalance, so the console's consumer cannot join, until it leaves.
  const heldId = `wechat:gh_offsite:8${Date.now()}`;
  const seed = createDurableProducer(kafka, { logger: silentLogger });
  await seed.connect();
  await seed.send(intakeTopic, [
    kafkaMessage(kafkaTopics.complaintIntake, {
      schema: 'complaint.intake.v1',
      id: heldId,
      channel: 'wechat',
      account: 'gh_offsite',
      source: 'oMainTest0123456789abcdef',
      sourceMessageId: heldId.split(':')[2]!,
      text: '雨天偷排',
      receivedAt: new Date().toISOString(),
    } satisfies ComplaintIntakeV1),
  ]);
  await seed.disconnect();
  stuck = kafka.consumer({
    groupId: `test-console-main-${run}`,
    sessionTimeout: 90_000,
    rebalanceTimeout: 90_000,
  });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = false;
  await stuck.connect();
  await stuck.subscribe({ topics: [intakeTopic], fromBeginning: true });
  await stuck.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async () => {
      holding = true;
      await released; // returns without committing: the held complaint goes to the console afterwards
    },
  });
  await until(async () => holding, 30_000, 'the stuck member holds a batch');

  const [opsPort, httpPort] = [await freePort(), await freePort()];
  const pgUrl = new URL(url);
  pgUrl.searchParams.set('options', db.options);
  child = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', 'src/main.ts'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      OFFSITE_PG_URL: pgUrl.toString(),
      OFFSITE_INFLUX_URL: requireEnv('OFFSITE_INFLUX_URL'),
      OFFSITE_INFLUX_TOKEN: requireEnv('OFFSITE_INFLUX_TOKEN'),
      OFFSITE_INFLUX_ORG: process.env.OFFSITE_INFLUX_ORG ?? '',
      OFFSITE_INFLUX_BUCKET: requireEnv('OFFSITE_INFLUX_BUCKET'),
      OFFSITE_REDIS_URL: requireEnv('OFFSITE_REDIS_URL'),
      OFFSITE_KAFKA_BROKERS: requireEnv('OFFSITE_KAFKA_BROKERS'),
      OFFSITE_CONSOLE_QUEUE_PREFIX: `test-console-main-${randomBytes(4).toString('hex')}`,
      OFFSITE_CONSOLE_MESSAGE_REQUEST_TOPIC: requestTopic,
      OFFSITE_CONSOLE_COMPLAINT_INTAKE_TOPIC: intakeTopic,
      OFFSITE_CONSOLE_GROUP_ID: `test-console-main-${run}`,
      OFFSITE_CONSOLE_LATE_DATA_TOPIC: lateTopic,
      OFFSITE_KAFKA_SESSION_TIMEOUT_MS: '6000',
      OFFSITE_OPS_PORT: String(opsPort),
      OFFSITE_CONSOLE_PORT: String(httpPort),
      OFFSITE_LOG_LEVEL: 'warn',
      OFFSITE_SHUTDOWN_DEADLINE_MS: '10000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

  const ops = `http://127.0.0.1:${opsPort}`;
  const base = `http://127.0.0.1:${httpPort}`;
  await until(
    async () => (await fetch(`${ops}/readyz`).catch(() => null))?.status === 200,
    60_000,
    `/readyz (output so far: ${output.slice(-2000)})`,
  );
  // Ready although its consumer is not a member yet: reported as degraded, not failing.
  const ready = (await (await fetch(`${ops}/readyz`)).json()) as { failing: string[]; degraded: string[] };
  expect(holding).toBe(true);
  // (The late-data consumer's group is free: it may have joined by now, or be listed as degraded too.)
  expect(ready.failing).toEqual([]);
  expect(ready.degraded).toContain('complaint-intake-consumer');
  expect(await (await fetch(`${ops}/metrics`)).text()).not.toMatch(
    /offsite_console_consumer_member\{[^}]*consumer="complaint-intake"[^}]*\} 1\b/,
  );
  const html = await (await fetch(`${base}/`)).text();
  expect(html).toContain('<div id="app">');
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'officer-dist-landong', password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const q = await fetch(`${base}/api/deviations`, { headers: { cookie } });
  expect(q.status).toBe(200);
  expect(await q.json()).toMatchObject({ total: 0 });
  // The regulation workers run in the process: a campaign's messages are requested from the alerter.
  const sup = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'supervisor', password: PASSWORD }),
  });
  const supCookie = sup.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrfToken } = (await sup.json()) as { csrfToken: string };
  const campaign = await fetch(`${base}/api/regulation/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: supCookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({
      name: '复工提醒',
      channel: 'email',
      template: { zh: { subject: '复工提醒', body: '{{enterpriseName}}：请保持治污设施正常运行。' } },
      audience: { districtId: 'dist-landong' },
    }),
  });
  expect(campaign.status).toBe(201);
  const { campaignId, messages } = (await campaign.json()) as { campaignId: number; messages: number };
  expect(messages).toBeGreaterThan(0);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const requested = async () =>
    (await kafkaAdmin.fetchTopicOffsets(requestTopic)).reduce(
      (n, p) => n + Number(p.high) - Number(p.low),
      0,
    );
  await until(async () => (await requested()) === messages, 20_000, 'campaign requested on Kafka');
  await kafkaAdmin.disconnect();
  const stats = await fetch(`${base}/api/regulation/campaigns/${campaignId}/stats`, {
    headers: { cookie: supCookie },
  });
  expect(await stats.json()).toMatchObject({ total: messages, sent: messages, queued: 0 });
  // A complaint the alerter passed on from the WeChat official account becomes an unassigned complaint.
  release();
  await stuck.disconnect();
  await until(
    async () =>
      ((await (await fetch(`${ops}/readyz`)).json()) as { degraded: string[] }).degraded.length === 0,
    60_000,
    'the console consumers joined their groups',
  );
  const producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  await producer.send(intakeTopic, [
    kafkaMessage(kafkaTopics.complaintIntake, {
      schema: 'complaint.intake.v1',
      id: `wechat:gh_offsite:9${Date.now()}`,
      channel: 'wechat',
      account: 'gh_offsite',
      source: 'oMainTest0123456789abcdef',
      sourceMessageId: `9${Date.now()}`,
      text: '厂区夜间异味',
      receivedAt: new Date().toISOString(),
    } satisfies ComplaintIntakeV1),
  ]);
  await producer.disconnect();
  await until(
    async () => {
      const list = (await (
        await fetch(`${base}/api/regulation/complaints`, { headers: { cookie: supCookie } })
      ).json()) as { summary: string; enterpriseId: string | null; channel: string }[];
      return ['厂区夜间异味', '雨天偷排'].every((text) =>
        list.some((c) => c.summary === text && c.enterpriseId === null && c.channel === 'wechat'),
      );
    },
    30_000,
    'the WeChat complaint listed',
  );
  // The influx-writer's late minute data raises the counter of the device and day.
  const lateProducer = createDurableProducer(kafka, { logger: silentLogger });
  await lateProducer.connect();
  await lateProducer.send(lateTopic, [
    kafkaMessage(kafkaTopics.telemetryLate, {
      schema: 'telemetry.late.v1' as const,
      id: '99010201FG00010000000001:2026-05-02:main-int-1',
      enterpriseId: 'ent-0001',
      deviceId: '99010201FG00010000000001',
      day: '2026-05-02',
      readings: 3,
      firstDataTime: '2026-05-01T16:00:00.000Z',
      lastDataTime: '2026-05-01T16:20:00.000Z',
      observedAt: new Date().toISOString(),
    }),
  ]);
  await lateProducer.disconnect();
  await until(
    async () =>
      (
        await db!.pool.query(
          `select 1 from console_transmission_late where device_mn = '99010201FG00010000000001' and day = '2026-05-02'`,
        )
      ).rowCount === 1,
    30_000,
    'the late-data counter',
  );
  const metrics = await (await fetch(`${ops}/metrics`)).text();
  expect(metrics).toMatch(/offsite_console_complaint_intake_total\{[^}]*outcome="new"[^}]*\} 2\b/);
  expect(metrics).toMatch(/offsite_console_late_data_events_total\{[^}]*outcome="noted"[^}]*\} 1\b/);
  for (const consumer of ['complaint-intake', 'late-data'])
    expect(metrics).toMatch(
      new RegExp(`offsite_console_consumer_member\\{[^}]*consumer="${consumer}"[^}]*\\} 1\\b`),
    );
  expect(metrics).toContain('service="console"');
  expect(metrics).toMatch(
    new RegExp(
      `offsite_console_regulation_messages_total\\{[^}]*kind="outreach"[^}]*result="requested"[^}]*\\} ${messages}\\b`,
    ),
  );

  child.kill('SIGTERM');
  await expect(exited).resolves.toBe(0);
}, 180_000);
