// The peers and cross-device cross-checks' evidence on the case page (Chromium): each figure as a row of a table
// with headers — the figure, the outlet's value, the peers' median or the other device's value, the robust z or the
// threshold, the verdict — in Chinese and in English, no raw JSON, and no serious accessibility violation (axe-core).
import {
  crossDeviceDeviation,
  defaultConfig,
  judgeDevices,
  judgePeers,
  peersDeviation,
  type DeviationOutput,
  type PeerOutletFigures,
} from '@offsite/domain';
import { describeViolations, seriousViolations } from './axe.js';
import { loginPage, pageSuite } from './chromium.js';
import { insertAlertCase, type World } from './fixture.js';

const HOUR = 3_600_000;
const DAY_START = Date.parse('2026-11-28T00:00:00+08:00');
const END = DAY_START + 24 * HOUR;
const PEERS_ID = 'dev-ent-0001-peers-1';
const DEVICES_ID = 'dev-ent-0001-cross-device-1';

/** Six kilns' SO2 figures; the sixth (ent-0001's outlet here) far below on concentration, far above on the rest. */
function peersCase(): DeviationOutput {
  const rows: [number, number, number, number][] = [
    [0.4, 1.5, 0.05, 2],
    [0.42, 1.52, 0.06, 3],
    [0.44, 1.48, 0.04, 4],
    [0.46, 1.5, 0.05, 3],
    [0.48, 1.51, 0.06, 2],
    [0.05, 1.5, 0.4, 40],
  ];
  const outlets: PeerOutletFigures[] = rows.map(([c, r, b, m], i) => ({
    enterpriseId: i === 5 ? 'ent-0001' : `ent-x${i}`,
    siteId: i === 5 ? 'out-0001-g1' : `out-x${i}`,
    group: 'ceramics-kiln',
    factor: 'a21026',
    figures: { concentration: c, 'conversion-ratio': r, 'below-limit-share': b, 'maintenance-hours': m },
  }));
  return peersDeviation({
    enterpriseId: 'ent-0001',
    siteId: 'out-0001-g1',
    factor: 'a21026',
    window: { start: END - 30 * 24 * HOUR, end: END },
    judgements: judgePeers(outlets).filter((j) => j.siteId === 'out-0001-g1'),
    counts: null,
    previous: null,
    rules: defaultConfig.rules.peers,
  })!;
}

/** Two devices of one stack: SO2 50 against 40 in 13 of 24 hours (49 after), O2 7 against 7.3 throughout. */
function devicesCase(): DeviationOutput {
  const minutes = [];
  for (let h = 0; h < 24; h++)
    for (let k = 0; k < 6; k++) {
      const time = DAY_START + h * HOUR + k * 600_000;
      const m = (device: string, factor: string, value: number) => ({
        device,
        factor,
        time,
        value,
        flag: 'N',
      });
      minutes.push(m('MN-A', 'a21026', 50), m('MN-B', 'a21026', h < 13 ? 40 : 49));
      minutes.push(m('MN-A', 'a19001', 7), m('MN-B', 'a19001', 7.3));
    }
  const rules = defaultConfig.rules.crossDevice;
  return crossDeviceDeviation({
    enterpriseId: 'ent-0001',
    siteId: 'out-0001-g1',
    day: { start: DAY_START, end: END },
    judgement: judgeDevices(minutes, ['MN-A', 'MN-B'], () => rules),
    previous: null,
    rules,
  })!;
}

async function insert(w: World, id: string, d: DeviationOutput, summary: string): Promise<void> {
  await insertAlertCase(w.pool, {
    schema: 'deviation.v1',
    id,
    rule: d.rule as 'peers' | 'cross-device',
    state: 'opened',
    revision: 1,
    severity: 'medium',
    enterpriseId: d.enterpriseId,
    siteId: d.siteId,
    ...(d.factor ? { factor: d.factor } : {}),
    windowStart: new Date(d.windowStart).toISOString(),
    windowEnd: new Date(d.windowEnd!).toISOString(),
    openedAt: new Date(END).toISOString(),
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      summary,
      values: [],
      params: { ...d.evidence, domainRule: d.rule, domainSeverity: d.severity, subject: d.subject },
    },
    emittedAt: new Date(END + HOUR).toISOString(),
  });
}

const suite = pageSuite(async (w) => {
  await insert(w, PEERS_ID, peersCase(), 'far off the outlets of the same process');
  await insert(w, DEVICES_ID, devicesCase(), 'readings of one stack that cannot all be true');
});

