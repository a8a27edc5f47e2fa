import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { createEmailChannel, createOutboxChannel, type Channel, NotifyError } from '@offsite/notify';
import type { DeviationV1 } from '@offsite/contracts';
import {
  readSinkMails,
  requireEnv,
  silentLogger,
  type SinkMail,
  type TestSchema,
  until,
} from '@offsite/testing';
import { createAckServer } from './ack-server.js';
import { createAlerter, type Alerter } from './app.js';
import { defaultPolicy, type AlertPolicy } from './policy.js';
import { freshSchema } from '../test/int-support.js';

/** Mails to addresses in `domain`, parsed (recipients, subject, Chinese text). */
const mails = (dir: string, domain: string): Promise<SinkMail[]> =>
  readSinkMails(dir, (h) => h.recipients.some((a) => a.endsWith(`@${domain}`)));

const dev = (over: Partial<DeviationV1>): DeviationV1 => ({
  schema: 'deviation.v1',
  id: `dev-${randomBytes(4).toString('hex')}`,
  rule: 'treatment-idle',
  state: 'opened',
  revision: 1,
  severity: 'medium',
  enterpriseId: 'ent-0001',
  siteId: 'mtr-0001-t1',
  windowStart: '2026-03-01T02:00:00Z',
  openedAt: '2026-03-01T02:30:00Z',
  suspectedFalsification: false,
  inResumptionWindow: true,
  evidence: {
    summary: 'treatment idle',
    values: [{ time: '2026-03-01T02:15:00Z', factor: 'energy', stat: 'Value', value: 0.4, limit: 18 }],
    params: {},
  },
  emittedAt: '2026-03-01T02:31:00Z',
  ...over,
});

