// The data browser's API (GET /api/data/series) against the real Postgres and InfluxDB: scope, range
// bounds, downsampling, flags, validity and converted values, permit limits, meter pairs, errors.
import ExcelJS from 'exceljs';
import type { BrowseResult, BrowseSeries } from '../src/data-browser.js';
import { DAYS, FEB, MN, writeBrowseData } from './data-fixture.js';
import { createWorld, http, loginAs, type Session, type World } from './fixture.js';

let w: World;

beforeAll(async () => {
  w = await createWorld();
  await writeBrowseData(w);
});
afterAll(async () => {
  await w.close();
});

const get = (s: Session, url: string) => http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
const iso = (s: number) => new Date(s * 1000).toISOString();
const series = (q: Record<string, string>) => `/api/data/series?${new URLSearchParams(q)}`;
const outletDay = {
  enterprise: 'ent-0002',
  site: 'out-0002-g1',
  granularity: 'hour',
  factor: 'a21002',
  from: '2026-02-01T00:00:00+08:00',
  to: '2026-02-02T00:00:00+08:00',
};

describe('data browser API', () => {
  it('answers an outlet’s hourly data with flags, converted values, validity and the permit limit', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const r = await get(s, series(outletDay));
    expect(r.statusCode).toBe(200);
    const b = r.json() as BrowseResult;
    expect(b.bucketSeconds).toBeNull();
    expect(b.site).toMatchObject({ id: 'out-0002-g1', kind: 'outlet', nameZh: '燃气锅炉烟囱' });
    const avg = b.series.find((x: BrowseSeries) => x.field === 'Avg')!;
    expect(avg).toMatchObject({ factor: 'a21002', device: MN, interval: 'hour', unit: 'mg/m3' });
    expect(avg.points).toHaveLength(24);
    expect(avg.points[0]).toEqual([iso(FEB), 100]);
    expect(avg.flags).toEqual([
      [iso(FEB), 'D'],
      [iso(FEB + 10 * 3600), 'D'],
      [iso(FEB + 20 * 3600), 'D'],
    ]);
    expect(b.series.find((x: BrowseSeries) => x.field === 'ZsAvg')!.points[1]).toEqual([
      iso(FEB + 3600),
      121,
    ]);
    expect(b.aggregates).toHaveLength(24);
    expect(b.aggregates[5]).toMatchObject({ factor: 'a21002', converted: 125, valid: false, flag: 'D' });
    expect(b.aggregates[6]).toMatchObject({ converted: 126, valid: true, flag: 'N' });
    expect(b.limits).toEqual([
      { factor: 'a21002', basis: 'hourly', value: 150, lowerValue: null, unit: 'mg/m3', converted: true },
    ]);
  });

  it('downsamples a long range to bucket means aligned on Beijing midnight, counting flagged points', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const r = await get(
      s,
      series({ ...outletDay, from: '2026-02-01T00:00:00+08:00', to: '2026-05-12T00:00:00+08:00' }),
    );
    expect(r.statusCode).toBe(200);
    const b = r.json() as BrowseResult;
    // 100 days / 2,000 points → 4,320 s → the next bucket size, 2 h.
    expect(b.bucketSeconds).toBe(7200);
    const avg = b.series.find((x: BrowseSeries) => x.field === 'Avg')!;
    expect(avg.points).toHaveLength(DAYS * 12);
    // The first bucket holds hours 0 and 1 of 1 February (Beijing): mean of 100 and 101.
    expect(avg.points[0]).toEqual([iso(FEB), 100.5]);
    expect(avg.flags).toEqual([]);
    // Hour 0 flagged in the first bucket; hours 10 and 20 in the 6th and 11th.
    expect(avg.flaggedCounts.slice(0, 3)).toEqual([
      [iso(FEB), 1],
      [iso(FEB + 10 * 3600), 1],
      [iso(FEB + 20 * 3600), 1],
    ]);
  });

  it('shows a treatment meter beside the production meter it serves', async () => {
    const s = await loginAs(w.base, 'officer-dist-landong');
    const r = await get(
      s,
      series({ ...outletDay, site: 'mtr-0002-t1', factor: '', granularity: 'hour' }).replace(
        '&factor=',
        '&x=',
      ),
    );
    // An unknown query parameter is refused by name.
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'x' });
    const q = { ...outletDay, site: 'mtr-0002-t1' } as Record<string, string>;
    delete q.factor;
    const ok = await get(s, series(q));
    expect(ok.statusCode).toBe(200);
    const b = ok.json() as BrowseResult;
    expect(b.meters).toEqual([
      { id: 'mtr-0002-p1', role: 'production' },
      { id: 'mtr-0002-t1', role: 'treatment' },
    ]);
    expect(b.bucketSeconds).toBe(3600);
    const byRole = Object.fromEntries(b.series.map((x) => [x.role ?? '', x]));
    expect(byRole.production!.points).toHaveLength(24);
    expect(byRole.production!.points[0]).toEqual([iso(FEB), 80]);
    expect(byRole.production!.points[12]).toEqual([iso(FEB + 12 * 3600), 0]);
    expect(byRole.treatment!.points[0]).toEqual([iso(FEB), 12]);
    expect(byRole.treatment!.unit).toBe('kW');
  });

  it('keeps officers to their district and enterprise users to their enterprise (404 naming the field)', async () => {
    const officer = await loginAs(w.base, 'officer-dist-lanxi');
    const r = await get(officer, series(outletDay));
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'NOT_FOUND', field: 'enterprise' });
    const ent = await loginAs(w.base, 'ent-0003-user');
    expect((await get(ent, series(outletDay))).statusCode).toBe(404);
    // Its own enterprise: the outlet exists, the range holds no data.
    const own = await get(ent, series({ ...outletDay, enterprise: 'ent-0003', site: 'out-0003-w1' }));
    expect(own.statusCode).toBe(404);
    expect(own.json()).toMatchObject({ code: 'NO_DATA', field: 'from' });
    expect((own.json() as { message: string }).message).toMatch(/没有小时数据 .* no hourly data/);
    const viewer = await loginAs(w.base, 'viewer');
    expect((await get(viewer, series(outletDay))).statusCode).toBe(200);
  });

  it('refuses a too-long range, an end before the start, an unknown outlet or device, by field', async () => {
    const s = await loginAs(w.base, 'admin');
    const long = await get(
      s,
      series({ ...outletDay, granularity: 'realtime', to: '2026-02-02T00:00:01+08:00' }),
    );
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'to' });
    expect((long.json() as { message: string }).message).toMatch(/实时数据一次最多查询 1 天.*at most 1 days/);
    const year = await get(s, series({ ...outletDay, to: '2027-02-03T00:00:00+08:00' }));
    expect(year.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'to' });
    const back = await get(s, series({ ...outletDay, to: outletDay.from }));
    expect(back.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'to' });
    const site = await get(s, series({ ...outletDay, site: 'out-9999-g1' }));
    expect(site.statusCode).toBe(404);
    expect(site.json()).toMatchObject({ code: 'NOT_FOUND', field: 'site' });
    // Another enterprise's outlet is not this enterprise's.
    const other = await get(s, series({ ...outletDay, site: 'out-0003-w1' }));
    expect(other.json()).toMatchObject({ code: 'NOT_FOUND', field: 'site' });
    const dev = await get(s, series({ ...outletDay, device: 'NOT-HERE' }));
    expect(dev.json()).toMatchObject({ code: 'NOT_FOUND', field: 'device' });
    const noZone = await get(s, series({ ...outletDay, from: '2026-02-01T00:00:00' }));
    expect(noZone.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'from' });
    expect((await get(s, series({ ...outletDay, device: MN }))).statusCode).toBe(200);
  });
});

