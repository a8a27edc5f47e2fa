// The emissions-against-production cross-check in the console (Chromium): the case page shows its evidence as tables
// with headers and words in both languages (no raw JSON), and the overview lists the risk score with its reasons,
// for staff only, as does the enterprise's page; the draw weights the scored enterprise by its score.
import {
  defaultConfig,
  judgeProductionEmission,
  productionEmissionDeviation,
  type EmissionEnergyHour,
} from '@offsite/domain';
import { loginPage, pageSuite } from './chromium.js';
import { insertAlertCase, loginAs, sendAs, type World } from './fixture.js';

const HOUR = 3_600_000;
const DAY_START = Date.parse('2026-03-02T00:00:00+08:00');
const ID = 'dev-ent-0003-production-emission-1';

/** 30 usual days (flow 100 m³ at 100 kWh), then a day at 20 m³ while production draws 110 kWh. */
function evidenceParams(): Record<string, unknown> {
  const hours: EmissionEnergyHour[] = [];
  for (let i = 0; i < 31 * 24; i++) {
    const start = DAY_START - 30 * 24 * HOUR + i * HOUR;
    const day = start >= DAY_START;
    hours.push({
      start,
      energyKwh: day ? 110 : 100,
      flowM3: day ? 20 : 95 + (i % 11),
      loadKg: day ? 0.5 : 4,
    });
  }
  const input = {
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    day: { start: DAY_START, end: DAY_START + 24 * HOUR },
    hours,
    previous: null,
    rules: defaultConfig.rules.productionEmission,
  };
  const d = productionEmissionDeviation(input, judgeProductionEmission(input))!;
  return { ...d.evidence, domainRule: d.rule, domainSeverity: d.severity, subject: d.subject };
}

async function seed(w: World): Promise<void> {
  await insertAlertCase(w.pool, {
    schema: 'deviation.v1',
    id: ID,
    rule: 'production-emission',
    state: 'opened',
    revision: 1,
    severity: 'medium',
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    windowStart: new Date(DAY_START).toISOString(),
    windowEnd: new Date(DAY_START + 24 * HOUR).toISOString(),
    openedAt: new Date(DAY_START + 24 * HOUR).toISOString(),
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      summary: 'emissions out of line with the production energy',
      values: [],
      params: evidenceParams(),
    },
    emittedAt: new Date(DAY_START + 25 * HOUR).toISOString(),
  });
  await w.pool.query(
    `insert into analyzer_risk_components (enterprise_id, check_name, points, reasons, as_of)
     values ('ent-0003', 'production-emission', 20, $1, $2)`,
    [
      JSON.stringify([
        {
          check: 'production-emission',
          points: 20,
          zh: '近 30 天内有 1 个排口日排放量与生产用电不匹配，最近一次为 2026-03-02',
          en: 'emissions out of line with production energy on 1 outlet-day in the last 30 days; latest 2026-03-02',
        },
      ]),
      new Date(DAY_START + 24 * HOUR),
    ],
  );
}

const suite = pageSuite(seed);