/** The figures table's header and row texts, trimmed. */
async function table(id: string) {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/case/${id}`);
  const box = page.locator('[data-test=cross-check-figures]');
  await box.locator('tbody tr').first().waitFor();
  const read = async () => ({
    headers: (await box.locator('thead th').allTextContents()).map((h) => h.trim()),
    rows: await box
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
      ),
    words: (await box.locator('[data-test=cross-check-figures-words]').textContent()) ?? '',
    text: (await box.textContent()) ?? '',
  });
  return { page, box, read };
}

it("a peers case shows each figure against the peers' median with its robust z, in both languages", async () => {
  const { page, read } = await table(PEERS_ID);
  const zh = await read();
  expect(zh.headers).toEqual([
    '指标',
    '本排口数值',
    '同工艺排口中位数',
    '稳健 z 值（阈值 |z| ≥ 3.5）',
    '结论',
  ]);
  // Others 0.40–0.48 → median 0.44, MAD 0.02 (floor 0.05 × 0.44 = 0.022) → z = (0.05 − 0.44) / (1.4826 × 0.022).
  expect(zh.rows[0]).toEqual([
    '二氧化硫 SO₂ 浓度中位数占限值比例',
    '5.0%',
    '44.0%（5 个排口）',
    '-11.96',
    '明显偏离同行，异常',
  ]);
  expect(zh.rows.map((r) => r[4])).toEqual([
    '明显偏离同行，异常',
    '正常',
    '明显偏离同行，异常',
    '明显偏离同行，异常',
  ]);
  expect(zh.words).toContain('工艺 ceramics-kiln');
  expect(zh.text).not.toContain('{');
  expect(describeViolations(`#/case/${PEERS_ID}`, await seriousViolations(page))).toBe('');
  await page.click('[data-test=lang]');
  const en = await read();
  expect(en.headers).toEqual([
    'Figure',
    "This outlet's value",
    "Peers' median",
    'Robust z (flagged at |z| ≥ 3.5)',
    'Verdict',
  ]);
  expect(en.rows[0]).toEqual([
    'Sulphur dioxide SO₂ Median concentration as a share of the limit',
    '5.0%',
    '44.0% (5 outlets)',
    '-11.96',
    'far off its peers: flagged',
  ]);
  await page.click('[data-test=lang]');
  await page.close();
});

it("a cross-device case shows each factor's device against the other device with the tolerance, in both languages", async () => {
  const { page, read } = await table(DEVICES_ID);
  const zh = await read();
  expect(zh.headers).toEqual(['指标', '本排口数值', '另一设备数值', '判定阈值', '结论']);
  expect(zh.rows).toEqual([
    [
      '氧含量：设备 MN-A 的小时均值中位数',
      '7',
      '7.3（设备 MN-B）',
      '容差 max(10%, 1)；0/24 小时超出',
      '正常',
    ],
    [
      '二氧化硫 SO₂：设备 MN-A 的小时均值中位数',
      '50',
      '40（设备 MN-B）',
      '容差 max(10%, 1)；13/24 小时超出',
      '异常',
    ],
  ]);
  expect(zh.words).toContain('2026-11-28');
  expect(zh.text).not.toContain('{');
  expect(describeViolations(`#/case/${DEVICES_ID}`, await seriousViolations(page))).toBe('');
  await page.click('[data-test=lang]');
  const en = await read();
  expect(en.headers).toEqual([
    'Figure',
    "This outlet's value",
    "The other device's value",
    'Threshold',
    'Verdict',
  ]);
  expect(en.rows[1]).toEqual([
    "Sulphur dioxide SO₂: device MN-A's median hourly value",
    '50',
    '40 (device MN-B)',
    'tolerance max(10 %, 1); 13 of 24 hours beyond it',
    'flagged',
  ]);
  await page.click('[data-test=lang]');
  await page.close();
});

it("the enterprise's page lists its outlets with kind, process (the peers' group) and reference O2", async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/enterprise/ent-0001`);
  const outlets = page.locator('[data-test=enterprise-outlets]');
  await outlets.locator('tbody tr').first().waitFor();
  expect((await outlets.locator('thead th').allTextContents()).map((h) => h.trim())).toEqual([
    '排放口',
    '名称',
    '类型',
    '工艺（同行比对分组）',
    '基准氧含量',
  ]);
  const row = (await outlets.locator('tbody tr').first().locator('td').allTextContents()).map((c) =>
    c.trim(),
  );
  expect(row[0]).toBe('out-0001-g1');
  expect(row[2]).toBe('废气');
  expect(row[3]).toBe('coal-boiler');
  expect(row[4]).toMatch(/^\d+(\.\d+)? %$/);
  expect(describeViolations('#/enterprise/ent-0001', await seriousViolations(page))).toBe('');
  await page.click('[data-test=lang]');
  expect((await outlets.locator('thead th').allTextContents()).map((h) => h.trim())[3]).toBe(
    'Process (peer group)',
  );
  await page.click('[data-test=lang]');
  await page.close();
});
