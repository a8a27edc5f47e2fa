// A district's monthly submission with its measured figures on the real Postgres and InfluxDB (loads-data.ts's
// April 2026 hours of out-0003-w1, dist-lanxi): a draft is saved, replaced and seen only in its district and by
// the city, and is no submission (the status stays missing); submitting freezes the article, the cases and the
// figures of that moment — the counts, the 传输有效率 with the devices below 90 %, the emission loads against the
// permit's share of the month — and removes the draft; the live figures move on while the version keeps its
// own; a resubmission with its reason freezes the new ones. The version's CSV has the loads and rewards rows.
import type { SubmissionFigures } from '@offsite/regulation';
import { CASES, createWorld, http, loginAs, sendAs, type Session, type World } from './fixture.js';
import { writeLoadsData } from './loads-data.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
  await writeLoadsData(w);
});
afterAll(async () => {
  await w?.close();
});

interface View {
  status: string;
  versions: { id: string; version: number }[];
  latest: { id: string; version: number; figures: SubmissionFigures; articleHtml: string } | null;
  draft: { articleHtml: string; caseIds: string[]; savedBy: string } | null;
  code?: string;
  field?: string;
}
const APRIL = '/api/submissions/monthly/2026-04';
const send = <T = View>(s: Session, method: string, url: string, body?: object) =>
  sendAs<T>(w.base, s, method, url, body);
const versions = async () =>
  Number((await w.pool.query(`select count(*)::int as n from submission_versions`)).rows[0].n);
const annualLoad = (factor: string, kg: number) =>
  w.pool.query(
    `update permit_limits set annual_load_kg = $2 where outlet_id = 'out-0003-w1' and factor_code = $1`,
    [factor, kg],
  );
const load = (f: SubmissionFigures, factor: string) => f.loads!.rows.find((r) => r.factor === factor)!;