it('the case shows the hours compared and the baseline median, MAD and z-score in tables, in both languages', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/case/${ID}`);
  const box = page.locator('[data-test=cross-check-evidence]');
  await box.waitFor();
  expect(await page.locator('[data-test=evidence-summary]').textContent()).toContain(
    '流量：高负荷 24 小时中 24 小时偏低',
  );
  expect(await box.locator('[data-test=cross-check-words]').textContent()).toContain('基线为此前 30 天');
  const headers = await box.locator('[data-test=cross-check-metrics] thead th').allTextContents();
  expect(headers.map((h) => h.trim())).toEqual([
    '指标',
    '基线中位数',
    '基线 排放/用电 中位数',
    '中位数绝对偏差 (MAD)',
    '当日 排放/用电 中位数',
    '稳健 z 值',
    '高负荷小时中排放偏低',
    '结论',
  ]);
  const flow = (await box.locator('[data-test=cross-check-metrics] tbody tr').first().allTextContents())[0]!;
  // Baseline 1 m³/kWh, the day 20 / 110 = 0.1818; MAD 0.02, floor 0.05 → scale 0.0741, z = (0.1818 − 1) / 0.0741.
  expect(flow).toContain('流量');
  expect(flow).toContain('100 m³');
  expect(flow).toContain('0.1818');
  expect(flow).toContain('-11.04');
  expect(flow).toContain('生产高负荷时排放明显偏低');
  expect(await box.locator('[data-test=cross-check-hours] tbody tr').count()).toBe(24);
  expect(await box.textContent()).not.toContain('{');
  await page.click('[data-test=lang]');
  expect(await box.locator('[data-test=cross-check-words]').textContent()).toContain(
    'the baseline is the running hours of the 30 days before',
  );
  expect(await box.textContent()).toContain('emissions low while production ran hard');
  await page.click('[data-test=lang]');
  await page.close();
});

it('the overview lists the risk score with its reasons for staff; enterprises are refused the scores', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.click('[data-test=nav-overview]');
  const risk = page.locator('[data-test=risk-scores]');
  await risk.locator('tbody tr').first().waitFor();
  const row = (await risk.locator('tbody tr').first().textContent())!;
  expect(row).toContain('20');
  expect(row).toContain('近 30 天内有 1 个排口日排放量与生产用电不匹配');
  expect(row).toContain('（20 分）');
  await page.close();
  const ent = await loginAs(suite.w.base, 'ent-0003-user');
  expect((await sendAs(suite.w.base, ent, 'GET', '/api/risk-scores')).status).toBe(403);
});

it("the enterprise's page shows its score and reasons to staff in both languages, never to the enterprise", async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/enterprise/ent-0003`);
  const risk = page.locator('[data-test=enterprise-risk]');
  await risk.waitFor();
  expect(await risk.locator('[data-test=enterprise-risk-score]').textContent()).toContain('评分: 20 / 100');
  expect(await risk.locator('[data-test=enterprise-risk-reasons]').textContent()).toContain(
    '近 30 天内有 1 个排口日排放量与生产用电不匹配，最近一次为 2026-03-02 (20 分)',
  );
  await page.click('[data-test=lang]');
  expect(await risk.locator('[data-test=enterprise-risk-reasons]').textContent()).toContain(
    'emissions out of line with production energy on 1 outlet-day in the last 30 days; latest 2026-03-02 (20 points)',
  );
  await page.click('[data-test=lang]');
  // An enterprise without a finding: a score of 0 in words, not an empty section.
  await page.goto(`${suite.w.base}/#/enterprise/ent-0001`);
  await page.locator('[data-test=enterprise-risk-score]', { hasText: '评分为 0' }).waitFor();
  await page.close();

  const ent = await loginAs(suite.w.base, 'ent-0003-user');
  expect((await sendAs(suite.w.base, ent, 'GET', '/api/enterprises/ent-0003/risk')).status).toBe(403);
  // Its own enterprise page is a bureau page: the enterprise's user lands on its portal, which has no score.
  const mine = await loginPage(suite.chromium.browser, suite.w.base, 'ent-0003-user');
  await mine.goto(`${suite.w.base}/#/enterprise/ent-0003`);
  await mine.waitForURL(/#\/portal$/);
  await mine.locator('[data-test=portal-summary]').waitFor();
  expect(await mine.locator('[data-test=enterprise-risk]').count()).toBe(0);
  expect(await mine.content()).not.toContain('风险评分');
  await mine.close();
  // A district officer of another district: 404, as for the enterprise itself; of its district: the score.
  const other = await loginAs(suite.w.base, 'officer-dist-landong');
  expect((await sendAs(suite.w.base, other, 'GET', '/api/enterprises/ent-0003/risk')).status).toBe(404);
  const own = await loginAs(suite.w.base, 'officer-dist-lanxi');
  const r = await sendAs<{ score: number }>(suite.w.base, own, 'GET', '/api/enterprises/ent-0003/risk');
  expect(r.status).toBe(200);
  expect(r.body.score).toBe(20);
});