describe('alerter on real Postgres, Redis and the SMTP sink', () => {
  const domain = `a${randomBytes(4).toString('hex')}.example`;
  const mailDir = requireEnv('OFFSITE_MAIL_DIR');
  const redis = new URL(requireEnv('OFFSITE_REDIS_URL'));
  const connection = { host: redis.hostname, port: Number(redis.port), maxRetriesPerRequest: null };
  let db: TestSchema;
  let pool: pg.Pool;
  let email: Channel;
  let alerter: Alerter | undefined;
  // A controllable clock fixed at 10:00 Shanghai (no quiet hours), advanced by real time.
  const t0 = Date.parse('2026-03-02T02:00:00Z') - Date.now();
  const now = () => new Date(Date.now() + t0);

  const policy = (over: Partial<AlertPolicy> = {}): AlertPolicy => {
    const p = defaultPolicy();
    p.groupWaitMs = 300;
    p.entries = p.entries.map((e) => ({
      ...e,
      repeat: { intervalMs: 60_000, maxCount: 1 },
      ...(e.escalateAfterMs ? { escalateAfterMs: 1200 } : {}),
    }));
    return { ...p, ...over };
  };
  const make = (
    over: {
      policy?: AlertPolicy;
      sms?: Channel[];
      now?: () => Date;
      timeScale?: number;
      db?: Parameters<typeof createAlerter>[0]['db'];
    } = {},
  ) => {
    alerter = createAlerter({
      db: over.db ?? pool,
      connection,
      prefix: `t-${randomBytes(4).toString('hex')}`,
      policy: over.policy ?? policy(),
      channels: { email, ...(over.sms ? { sms: over.sms } : {}) },
      ack: { secret: 'test-secret', baseUrl: 'http://127.0.0.1:9106/ack' },
      logger: silentLogger,
      now: over.now ?? now,
      send: { attempts: 3, backoffMs: 100 },
      ...(over.timeScale ? { timeScale: over.timeScale } : {}),
    });
    alerter.start();
    return alerter;
  };

  beforeAll(async () => {
    db = await freshSchema(domain, 5);
    pool = db.pool;
    // The bureau's recipients are the console's users on duty.
    await pool.query(
      `insert into console_users (username, display_name, role, district_id, password_hash, email, on_duty) values
         ('off-1', '澜东区执法员', 'district-officer', 'dist-landong', 'x', 'officer@${domain}', true),
         ('sup-1', '市局督查员', 'city-supervisor', null, 'x', 'supervisor@${domain}', true)`,
    );
    email = createEmailChannel(
      {
        host: requireEnv('OFFSITE_SMTP_HOST'),
        port: Number(requireEnv('OFFSITE_SMTP_PORT')),
        from: { address: 'noreply@qinglan.example' },
        messageIdDomain: 'alerter.test',
      },
      silentLogger,
    );
  });
  afterEach(async () => {
    await alerter?.close();
    alerter = undefined;
    await pool.query(
      'truncate alert_delivery_receipts, alert_delivery_attempts, alert_notifications, alert_cases, alert_acknowledgements cascade',
    );
  });
  afterAll(async () => {
    await email.close();
    await db.drop();
  });

  it('reminds the environment manager once, in Chinese, naming the facility, the evidence and the resumption window', async () => {
    const a = make();
    const ev = dev({});
    expect(await a.handleDeviation(ev)).toBe('planned');
    // The same event delivered twice: no new case; the plan job is re-added under its own id
    // (a no-op in BullMQ), which is what recovers a crash between the upsert and the enqueue.
    expect(await a.handleDeviation(ev)).toBe('replayed');
    const contact = (
      await pool.query<{ id: string }>(
        `select id::text from contacts where enterprise_id = 'ent-0001' and role = 'env-manager'`,
      )
    ).rows[0]!;
    const addr = `c${contact.id}@${domain}`;
    await until(
      async () => (await mails(mailDir, domain)).some((m) => m.to.includes(addr)),
      15_000,
      'reminder',
    );
    await new Promise((r) => setTimeout(r, 800));
    const got = (await mails(mailDir, domain)).filter((m) => m.to.includes(addr));
    expect(got).toHaveLength(1);
    expect(got[0]!.subject).toBe(
      '【青澜市生态环境局】提醒：青澜华电热电有限公司产治污不同步（治污设施未运行）',
    );
    expect(got[0]!.text).toContain('复工复产过渡期');
    expect(got[0]!.text).toContain('1号机组脱硫');
    expect(got[0]!.text).toContain('2026-03-01 10:15 energy Value=0.4，限值 18');
    expect(got[0]!.text).toContain('http://127.0.0.1:9106/ack?t=');
    // The legal representative is not on the default policy; nobody else got it.
    const all = await mails(mailDir, domain);
    expect(all.filter((m) => !m.to.includes(addr) && !m.to.includes(`officer@${domain}`))).toHaveLength(0);
    const log = await pool.query(`select provider, status, latency_ms from alert_delivery_attempts`);
    expect(
      log.rows.filter((r) => r.status === 'sent' && r.provider === 'smtp').length,
    ).toBeGreaterThanOrEqual(1);
  });

  it('sends suspected falsification to the city supervisor only', async () => {
    const a = make();
    await a.handleDeviation(
      dev({ rule: 'flatline', suspectedFalsification: true, siteId: 'out-0001-g1', severity: 'high' }),
    );
    await until(
      async () =>
        (await mails(mailDir, domain)).some(
          (m) => m.to.includes(`supervisor@${domain}`) && !!m.subject?.includes('疑似数据造假'),
        ),
      15_000,
      'supervisor alert',
    );
    await new Promise((r) => setTimeout(r, 1500));
    const n = await pool.query<{ recipient_kind: string }>(`select recipient_kind from alert_notifications`);
    expect(n.rows.map((r) => r.recipient_kind)).toEqual(['supervisor']);
  });

  it('runs group wait, repeats and escalation on a scaled clock (OFFSITE_ALERTER_TIME_SCALE)', async () => {
    // Event-time minutes: 1 min group wait, a repeat after 1 min, escalation after 2 min; at 120×
    // they take 0.5 s, 0.5 s and 1 s of wall time. Unscaled, this test would need minutes.
    const p = policy({ groupWaitMs: 60_000 });
    p.entries = p.entries.map((e) => ({
      ...e,
      repeat: { intervalMs: 60_000, maxCount: 2 },
      ...(e.escalateAfterMs ? { escalateAfterMs: 120_000 } : {}),
    }));
    const a = make({ policy: p, timeScale: 120 });
    const started = Date.now();
    expect(await a.handleDeviation(dev({}))).toBe('planned');
    await until(
      async () =>
        (
          await pool.query<{ kinds: string[] }>(
            `select array_agg(kind || ':' || round order by kind, round) as kinds from alert_notifications where status = 'sent' and (recipient_kind = 'enterprise-contact' or kind = 'escalation')`,
          )
        ).rows[0]!.kinds?.join(',') === 'escalation:1,reminder:1,reminder:2',
      20_000,
      'two reminder rounds and the escalation',
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const planned = await a.queues.plan.getJobs(['completed']);
    const first = planned.find((j) => j.id?.endsWith('.r1'));
    expect(first?.opts.delay ?? 0).toBeLessThanOrEqual(500); // the 1 min group wait, scaled
  });

  it('escalates to the district officer when not acknowledged, and not when acknowledged', async () => {
    const a = make();
    const before = (await mails(mailDir, domain)).filter((m) => m.to.includes(`officer@${domain}`)).length;
    await a.handleDeviation(dev({ enterpriseId: 'ent-0001' }));
    await until(
      async () =>
        (await mails(mailDir, domain)).filter((m) => m.to.includes(`officer@${domain}`)).length ===
        before + 1,
      15_000,
      'escalation',
    );
    const esc = (await mails(mailDir, domain)).filter((m) => m.to.includes(`officer@${domain}`)).at(-1)!;
    expect(esc.subject).toContain('督办');

    // Second group, acknowledged through the link before the escalation time.
    await new Promise((r) => setTimeout(r, 400)); // next group bucket
    await a.handleDeviation(dev({ enterpriseId: 'ent-0001', rule: 'treatment-early-stop' }));
    await until(
      async () =>
        (
          await pool.query(
            `select 1 from alert_notifications where kind = 'reminder' and status = 'sent' and group_key not in (select group_key from alert_notifications where kind = 'escalation')`,
          )
        ).rowCount! > 0,
      15_000,
      'second reminder',
    );
    const text = (await mails(mailDir, domain)).find((m) => m.subject?.includes('治污设施早停'))!.text!;
    const token = /ack\?t=([A-Za-z0-9._-]+)/.exec(text)![1]!;
    expect(
      await a.acknowledge({ token, cause: '脱硫泵检修，已恢复', expectedFixAt: '2026-03-02T08:00:00Z' }),
    ).toMatchObject({ ok: true });
    expect(await a.acknowledge({ token: `${token}x`, cause: 'x' })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await mails(mailDir, domain)).filter((m) => m.to.includes(`officer@${domain}`)).length).toBe(
      before + 1,
    );
  });

  it("escalates to an officer added in the console (its users' read API), with no other step", async () => {
    // As the console's admin page creates them: one on duty, one taken off duty.
    await pool.query(
      `insert into console_users (username, display_name, role, district_id, password_hash, email, on_duty) values
         ('officer-new', '新任执法员', 'district-officer', 'dist-landong', 'x', 'new-officer@${domain}', true),
         ('officer-away', '休假执法员', 'district-officer', 'dist-landong', 'x', 'away-officer@${domain}', false)`,
    );
    const a = make();
    const to = async (who: string) =>
      (await mails(mailDir, domain)).filter((m) => m.to.includes(`${who}@${domain}`));
    const before = (await to('new-officer')).length;
    await a.handleDeviation(dev({ enterpriseId: 'ent-0001', rule: 'treatment-idle' }));
    await until(
      async () => (await to('new-officer')).length === before + 1,
      15_000,
      'escalation to the console officer',
    );
    expect((await to('new-officer')).at(-1)!.subject).toContain('督办');
    expect(await to('away-officer')).toEqual([]);
    await pool.query(`delete from console_users where username in ('officer-new', 'officer-away')`);
  });

  it('fails over from the primary SMS provider to the secondary and logs both attempts', async () => {
    const dir = path.join(mailDir, '..', `sms-${randomBytes(4).toString('hex')}`);
    let primaryCalls = 0;
    const primary: Channel = {
      provider: 'aliyun-sms',
      kind: 'sms',
      send: async () => {
        primaryCalls++;
        throw new NotifyError('NOTIFY_PROVIDER_REJECTED', 'isv.AMOUNT_NOT_ENOUGH', { failover: true });
      },
      close: async () => {},
    };
    const secondary = createOutboxChannel({ dir, as: 'sms', provider: 'tencent-sms' }, silentLogger);
    const p = policy();
    p.entries = p.entries.map((e) => ({ ...e, channels: ['sms'] }));
    const a = make({ policy: p, sms: [primary, secondary] });
    await a.handleDeviation(dev({}));
    await until(
      async () =>
        (await pool.query(`select 1 from alert_notifications where status = 'sent' and channel = 'sms'`))
          .rowCount! > 0,
      15_000,
      'sms sent',
    );
    const attempts = await pool.query<{ provider: string; status: string }>(
      `select provider, status from alert_delivery_attempts order by id`,
    );
    expect(attempts.rows.slice(0, 2)).toEqual([
      { provider: 'aliyun-sms', status: 'failed' },
      { provider: 'tencent-sms', status: 'sent' },
    ]);
    expect(primaryCalls).toBeGreaterThanOrEqual(1);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.txt'));
    expect(files.length).toBeGreaterThanOrEqual(1);
    expect(await readFile(path.join(dir, files[0]!), 'utf8')).toContain('复工复产期');
    await rm(dir, { recursive: true, force: true });
  });

  const envManagerAddr = async (ent: string) =>
    `c${(await pool.query<{ id: string }>(`select id::text from contacts where enterprise_id = $1 and role = 'env-manager'`, [ent])).rows[0]!.id}@${domain}`;

  it('defers non-urgent reminders in quiet hours to 07:00 Shanghai and sends urgent ones at once', async () => {
    // 23:30 Shanghai: the first round is a delayed job due at 07:00 (7.5 h later), nothing is sent.
    const late = Date.parse('2026-03-02T15:30:00Z') - Date.now();
    const a = make({ now: () => new Date(Date.now() + late) });
    await a.handleDeviation(dev({ enterpriseId: 'ent-0002' }));
    const g = (await pool.query<{ group_key: string }>(`select group_key from alert_cases`)).rows[0]!
      .group_key;
    const job = await a.queues.plan.getJob(`${g}.r1`);
    expect(job).toBeDefined();
    expect(job!.timestamp + job!.delay - Date.now()).toBeGreaterThan(7.5 * 3_600_000 - 5_000);
    expect(job!.timestamp + job!.delay - Date.now()).toBeLessThanOrEqual(7.5 * 3_600_000);
    await a.close();
    alerter = undefined;
    await pool.query('truncate alert_cases cascade');

    // 06:59:58 Shanghai: the non-urgent reminder waits for 07:00, the urgent one goes now.
    const dawn = Date.parse('2026-03-02T22:59:58Z') - Date.now();
    const clock = () => new Date(Date.now() + dawn);
    const b = make({ now: clock });
    const quiet = await envManagerAddr('ent-0003');
    const urgent = await envManagerAddr('ent-0004');
    await b.handleDeviation(dev({ enterpriseId: 'ent-0003' }));
    await b.handleDeviation(dev({ enterpriseId: 'ent-0004', severity: 'critical' }));
    await until(
      async () => (await mails(mailDir, domain)).some((m) => m.to.includes(urgent)),
      15_000,
      'urgent',
    );
    expect(clock().getTime()).toBeLessThan(Date.parse('2026-03-02T23:00:00Z'));
    expect((await mails(mailDir, domain)).some((m) => m.to.includes(quiet))).toBe(false);
    await until(
      async () => (await mails(mailDir, domain)).some((m) => m.to.includes(quiet)),
      15_000,
      'after 07:00',
    );
    expect(clock().getTime()).toBeGreaterThanOrEqual(Date.parse('2026-03-02T23:00:00Z'));
  });

  it('sends a resolution notice after a reminder, and nothing when the deviation cleared within the group wait', async () => {
    const a = make();
    const addr = await envManagerAddr('ent-0005');
    const ev = dev({ enterpriseId: 'ent-0005' });
    await a.handleDeviation(ev);
    await until(
      async () => (await mails(mailDir, domain)).some((m) => m.to.includes(addr)),
      15_000,
      'reminder',
    );
    expect(
      await a.handleDeviation({ ...ev, state: 'resolved', revision: 2, resolvedAt: '2026-03-02T03:00:00Z' }),
    ).toBe('resolved');
    await until(
      async () =>
        (await mails(mailDir, domain)).some((m) => m.to.includes(addr) && !!m.subject?.includes('已恢复')),
      15_000,
      'resolution notice',
    );
    const notice = (await mails(mailDir, domain)).filter(
      (m) => m.to.includes(addr) && m.subject?.includes('已恢复'),
    );
    expect(notice).toHaveLength(1);
    expect(notice[0]!.text).toContain('已于 2026-03-02 11:00 恢复');

    // Cleared before the group's first round: no reminder, no notice.
    const other = await envManagerAddr('ent-0006');
    const quick = dev({ enterpriseId: 'ent-0006' });
    await a.handleDeviation(quick);
    await a.handleDeviation({ ...quick, state: 'resolved', revision: 2, resolvedAt: '2026-03-02T02:00:01Z' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await mails(mailDir, domain)).filter((m) => m.to.includes(other))).toHaveLength(0);
  });

  it('serves the acknowledgement page in Chinese and English and records cause and fix time', async () => {
    const a = make();
    const addr = await envManagerAddr('ent-0007');
    await a.handleDeviation(dev({ enterpriseId: 'ent-0007' }));
    await until(
      async () => (await mails(mailDir, domain)).some((m) => m.to.includes(addr)),
      15_000,
      'reminder',
    );
    const text = (await mails(mailDir, domain)).find((m) => m.to.includes(addr))!.text!;
    const token = /ack\?t=([A-Za-z0-9._-]+)/.exec(text)![1]!;
    const server = createAckServer({ alerter: a });
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    const req = async (url: string, init?: RequestInit) => {
      const r = await fetch(`${base}${url}`, init);
      return { statusCode: r.status, headers: Object.fromEntries(r.headers), body: await r.text() };
    };
    const zh = await req(`/ack?t=${token}`);
    expect(zh.statusCode).toBe(200);
    expect(zh.headers['referrer-policy']).toBe('no-referrer');
    expect(zh.body).toContain('lang="zh-CN"');
    expect(zh.body).toContain('治污设施未运行');
    const en = await req(`/ack?t=${token}&lang=en`);
    expect(en.body).toContain('Expected fix time');
    const bad = await req(`/ack?t=${token}x`);
    expect(bad.statusCode).toBe(400);
    const empty = await req('/ack', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ t: token, cause: ' ' }).toString(),
    });
    expect(empty.statusCode).toBe(422);
    const ok = await req('/ack', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        t: token,
        cause: '除尘风机故障，已抢修',
        expectedFixAt: '2026-03-03T16:00',
      }).toString(),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('已收到');
    const row = await pool.query<{ cause: string; expected_fix_at: Date }>(
      `select cause, expected_fix_at from alert_acknowledgements`,
    );
    expect(row.rows).toHaveLength(1);
    expect(row.rows[0]!.cause).toBe('除尘风机故障，已抢修');
    expect(row.rows[0]!.expected_fix_at.toISOString()).toBe('2026-03-03T08:00:00.000Z');
    await server.close();
  });

  it('sends once when the provider accepted but recording it failed for a while (Postgres lost in between)', async () => {
    // The statement that records accepted sends fails twice as a lost connection would; the rest is the real pool.
    let failures = 2;
    const flaky: Parameters<typeof createAlerter>[0]['db'] = {
      query: (q, values) => {
        if (failures > 0 && typeof q === 'object' && q.name === 'alerter-record-sent') {
          failures--;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return pool.query(q as never, values) as never;
      },
    };
    const addr = `c${(await pool.query<{ id: string }>(`select id::text from contacts where enterprise_id = 'ent-0001' and role = 'env-manager'`)).rows[0]!.id}@${domain}`;
    // Earlier tests mailed this contact too (same domain): count this test's mails only.
    const before = (await mails(mailDir, domain)).filter((m) => m.to.includes(addr)).length;
    const a = make({ db: flaky });
    expect(await a.handleDeviation(dev({}))).toBe('planned');
    await until(
      async () =>
        failures === 0 &&
        (await pool.query(`select 1 from alert_notifications where status = 'sent'`)).rowCount! > 0,
      15_000,
      'the accepted send recorded',
    );
    // Long enough for a job retry (backoff 100 ms) to have sent it again.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await mails(mailDir, domain)).filter((m) => m.to.includes(addr))).toHaveLength(before + 1);
    const attempts = await pool.query<{ status: string }>(
      `select a.status from alert_delivery_attempts a join alert_notifications n on n.id = a.notification_id where n.recipient_kind = 'enterprise-contact'`,
    );
    expect(attempts.rows.map((r) => r.status)).toEqual(['sent']);
  });
});