it('draft → submit → frozen figures with 传输有效率 and loads → resubmit with a reason', async () => {
  const officer = await loginAs(w.base, 'officer-dist-lanxi');
  const other = await loginAs(w.base, 'officer-dist-landong');
  const city = await loginAs(w.base, 'supervisor');
  // Lanxi's devices registered before April (the fixture registers them today): expected to send in April.
  await w.pool.query(
    `update devices set created_at = '2026-01-01T00:00:00Z' where outlet_id in
       (select o.id from outlets o join enterprises e on e.id = o.enterprise_id where e.district_id = 'dist-lanxi')`,
  );
  // NH3-N permitted at 1 kg a year: April's share is 1 × 30/365 kg, below its 0.2 kg.
  await annualLoad('w21003', 1);

  // A draft: saved, replaced, not a submission.
  expect(
    (await send(officer, 'PUT', `${APRIL}/draft`, { articleHtml: '', caseIds: ['dev-landong-exceed-1'] }))
      .body,
  ).toMatchObject({ code: 'INVALID_INPUT', field: 'caseIds' });
  expect(
    (await send(officer, 'PUT', `${APRIL}/draft`, { articleHtml: '<p>初稿</p>', caseIds: [] })).status,
  ).toBe(200);
  const saved = await send(officer, 'PUT', `${APRIL}/draft`, {
    articleHtml: '<p>四月亮点</p><script>x()</script>',
    caseIds: [CASES.lanxi],
  });
  expect(saved.status).toBe(200);
  const draft = (await send(officer, 'GET', APRIL)).body;
  expect(draft.draft).toMatchObject({ articleHtml: '<p>四月亮点</p>', caseIds: [CASES.lanxi] });
  expect(draft.status).toBe('missing'); // April's due day is past: the draft does not count
  expect(draft.versions).toEqual([]);
  expect((await send(other, 'GET', `${APRIL}?district=dist-lanxi`)).status).toBe(404);
  expect((await send(city, 'GET', `${APRIL}?district=dist-lanxi`)).body.draft?.caseIds).toEqual([
    CASES.lanxi,
  ]);
  const status = await send<{ districts: { districtId: string; status: string }[] }>(
    city,
    'GET',
    '/api/submissions/status?kind=monthly&period=2026-04',
  );
  expect(status.body.districts.find((d) => d.districtId === 'dist-lanxi')?.status).toBe('missing');

  // Submit: the draft's content and the figures of this moment, frozen.
  const v1 = await send<{ id: string; figures: SubmissionFigures }>(officer, 'POST', APRIL, {
    articleHtml: draft.draft!.articleHtml,
    caseIds: draft.draft!.caseIds,
  });
  expect(v1.status).toBe(201);
  const f1 = v1.body.figures;
  expect(f1.rewards).toEqual({ approved: 0, amountYuan: 0 });
  expect(f1.transmission).toMatchObject({ threshold: 0.9 });
  // No minute data of Lanxi's devices in April: 0 %, each device flagged.
  expect(f1.transmission!.effectiveRate).toBe(0);
  expect(f1.transmission!.devicesBelow!.map((d) => d.mn)).toContain('99010301WW00030000000001');
  // COD 16 kg in April against 2500 kg a year: 205.479 kg for April's 30 days of 365.
  expect(load(f1, 'w01018')).toMatchObject({ outletId: 'out-0003-w1', permitAnnualKg: 2500, above: false });
  expect(load(f1, 'w01018').loadKg).toBeCloseTo(16, 9);
  expect(load(f1, 'w01018').permitMonthKg).toBeCloseTo((2500 * 30) / 365, 9);
  expect(load(f1, 'w21003').loadKg).toBeCloseTo(0.2, 9);
  expect(load(f1, 'w21003').above).toBe(true);
  const after = (await send(officer, 'GET', APRIL)).body;
  expect(after.draft).toBeNull();
  expect(after.status).toBe('late');

  // The live figures move (COD's permit cut to 100 kg a year), the version keeps its own.
  await annualLoad('w01018', 100);
  const live = await http(w.base, {
    method: 'GET',
    url: '/api/regulation/reports/monthly?district=dist-lanxi&month=2026-04',
    headers: { cookie: city.cookie },
  });
  expect(
    (live.json() as { loads: SubmissionFigures['loads'] }).loads!.rows.find((r) => r.factor === 'w01018'),
  ).toMatchObject({ permitAnnualKg: 100, above: true });
  const frozen = await send<{ figures: SubmissionFigures }>(
    city,
    'GET',
    `/api/submissions/versions/${v1.body.id}`,
  );
  expect(load(frozen.body.figures, 'w01018')).toMatchObject({ permitAnnualKg: 2500, above: false });

  // Resubmitting needs its reason and freezes the figures of now.
  expect((await send(officer, 'POST', APRIL, { articleHtml: '<p>补充</p>', caseIds: [] })).body.field).toBe(
    'reason',
  );
  expect(await versions()).toBe(1);
  const v2 = await send<{ version: number; figures: SubmissionFigures }>(officer, 'POST', APRIL, {
    articleHtml: '<p>补充</p>',
    caseIds: [],
    reason: '许可排放量调整',
  });
  expect(v2.body.version).toBe(2);
  expect(load(v2.body.figures, 'w01018')).toMatchObject({ permitAnnualKg: 100, above: true });

  // The frozen version as CSV: the counts, the rewards, the 传输有效率 and the loads.
  const csv = await fetch(`${w.base}/api/submissions/versions/${v1.body.id}/figures.csv`, {
    headers: { cookie: city.cookie },
  });
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-disposition')).toBe(
    'attachment; filename="submission-dist-lanxi-2026-04-v1.csv"',
  );
  const text = await csv.text();
  expect(text).toContain('区县 District,月份 Month,指标 Metric,指标名称 Name,数值 Value');
  expect(text).toContain('dist-lanxi,2026-04,rewardsApproved,举报奖励（批准）,0');
  expect(text).toContain('dist-lanxi,2026-04,rewardsAmountYuan,举报奖励金额（元）,0');
  expect(text).toContain('dist-lanxi,2026-04,effectiveTransmissionRatePct,传输有效率（%）,0.0');
  expect(text).toMatch(/dist-lanxi,2026-04,loadKg:out-0003-w1:w01018,排放量（[^）]+w01018，kg）,16\r\n/);
  expect(text).toMatch(/loadPermitMonthKg:out-0003-w1:w01018,[^,]+,205\.479\r\n/);
  expect(
    (
      await fetch(`${w.base}/api/submissions/versions/${v1.body.id}/figures.csv`, {
        headers: { cookie: other.cookie },
      })
    ).status,
  ).toBe(404);
});
