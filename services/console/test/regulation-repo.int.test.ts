import type { StabilityMetrics } from '@offsite/domain';
import { createSilentLogger } from '@offsite/runtime';
import { until } from '@offsite/testing';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import {
  monthlyReportCsv,
  type EnterpriseStability,
  type OutreachMessage,
  type Scope,
} from '@offsite/regulation';
import {
  computeEligibility,
  createCampaign,
  createComplaint,
  createDraw,
  createOutreachDispatcher,
  createReminders,
  campaignStats,
  decidePositiveList,
  drawPublicationCsv,
  listDraws,
  monthlyReport,
  proposeRemoval,
  recordOutcome,
  registerRegulationRoutes,
  RETIRED_REPORT_SCHEDULER,
  resolveRemovalProposal,
  transitionComplaint,
  verifyDraw,
  type Reminder,
  type StabilitySource,
} from '../src/regulation/index.js';
import {
  createHarness,
  goodMetrics,
  redisConnection,
  testPrefix,
  type Harness,
} from './regulation-harness.js';

const now = new Date('2026-06-15T04:00:00Z');
const city: Scope = { userId: 'sup-city', role: 'city-supervisor', districtId: null };

let metrics = new Map<string, StabilityMetrics>();
const stability: StabilitySource = async (ids) =>
  new Map(
    ids
      .filter((id) => metrics.has(id))
      .map((id): [string, EnterpriseStability] => [
        id,
        {
          enterpriseId: id,
          windowFrom: new Date(now.getTime() - 90 * 86_400_000),
          windowTo: now,
          metrics: metrics.get(id)!,
          lastReceivedAt: new Date(now.getTime() - 600_000),
        },
      ]),
  );

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  const ents = await h.pool.query<{ id: string }>('select id from enterprises');
  metrics = new Map(ents.rows.map((r) => [r.id, goodMetrics]));
  await h.pool.query(`insert into inspectors (id, name, district_id, is_officer, phone) values
    ('insp-01', '检查员一', 'dist-landong', true, '13900000001'), ('insp-02', '检查员二', 'dist-landong', false, null),
    ('insp-03', '检查员三', 'dist-lanxi', true, '13900000003'), ('insp-04', '检查员四', 'dist-lanxi', false, null),
    ('insp-05', '检查员五', 'dist-kaifa', true, '13900000005'), ('insp-06', '检查员六', 'dist-kaifa', false, null)`);
});
afterAll(async () => h?.drop());

async function eligibilityOf(id: string) {
  const [e] = await computeEligibility(h.pool, city, { stability, now, enterpriseId: id });
  return e!;
}

