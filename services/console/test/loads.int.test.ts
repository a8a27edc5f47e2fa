// The emission loads (GET /api/data/loads and its exports) against the real Postgres and InfluxDB: loads-data.ts's
// hours, every figure hand-computed (water: mg/L × m³ × 10⁻³ = kg); scope, bounds and no data by field.
import ExcelJS from 'exceljs';
import type { LoadsResult } from '../src/loads.js';
import { createWorld, http, loginAs, type Session, type World } from './fixture.js';
import { LOADS_OUTLET, writeLoadsData } from './loads-data.js';

let w: World;

beforeAll(async () => {
  w = await createWorld();
  await writeLoadsData(w);
});
afterAll(async () => {
  await w?.close();
});

const get = (s: Session, url: string) => http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
const bytes = async (s: Session, url: string) => {
  const r = await fetch(w.base + url, { headers: { cookie: s.cookie } });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
};
const url = (path: string, q: Record<string, string>) =>
  `${path}?${new URLSearchParams({ ...LOADS_OUTLET, granularity: 'day', from: '2026-04-01T00:00:00+08:00', to: '2026-04-03T00:00:00+08:00', ...q })}`;

describe('emission loads', () => {
  it('sums concentration × flow per Shanghai day, counts excluded hours and checks the logger’s Cou', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const r = await get(s, url('/api/data/loads', {}));
    expect(r.statusCode).toBe(200);
    const b = r.json() as LoadsResult;
    expect(b.site).toMatchObject({ id: 'out-0003-w1', kind: 'water', flowFactor: 'w00000' });
    // COD, NH3-N and TP are permitted in mg/L; pH has no load.
    expect(b.factors.map((f) => f.factor)).toEqual(['w01018', 'w21003', 'w21011']);
    const cod = b.factors[0]!;
    expect(cod.annualLoadKg).toBe(2500);
    expect(b.factors[1]!.annualLoadKg).toBeNull();
    expect(cod.rows.map((x) => x.start)).toEqual(['2026-03-31T16:00:00.000Z', '2026-04-01T16:00:00.000Z']);
    // 1 April: 40 × 100 + 50 × 120 (× 10⁻³) = 10 kg; hour 2 invalid; logger 4.1 + 5.9 + 3.0 = 13 kg, compared
    // over hours 0–1 only: 10 against 10.
    const [d1, d2] = cod.rows;
    expect(d1!.computedKg).toBeCloseTo(10, 9);
    expect(d1!.reportedKg).toBeCloseTo(13, 9);
    expect([d1!.validHours, d1!.invalidHours, d1!.missingHours]).toEqual([2, 1, 21]);
    expect(d1!.check).toMatchObject({ hours: 2, flagged: false });
    expect(d1!.check!.relativeDifference).toBeCloseTo(0, 9);
    // 2 April: 30 × 200 = 6 kg against the logger's 9 kg: +50 %, flagged at the 10 % tolerance.
    expect(d2!.computedKg).toBeCloseTo(6, 9);
    expect(d2!.check!.relativeDifference).toBeCloseTo(0.5, 9);
    expect(d2!.check!.flagged).toBe(true);
    // The range: 16 kg against 19 kg over the three compared hours: 3/16.
    expect(cod.total.computedKg).toBeCloseTo(16, 9);
    expect(cod.total.check!.relativeDifference).toBeCloseTo(0.1875, 9);
    // NH3-N: 2 × 100 = 0.2 kg, no Cou sent; TP: no data, every hour missing.
    expect(b.factors[1]!.total).toMatchObject({ reportedKg: null, check: null, validHours: 1 });
    expect(b.factors[1]!.total.computedKg).toBeCloseTo(0.2, 9);
    expect(b.factors[2]!.total).toMatchObject({ computedKg: 0, validHours: 0, missingHours: 48 });
  });

  it('per hour and per month (clipped to the range)', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const hours = (
      await get(
        s,
        url('/api/data/loads', { granularity: 'hour', factor: 'w01018', to: '2026-04-01T04:00:00+08:00' }),
      )
    ).json() as LoadsResult;
    // An hour's total: the invalid hour 2 and the empty hour 3 add 0 kg, counted as invalid and missing.
    const rows = hours.factors[0]!.rows;
    expect(rows.map((x) => Math.round(x.computedKg * 1e9) / 1e9)).toEqual([4, 6, 0, 0]);
    expect(rows.map((x) => x.reportedKg)).toEqual([4.1, 5.9, 3, null]);
    expect(rows.map((x) => [x.validHours, x.invalidHours, x.missingHours])).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const month = (
      await get(s, url('/api/data/loads', { granularity: 'month', factor: 'w01018' }))
    ).json() as LoadsResult;
    expect(month.factors[0]!.rows).toHaveLength(1);
    expect(month.factors[0]!.rows[0]!.computedKg).toBeCloseTo(16, 9);
    expect(month.factors[0]!.rows[0]!.hours).toBe(48);
  });

  it('exports the loads as xlsx and CSV with Chinese headers and Beijing times', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const x = await bytes(s, url('/api/data/loads.xlsx', { factor: 'w01018' }));
    expect(x.status).toBe(200);
    expect(x.headers.get('content-disposition')).toBe(
      'attachment; filename="out-0003-w1-loads-day-20260401.xlsx"',
    );
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(x.body as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).getCell(7).value).toBe('排放量（kg，浓度×流量）');
    expect(sheet.getRow(2).getCell(1).value).toBe('2026-04-01 00:00:00');
    expect(sheet.getRow(2).getCell(5).value).toBe('化学需氧量（w01018）');
    expect(sheet.getRow(2).getCell(7).value).toBe(10);
    expect(sheet.getRow(2).getCell(8).value).toBe(13);
    expect(sheet.getRow(3).getCell(13).value).toBe('是');
    const c = await bytes(s, url('/api/data/loads.csv', { factor: 'w01018' }));
    expect(c.status).toBe(200);
    const text = c.body.toString('utf8');
    expect(text).toContain('排放量（kg，数采仪累计值）');
    expect(text).toContain('2026-04-02 00:00:00');
  });

  it('refuses a long range, no data, a meter and another district’s outlet, by field', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const long = await get(
      s,
      url('/api/data/loads', { granularity: 'hour', to: '2026-05-03T00:00:00+08:00' }),
    );
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'to' });
    expect((long.json() as { message: string }).message).toMatch(/31 天/);
    const none = await get(
      s,
      url('/api/data/loads', { from: '2026-05-01T00:00:00+08:00', to: '2026-05-02T00:00:00+08:00' }),
    );
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ code: 'NO_DATA', field: 'from' });
    const officer = await loginAs(w.base, 'officer-dist-landong');
    const other = await get(officer, url('/api/data/loads', {}));
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ field: 'enterprise' });
    const unknown = await get(s, url('/api/data/loads', { site: 'out-none' }));
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND', field: 'site' });
  });
});