describe('data browser exports', () => {
  const file = (format: string, q: Record<string, string>) =>
    `/api/data/export.${format}?${new URLSearchParams(q)}`;
  const bytes = async (s: Session, url: string) => {
    const r = await fetch(w.base + url, { headers: { cookie: s.cookie } });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  };

  it('writes an Excel workbook with Chinese headers, units, Beijing times, flags and converted values', async () => {
    const s = await loginAs(w.base, 'officer-dist-landong');
    const r = await bytes(s, file('xlsx', outletDay));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="out-0002-g1-hour-20260201.xlsx"',
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(r.body as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('监测数据')!;
    expect(ws.getRow(1).values).toEqual([
      undefined,
      '时间（北京时间）',
      '企业',
      '排放口',
      '监测设备',
      '监测因子',
      '数据类型',
      '单位',
      '均值（Avg）',
      '折算均值（ZsAvg）',
      '数据标记',
      '分析器均值',
      '折算值',
      '是否有效',
      '分析器标记',
      '数据覆盖率（%）',
    ]);
    expect(ws.rowCount).toBe(25);
    expect(ws.getRow(2).values).toEqual([
      undefined,
      '2026-02-01 00:00:00',
      '青澜港城供热有限公司',
      'out-0002-g1',
      MN,
      '氮氧化物（a21002）',
      '小时数据',
      'mg/m3',
      100,
      120,
      'D',
      100,
      120,
      '有效',
      'N',
      100,
    ]);
    // Hour 5: the analyzer judged it invalid (flag D).
    expect(ws.getRow(7).getCell(1).value).toBe('2026-02-01 05:00:00');
    expect(ws.getRow(7).getCell(13).value).toBe('无效');
    expect(ws.getRow(7).getCell(14).value).toBe('D');
    const about = wb.getWorksheet('查询条件')!;
    expect(about.getRow(6).values).toEqual([
      undefined,
      '许可限值 氮氧化物（a21002） 小时均值',
      '150 mg/m3（折算）',
    ]);
  });

  it('writes CSV in UTF-8 with a byte-order mark; downsampled ranges say so and count flagged points', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const r = await bytes(s, file('csv', { ...outletDay, to: '2026-05-12T00:00:00+08:00' }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect([...r.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = r.body.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      '时间（北京时间）,企业,排放口,监测设备,监测因子,数据类型,单位,均值（Avg）,折算均值（ZsAvg）,异常标记点数,分析器均值,折算值,是否有效,分析器标记,数据覆盖率（%）',
    );
    // Our device's 2-hour means (the world's fixture adds one point of another device).
    expect(lines.filter((l) => l.includes(MN))).toHaveLength(DAYS * 12);
    expect(lines[1]).toBe(
      `2026-02-01 00:00:00,青澜港城供热有限公司,out-0002-g1,${MN},氮氧化物（a21002）,小时数据（每 2 小时均值）,mg/m3,100.5,120.5,1,100.5,120.5,,,100`,
    );
  });

  it('applies the same scope and bounds as the chart', async () => {
    const officer = await loginAs(w.base, 'officer-dist-lanxi');
    const r = await http(w.base, {
      method: 'GET',
      url: file('xlsx', outletDay),
      headers: { cookie: officer.cookie },
    });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'NOT_FOUND', field: 'enterprise' });
    const admin = await loginAs(w.base, 'admin');
    const long = await get(
      admin,
      file('csv', { ...outletDay, granularity: 'minute', to: '2026-02-09T00:00:00+08:00' }),
    );
    expect(long.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'to' });
    const empty = await get(
      admin,
      file('csv', { ...outletDay, from: '2025-01-01T00:00:00+08:00', to: '2025-01-02T00:00:00+08:00' }),
    );
    expect(empty.json()).toMatchObject({ code: 'NO_DATA', field: 'from' });
  });
});