describe('positive list on real Postgres', () => {
  it('flips the verdict with each criterion stored in the registry and analyzer metrics', async () => {
    expect((await eligibilityOf('ent-0001')).eligible).toBe(true);

    await h.pool.query(`update enterprises set credit_rating = 'C' where id = 'ent-0001'`);
    expect((await eligibilityOf('ent-0001')).criteria.filter((c) => !c.pass).map((c) => c.code)).toEqual([
      'CREDIT_GOOD',
    ]);
    await h.pool.query(`update enterprises set credit_rating = 'A' where id = 'ent-0001'`);

    await h.pool.query(
      `insert into violations (id, enterprise_id, occurred_on, kind, serious, description) values ('v-t1', 'ent-0001', '2026-01-10', 'exceedance', false, 'test')`,
    );
    expect((await eligibilityOf('ent-0001')).criteria.filter((c) => !c.pass).map((c) => c.code)).toEqual([
      'NO_RECENT_VIOLATION',
    ]);
    await h.pool.query(`delete from violations where id = 'v-t1'`);

    await h.pool.query(
      `insert into violations (id, enterprise_id, occurred_on, kind, serious, description) values ('v-t2', 'ent-0001', '2024-01-10', 'crime', true, 'test')`,
    );
    expect((await eligibilityOf('ent-0001')).criteria.filter((c) => !c.pass).map((c) => c.code)).toEqual([
      'NO_RECENT_CRIME',
    ]);
    await h.pool.query(`delete from violations where id = 'v-t2'`);

    metrics.set('ent-0001', { ...goodMetrics, exceedanceWindows: 1 });
    expect(
      (await eligibilityOf('ent-0001')).criteria.find((c) => c.code === 'STABLY_COMPLIANT'),
    ).toMatchObject({ pass: false, value: expect.objectContaining({ exceedanceWindows: 1 }) });
    metrics.set('ent-0001', goodMetrics);

    await h.pool.query(
      `update devices set enabled = false where outlet_id in (select id from outlets where enterprise_id = 'ent-0001')`,
    );
    expect((await eligibilityOf('ent-0001')).criteria.filter((c) => !c.pass).map((c) => c.code)).toEqual([
      'MONITORING_INSTALLED',
    ]);
    await h.pool.query(
      `update devices set enabled = true where outlet_id in (select id from outlets where enterprise_id = 'ent-0001')`,
    );

    const incinerator = (await computeEligibility(h.pool, city, { stability, now })).find((e) =>
      e.criteria.some((c) => c.code === 'INDUSTRY_NOT_EXCLUDED' && !c.pass),
    );
    expect(incinerator).toBeDefined();
    expect((await eligibilityOf('ent-0001')).eligible).toBe(true);
  });

  it('judges the criteria as of a past time when asked (a replay or demo), by the real clock otherwise', async () => {
    // The figures were computed as of `now`, the last data 10 min before it; the wall clock is 10 days later.
    const later = new Date(now.getTime() + 10 * 86_400_000);
    const [byClock] = await computeEligibility(h.pool, city, {
      stability,
      now: later,
      enterpriseId: 'ent-0001',
    });
    expect(byClock!.criteria.filter((c) => !c.pass).map((c) => c.code)).toEqual(['MONITORING_CONNECTED']);
    expect(byClock!.evaluatedAt).toBe(later.toISOString());
    const [asOf] = await computeEligibility(h.pool, city, {
      stability,
      now: later,
      asOf: now,
      enterpriseId: 'ent-0001',
    });
    expect(asOf!.eligible).toBe(true);
    expect(asOf!.evaluatedAt).toBe(now.toISOString());
  });

  it('records decisions append-only, refuses ineligible adds, proposes removal on a serious event', async () => {
    const d = await decidePositiveList(
      h.pool,
      city,
      {
        enterpriseId: 'ent-0001',
        action: 'add',
        reason: '稳定达标',
        validFrom: '2026-06-01',
        validUntil: '2027-05-31',
      },
      { stability, now },
    );
    expect(d.eligibility?.eligible).toBe(true);
    await expect(
      decidePositiveList(
        h.pool,
        city,
        { enterpriseId: 'ent-0004', action: 'add', reason: 'x', validFrom: '2026-06-01' },
        { stability, now },
      ),
    ).rejects.toMatchObject({ code: 'NOT_ELIGIBLE' });
    await expect(h.pool.query(`update positive_list_decisions set reason = 'changed'`)).rejects.toThrow(
      /append-only/,
    );
    expect((await eligibilityOf('ent-0001')).listed).toBe(true);

    const viewer: Scope = { userId: 'v', role: 'viewer', districtId: null };
    await expect(
      decidePositiveList(
        h.pool,
        viewer,
        { enterpriseId: 'ent-0001', action: 'remove', reason: 'x', validFrom: '2026-06-15' },
        { stability, now },
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const p1 = await proposeRemoval(
      h.pool,
      city,
      { enterpriseId: 'ent-0001', trigger: 'falsification', sourceRef: 'case-77' },
      now,
    );
    const p2 = await proposeRemoval(
      h.pool,
      city,
      { enterpriseId: 'ent-0001', trigger: 'falsification', sourceRef: 'case-77' },
      now,
    );
    expect(p1?.id).toBeDefined();
    expect(p2?.id).toBe(p1?.id);
    expect(
      await proposeRemoval(
        h.pool,
        city,
        { enterpriseId: 'ent-0002', trigger: 'incident', sourceRef: 'i-1' },
        now,
      ),
    ).toBeNull();
    const resolved = await resolveRemovalProposal(
      h.pool,
      city,
      { proposalId: p1!.id, accept: true, reason: '确认数据造假' },
      now,
    );
    expect(resolved.decision?.action).toBe('remove');
    expect((await eligibilityOf('ent-0001')).listed).toBe(false);
  });
});

describe('random inspection draws on real Postgres', () => {
  it('records a draw that re-runs identically from its seed, excludes conflicts and publishes a CSV', async () => {
    await h.pool.query(
      `insert into inspector_recusals (inspector_id, enterprise_id, reason) select 'insp-01', id, '亲属关系' from enterprises`,
    );
    const admin: Scope = { userId: 'admin', role: 'admin', districtId: null };
    const draw = await createDraw(
      h.pool,
      admin,
      {
        period: '2026-Q3',
        seed: '2026Q3-公开-7f3a',
        config: {
          rates: { key: 0.5, special: 0.5, general: 0.5, 'positive-list': 1 },
          risk: { perOpenDeviation: 0.5, perViolation: 1, maxWeight: 5 },
          excludeOwnDistrict: true,
          inspectorsPerTarget: 2,
        },
      },
      { now },
    );
    expect(draw.targets.length).toBeGreaterThan(0);
    for (const t of draw.targets) {
      expect(t.inspectorIds).toHaveLength(2);
      expect(t.inspectorIds).not.toContain('insp-01');
    }
    const districtOf = new Map(
      (
        await h.pool.query<{ id: string; district_id: string | null }>(
          'select id, district_id from inspectors',
        )
      ).rows.map((r) => [r.id, r.district_id]),
    );
    for (const t of draw.targets)
      for (const i of t.inspectorIds) expect(districtOf.get(i)).not.toBe(t.districtId);
    expect((await verifyDraw(h.pool, admin, draw.id)).matches).toBe(true);
    await expect(
      createDraw(h.pool, admin, { period: '2026-Q3', seed: 'other' }, { now }),
    ).rejects.toMatchObject({ code: 'DRAW_EXISTS' });
    const csv = await drawPublicationCsv(h.pool, admin, draw.id);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(draw.targets.length + 1);
    expect(csv).toContain('2026Q3-公开-7f3a');
    // Tampering with the stored result is detected by the re-run.
    await h.pool.query(
      `update inspection_targets set inspector_ids = array['insp-02','insp-03'] where draw_id = $1 and rank = 1 and stratum = 'key'`,
      [draw.id],
    );
    expect((await verifyDraw(h.pool, admin, draw.id)).matches).toBe(false);
  });

  it('lists the draws in scope, newest first, with target counts restricted to the district', async () => {
    const admin: Scope = { userId: 'admin', role: 'admin', districtId: null };
    const lanxi: Scope = { userId: 'o', role: 'district-officer', districtId: 'dist-lanxi' };
    const q4 = await createDraw(h.pool, admin, { period: '2026-Q4', seed: 'q4-seed' }, { now });
    // A district-level draw of Landong (recorded as its supervisor would): invisible to Lanxi.
    const [row] = (
      await h.pool.query<{ id: string }>(
        `insert into inspection_draws (period, district_id, seed, config, inputs, inputs_digest, algorithm, created_by)
         values ('2026-11', 'dist-landong', 's', '{}', '{"enterprises":[],"inspectors":[]}', 'x', 'a', 'sup')
         returning id`,
      )
    ).rows;
    const all = await listDraws(h.pool, admin);
    expect(all.map((d) => d.period)).toEqual(['2026-11', '2026-Q4', '2026-Q3']);
    expect(all[1]).toMatchObject({ id: q4.id, seed: 'q4-seed', targets: q4.targets.length, recorded: 0 });
    expect(all[1]!.onSite).toBe(q4.targets.filter((t) => t.mode === 'on-site').length);
    const mine = await listDraws(h.pool, lanxi);
    expect(mine.map((d) => d.id)).not.toContain(Number(row!.id));
    const lanxiTargets = q4.targets.filter((t) => t.districtId === 'dist-lanxi').length;
    expect(lanxiTargets).toBeLessThan(q4.targets.length);
    expect(mine.find((d) => d.id === q4.id)?.targets).toBe(lanxiTargets);
    expect((await listDraws(h.pool, admin, { period: '2026-Q4' })).map((d) => d.id)).toEqual([q4.id]);
  });
});

describe('complaints with BullMQ reminders', () => {
  it('creates a verification task for a listed enterprise and reminds before the deadline until acknowledged', async () => {
    await decidePositiveList(
      h.pool,
      city,
      { enterpriseId: 'ent-0002', action: 'add', reason: '稳定达标', validFrom: '2026-06-01' },
      { stability, now },
    );
    const received: Reminder[] = [];
    const config = {
      deadlines: {
        normal: { acknowledgeHours: 1.6 / 3600, resolveHours: 1 },
        urgent: { acknowledgeHours: 1.6 / 3600, resolveHours: 1 },
      },
      reminderLeadHours: 1 / 3600,
    };
    const reminders = createReminders({
      connection: redisConnection(),
      queueName: 'reminders',
      prefix: testPrefix(),
      db: h.pool,
      sink: async (r) => void received.push(r),
      logger: createSilentLogger(),
      config,
    });
    reminders.startWorker();
    try {
      const real = new Date();
      const a = await createComplaint(
        h.pool,
        city,
        { channel: 'hotline', enterpriseId: 'ent-0002', urgency: 'normal', summary: '夜间异味' },
        { now: real, config },
      );
      expect(a.verificationTask).toMatchObject({ kind: 'on-site-verification', enterpriseId: 'ent-0002' });
      expect(new Date(a.complaint.resolveDueAt).getTime() - new Date(a.complaint.receivedAt).getTime()).toBe(
        3_600_000,
      );
      const b = await createComplaint(
        h.pool,
        city,
        { channel: 'wechat', enterpriseId: 'ent-0003', urgency: 'urgent', summary: '黑水' },
        { now: real, config },
      );
      expect(b.verificationTask).toBeNull();
      await reminders.scheduleComplaint(a.complaint);
      await reminders.scheduleComplaint(a.complaint); // idempotent by job id
      await reminders.scheduleComplaint(b.complaint);
      await transitionComplaint(
        h.pool,
        city,
        { complaintId: b.complaint.id, to: 'acknowledged' },
        new Date(),
      );
      await until(
        () => received.filter((r) => r.kind === 'complaint' && r.stage === 'acknowledge').length >= 2,
        10_000,
        'two acknowledge reminders',
      );
      await new Promise((r) => setTimeout(r, 500));
      const ack = received.filter((r) => r.kind === 'complaint' && r.stage === 'acknowledge');
      expect(ack.map((r) => (r.kind === 'complaint' ? [r.complaintId, r.overdue] : null))).toEqual([
        [a.complaint.id, false],
        [a.complaint.id, true],
      ]);
      await expect(
        transitionComplaint(h.pool, city, { complaintId: a.complaint.id, to: 'closed' }, new Date()),
      ).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
      expect(await reminders.cancelComplaint(a.complaint.id)).toBe(2); // the two resolve reminders
    } finally {
      await reminders.close();
    }
  });
});

describe('the old monthly report reminder', () => {
  it('is removed at start-up and never fires: the submission’s reminders are the only monthly ones', async () => {
    const prefix = testPrefix();
    // What an earlier console left in Redis: its own scheduler (the 20th of each month, 09:00), its next
    // delayed job, and one job of it already waiting.
    const old = new Queue('reminders', { connection: redisConnection(), prefix });
    const reminders = createReminders({
      connection: redisConnection(),
      queueName: 'reminders',
      prefix,
      db: h.pool,
      sink: async (r) => void sent.push(r),
      logger: createSilentLogger(),
    });
    const sent: Reminder[] = [];
    try {
      await old.upsertJobScheduler(
        RETIRED_REPORT_SCHEDULER,
        { pattern: '0 9 20 * *', tz: 'Asia/Shanghai' },
        { name: RETIRED_REPORT_SCHEDULER, data: {} },
      );
      await old.add(RETIRED_REPORT_SCHEDULER, {}, { jobId: 'left-over' });
      expect(await old.getJobSchedulersCount()).toBe(1);
      expect((await old.getJobs(['delayed', 'waiting'])).length).toBe(2);

      // The scheduler with its next job, and the waiting one.
      expect(await reminders.retireMonthlyReportScheduler()).toBeGreaterThanOrEqual(2);
      expect(await old.getJobSchedulersCount()).toBe(0);
      expect(await old.getJobs(['delayed', 'waiting'])).toEqual([]);
      expect(await reminders.retireMonthlyReportScheduler()).toBe(0); // every later start: nothing to do

      // A job of the old scheduler that still arrives (an old instance during a rolling deploy) completes
      // without sending anything.
      const done: unknown[] = [];
      reminders.startWorker().on('completed', (job, value) => void done.push([job.name, value]));
      await old.add(RETIRED_REPORT_SCHEDULER, {}, { jobId: 'late-arrival' });
      await until(() => done.length >= 1, 10_000, 'the late job');
      expect(done).toEqual([[RETIRED_REPORT_SCHEDULER, 'retired']]);
      expect(sent).toEqual([]);
    } finally {
      await reminders.close();
      await old.close();
    }
  });
});

describe('outreach campaigns', () => {
  it('throttles sends with the BullMQ limiter, retries failures and counts outcomes', async () => {
    const campaign = await createCampaign(
      h.pool,
      city,
      {
        name: '复工提醒',
        channel: 'sms',
        template: { zh: { body: '{{enterpriseName}}：请保持治污设施正常运行。' } },
        audience: {},
      },
      now,
    );
    expect(campaign.messages).toBeGreaterThan(8);
    const sends: { at: number; m: OutreachMessage }[] = [];
    let failedOnce = false;
    const dispatcher = createOutreachDispatcher({
      connection: redisConnection(),
      queueName: 'outreach',
      prefix: testPrefix(),
      db: h.pool,
      logger: createSilentLogger(),
      rate: { max: 4, durationMs: 1000 },
      attempts: 2,
      send: async (m) => {
        sends.push({ at: Date.now(), m });
        if (m.to === '0990-12345678') throw new Error('landline cannot receive SMS');
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('provider busy');
        }
        return { providerRef: `p-${sends.length}` };
      },
    });
    try {
      const start = Date.now();
      expect(await dispatcher.enqueueCampaign(campaign.campaignId)).toBe(campaign.messages);
      dispatcher.startWorker();
      await until(
        async () => (await campaignStats(h.pool, city, campaign.campaignId)).queued === 0,
        30_000,
        'campaign done',
      );
      const stats = await campaignStats(h.pool, city, campaign.campaignId);
      expect(stats).toMatchObject({ total: campaign.messages, sent: campaign.messages - 1, failed: 1 });
      expect(stats.attempts).toBe(campaign.messages + 2);
      // Never more than 4 sends in any 1-second window. BullMQ's limiter admits job starts; the send
      // callback stamps its time later, by a delay that a loaded machine (two suites beside each other,
      // load 20+) stretches to several hundred ms. So four gaps span at least 1 s minus the largest such
      // delay; without a limiter they would be near zero.
      const slackMs = 800;
      const times = sends.map((s) => s.at).sort((x, y) => x - y);
      for (let i = 4; i < times.length; i += 1)
        expect(times[i]! - times[i - 4]!).toBeGreaterThanOrEqual(1000 - slackMs);
      expect(Date.now() - start).toBeGreaterThanOrEqual((Math.ceil(sends.length / 4) - 1) * 1000 - slackMs);
      expect(sends[0]!.m.body).toMatch(/：请保持治污设施正常运行。$/);
    } finally {
      await dispatcher.close();
    }
  });
});

describe('reports', () => {
  it('computes the monthly figures of a known data set and exports them', async () => {
    const at = (d: string) => new Date(`${d}T10:00:00+08:00`);
    const ev = (kind: Parameters<typeof recordOutcome>[2]['kind'], ref: string, d: string, extra = {}) =>
      recordOutcome(h.pool, city, {
        kind,
        sourceRef: ref,
        enterpriseId: 'ent-0001',
        occurredAt: at(d),
        ...extra,
      });
    for (let i = 0; i < 3; i += 1) await ev('offsite-check', `oc-${i}`, '2026-05-0' + (i + 1));
    await ev('offsite-check', 'oc-june', '2026-06-01');
    await ev('deviation', 'dev-1', '2026-05-03', { rule: 'exceedance', outcome: 'confirmed' });
    await ev('deviation', 'dev-2', '2026-05-04', { rule: 'exceedance', outcome: 'dismissed' });
    await ev('deviation', 'dev-3', '2026-05-05', { rule: 'exceedance', outcome: 'confirmed' });
    await ev('deviation', 'dev-4', '2026-05-06', { rule: 'treatment-off', outcome: 'confirmed' });
    for (let i = 0; i < 5; i += 1) await ev('reminder-sent', `rs-${i}`, '2026-05-10');
    for (let i = 0; i < 3; i += 1) await ev('reminder-acknowledged', `ra-${i}`, '2026-05-11');
    await ev('rectification', 'r-1', '2026-05-12', { dueAt: at('2026-05-20'), doneAt: at('2026-05-18') });
    await ev('rectification', 'r-2', '2026-05-12', { dueAt: at('2026-05-20'), doneAt: at('2026-05-25') });
    await ev('rectification', 'r-3', '2026-05-12', { dueAt: at('2026-05-20') });
    await ev('penalty-waived', 'pw-1', '2026-05-15');
    await ev('case-referred', 'cr-1', '2026-05-31');
    expect(await ev('case-referred', 'cr-1', '2026-05-31')).toBe(false); // idempotent
    // Late completion of r-3 arrives later and is recorded on the same ledger row.
    await ev('rectification', 'r-3', '2026-05-12', { dueAt: at('2026-05-20'), doneAt: at('2026-05-19') });

    const r = await monthlyReport(h.pool, city, 'dist-landong', '2026-05');
    expect(r).not.toHaveProperty('dueAt'); // the figures have no due date of their own: the submission has
    expect(r).not.toHaveProperty('submitted');
    expect(r.figures).toMatchObject({
      offsiteChecks: 3,
      deviationsTotal: 4,
      remindersSent: 5,
      remindersAcknowledged: 3,
      rectifications: { total: 3, inTime: 2, late: 1, open: 0 },
      penaltiesWaived: 1,
      casesReferred: 1,
    });
    expect(r.figures.deviations).toEqual([
      { rule: 'exceedance', outcome: 'confirmed', count: 2 },
      { rule: 'exceedance', outcome: 'dismissed', count: 1 },
      { rule: 'treatment-off', outcome: 'confirmed', count: 1 },
    ]);
    expect(monthlyReportCsv(r)).toContain('dist-landong,2026-05,rectifiedInTime,按期整改,2');
    const other = await monthlyReport(h.pool, city, 'dist-lanxi', '2026-05');
    expect(other.figures.offsiteChecks).toBe(0);
    const lanxi: Scope = { userId: 'o', role: 'district-officer', districtId: 'dist-lanxi' };
    await expect(monthlyReport(h.pool, lanxi, 'dist-landong', '2026-05')).rejects.toMatchObject({
      code: 'OUT_OF_SCOPE',
    });
  });
});

describe('reminder figures from the alerter', () => {
  it('counts delivered reminders per group and contact and their acknowledgements, by district', async () => {
    const at = (d: string) => `${d}T10:00:00+08:00`;
    const kase = (id: string, enterprise: string, group: string) =>
      h.pool.query(
        `insert into alert_cases (deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
           suspected_falsification, in_resumption_window, opened_at, event, group_key)
         values ($1, 1, 'opened', 'exceedance', 'high', $2, 'site', 'a21026', false, false, $3, '{}', $4)`,
        [id, enterprise, at('2026-04-02'), group],
      );
    await kase('d-a1', 'ent-0001', 'g-a');
    await kase('d-a2', 'ent-0001', 'g-a');
    await kase('d-b1', 'ent-0002', 'g-b');
    await kase('d-c1', 'ent-0003', 'g-c'); // Lanxi
    let n = 0;
    const note = (
      group: string,
      recipient: string,
      o: { kind?: string; channel?: string; status?: string; sentAt?: string; recipientKind?: string } = {},
    ) =>
      h.pool.query(
        `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id,
           address_masked, channel, status, sent_at)
         values ($1, $2, '{}', $3, 1, $4, $5, 'x***', $6, $7, $8)`,
        [
          `n-${(n += 1)}`,
          group,
          o.kind ?? 'reminder',
          o.recipientKind ?? 'enterprise-contact',
          recipient,
          o.channel ?? 'email',
          o.status ?? 'sent',
          o.status === 'failed' ? null : (o.sentAt ?? at('2026-04-03')),
        ],
      );
    await note('g-a', 'c1'); // group a, contact 1: email + SMS + an escalation = one reminder
    await note('g-a', 'c1', { channel: 'sms' });
    await note('g-a', 'c1', { kind: 'escalation' });
    await note('g-a', 'c2');
    await note('g-b', 'c3');
    await note('g-b', 'c4', { status: 'failed' }); // not delivered
    await note('g-b', 'sup-1', { recipientKind: 'supervisor', kind: 'supervisor-alert' });
    await note('g-b', 'c5', { sentAt: at('2026-05-01') }); // next month
    await note('g-c', 'c6');
    await note('g-c', 'c7');
    await h.pool.query(
      `insert into alert_acknowledgements (group_key, recipient_id, cause, acknowledged_at) values
         ('g-a', 'c1', '设备故障', $1), ('g-b', 'c3', '停产检修', $2), ('g-c', 'c6', '已整改', $1)`,
      [at('2026-04-04'), at('2026-05-02')],
    );
    const landong = await monthlyReport(h.pool, city, 'dist-landong', '2026-04');
    expect(landong.figures).toMatchObject({ remindersSent: 3, remindersAcknowledged: 1 });
    const lanxi = await monthlyReport(
      h.pool,
      { userId: 'o', role: 'district-officer', districtId: 'dist-lanxi' },
      'dist-lanxi',
      '2026-04',
    );
    expect(lanxi.figures).toMatchObject({ remindersSent: 2, remindersAcknowledged: 1 });
    const may = await monthlyReport(h.pool, city, 'dist-landong', '2026-05');
    expect(may.figures.remindersSent).toBe(5 + 1); // the ledger's 5 (test above) + g-b/c5
    expect(may.figures.remindersAcknowledged).toBe(3 + 1);
    expect(monthlyReportCsv(landong)).toContain('dist-landong,2026-04,remindersSent,提醒发送,3');
  });
});

describe('Fastify routes', () => {
  it('validates input and filters by the caller’s district', async () => {
    const app = Fastify();
    const scopes: Record<string, Scope> = {
      landong: { userId: 'o1', role: 'district-officer', districtId: 'dist-landong' },
      lanxi: { userId: 'o2', role: 'district-officer', districtId: 'dist-lanxi' },
    };
    await registerRegulationRoutes(app, {
      db: h.pool,
      stability,
      now: () => now,
      scope: (req) =>
        scopes[String(req.headers['x-user'])] ?? { userId: 'anon', role: 'viewer', districtId: 'none' },
    });
    // Over a real socket: Fastify's inject (light-my-request) loads an ESM-only dependency Jest cannot require.
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const inject = async (o: {
      method: string;
      url: string;
      headers: Record<string, string>;
      payload?: unknown;
    }) => {
      const res = await fetch(base + o.url, {
        method: o.method,
        headers: { ...o.headers, ...(o.payload ? { 'content-type': 'application/json' } : {}) },
        ...(o.payload ? { body: JSON.stringify(o.payload) } : {}),
      });
      const body = await res.text();
      return {
        statusCode: res.status,
        headers: { 'content-type': res.headers.get('content-type') ?? '' },
        body,
        json: <T>() => JSON.parse(body) as T,
      };
    };
    try {
      const el = await inject({
        method: 'GET',
        url: '/regulation/positive-list/eligibility',
        headers: { 'x-user': 'lanxi' },
      });
      expect(el.statusCode).toBe(200);
      const rows = el.json<{ districtId: string }[]>();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((x) => x.districtId === 'dist-lanxi')).toBe(true);
      const bad = await inject({
        method: 'POST',
        url: '/regulation/complaints',
        headers: { 'x-user': 'landong' },
        payload: { channel: 'fax', enterpriseId: 'ent-0001', urgency: 'normal', summary: 'x' },
      });
      expect(bad.statusCode).toBe(400);
      const foreign = await inject({
        method: 'POST',
        url: '/regulation/complaints',
        headers: { 'x-user': 'lanxi' },
        payload: { channel: 'web', enterpriseId: 'ent-0001', urgency: 'normal', summary: '异味' },
      });
      expect(foreign.statusCode).toBe(404);
      const ok = await inject({
        method: 'POST',
        url: '/regulation/complaints',
        headers: { 'x-user': 'landong' },
        payload: { channel: 'web', enterpriseId: 'ent-0001', urgency: 'normal', summary: '异味' },
      });
      expect(ok.statusCode).toBe(201);
      const csv = await inject({
        method: 'GET',
        url: '/regulation/reports/monthly.csv?district=dist-landong&month=2026-05',
        headers: { 'x-user': 'landong' },
      });
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      expect(csv.body).toContain('offsiteChecks');
      const draws = await inject({ method: 'GET', url: '/regulation/draws', headers: { 'x-user': 'lanxi' } });
      expect(draws.statusCode).toBe(200);
      const listed = draws.json<{ period: string; districtId: string | null }[]>();
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((d) => d.districtId === null || d.districtId === 'dist-lanxi')).toBe(true);
      const badPeriod = await inject({
        method: 'GET',
        url: '/regulation/draws?period=2026-Q9',
        headers: { 'x-user': 'lanxi' },
      });
      expect(badPeriod.statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});
