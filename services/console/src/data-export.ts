/**
 * The data browser's exports: the same query as the chart (same scope, bounds and downsampling) as an Excel
 * workbook (exceljs) or a CSV file (UTF-8 with a byte-order mark, so Excel reads the Chinese), one row per
 * time, site, factor and device, with Chinese headers, a unit column and times on the Asia/Shanghai clock.
 */
import { toShanghaiIso } from '@offsite/domain/calendar';
import ExcelJS from 'exceljs';
import type { BrowseResult } from './data-browser.js';

const STATS_ZH: Record<string, string> = {
  Rtd: '实时值',
  Avg: '均值',
  Min: '最小值',
  Max: '最大值',
  Cou: '累计值',
  ZsRtd: '折算实时值',
  ZsAvg: '折算均值',
  ZsMin: '折算最小值',
  ZsMax: '折算最大值',
  Value: '值',
  RS: '运行状态',
  RT: '运行时间',
};
const STAT_ORDER = Object.keys(STATS_ZH);

/** HJ 212-2017 factor codes the registry uses, and the meters' readings. */
const FACTORS_ZH: Record<string, string> = {
  a00000: '废气流量',
  a21026: '二氧化硫',
  a21002: '氮氧化物',
  a34013: '颗粒物',
  a21005: '一氧化碳',
  a21024: '氯化氢',
  a24088: '非甲烷总烃',
  a19001: '氧含量',
  a01011: '烟气流速',
  a01012: '烟气温度',
  a01013: '烟气压力',
  a01014: '烟气湿度',
  w00000: '废水流量',
  w01001: 'pH值',
  w01018: '化学需氧量',
  w21003: '氨氮',
  w21011: '总磷',
  w21001: '总氮',
  w01012: '悬浮物',
  power_kw: '有功功率',
  energy_kwh: '累计电量',
};
const GRANULARITY_ZH: Record<string, string> = { realtime: '实时', minute: '分钟', hour: '小时', day: '日' };
const ROLE_ZH: Record<string, string> = { production: '生产设施', treatment: '治污设施', total: '总表' };
const BASIS_ZH: Record<string, string> = { hourly: '小时均值', daily: '日均值' };

export const shanghaiText = (iso: string): string =>
  toShanghaiIso(new Date(iso)).slice(0, 19).replace('T', ' ');

export const factorZh = (code: string) => (FACTORS_ZH[code] ? `${FACTORS_ZH[code]}（${code}）` : code);
const bucketZh = (s: number) =>
  s >= 86400 ? `${s / 86400} 日` : s >= 3600 ? `${s / 3600} 小时` : `${s / 60} 分钟`;

export type Cell = string | number | null;
export interface ExportTable {
  headers: string[];
  rows: Cell[][];
  /** What was asked (the workbook's second sheet): label, value. */
  about: [string, string][];
}

/** The query's answer as one table: a row per time, site, factor and device. */
export function exportTable(r: BrowseResult): ExportTable {
  const fields = [...new Set(r.series.map((s) => s.field))].sort(
    (a, b) => (STAT_ORDER.indexOf(a) + 1 || 99) - (STAT_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
  );
  const withAggregates = r.aggregates.length > 0;
  const kind =
    `${GRANULARITY_ZH[r.granularity] ?? r.granularity}数据` +
    (r.bucketSeconds ? `（每 ${bucketZh(r.bucketSeconds)}均值）` : '');
  const headers = [
    '时间（北京时间）',
    '企业',
    r.site.kind === 'meter' ? '电表' : '排放口',
    ...(r.site.kind === 'meter' ? ['电表类型'] : ['监测设备']),
    '监测因子',
    '数据类型',
    '单位',
    ...fields.map((f) => (STATS_ZH[f] ? `${STATS_ZH[f]}（${f}）` : f)),
    r.bucketSeconds ? '异常标记点数' : '数据标记',
    ...(withAggregates ? ['分析器均值', '折算值', '是否有效', '分析器标记', '数据覆盖率（%）'] : []),
  ];
  type Row = {
    time: string;
    site: string;
    second: string;
    factor: string;
    unit: string;
    cells: Map<string, Cell>;
  };
  const rows = new Map<string, Row>();
  const rowOf = (time: string, site: string, second: string, factor: string, unit: string) => {
    const k = `${time}|${site}|${second}|${factor}`;
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { time, site, second, factor, unit, cells: new Map() }));
    if (!row.unit) row.unit = unit;
    return row;
  };
  for (const s of r.series) {
    const second = r.site.kind === 'meter' ? (ROLE_ZH[s.role ?? ''] ?? s.role ?? '') : s.device;
    for (const [t, v] of s.points) rowOf(t, s.siteId, second, s.factor, s.unit ?? '').cells.set(s.field, v);
    for (const [t, f] of s.flags) rowOf(t, s.siteId, second, s.factor, s.unit ?? '').cells.set('#flag', f);
    for (const [t, n] of s.flaggedCounts)
      rowOf(t, s.siteId, second, s.factor, s.unit ?? '').cells.set('#flag', n);
  }
  // The analyzer's window goes on the first row of the same time and factor (any device).
  const firstOf = new Map<string, Row>();
  for (const row of rows.values())
    if (!firstOf.has(`${row.time}|${row.factor}`)) firstOf.set(`${row.time}|${row.factor}`, row);
  for (const a of r.aggregates) {
    const row = firstOf.get(`${a.start}|${a.factor}`) ?? rowOf(a.start, r.site.id, '', a.factor, '');
    row.cells.set('#value', a.value);
    row.cells.set('#converted', a.converted);
    row.cells.set('#valid', a.valid === null ? null : a.valid ? '有效' : '无效');
    row.cells.set('#aflag', a.flag);
    row.cells.set('#coverage', a.coverage === null ? null : Math.round(a.coverage * 1000) / 10);
  }
  const unitOf = (factor: string) => r.limits.find((l) => l.factor === factor)?.unit ?? '';
  const out = [...rows.values()]
    .sort(
      (a, b) =>
        a.time.localeCompare(b.time) ||
        a.site.localeCompare(b.site) ||
        a.factor.localeCompare(b.factor) ||
        a.second.localeCompare(b.second),
    )
    .map((row): Cell[] => [
      shanghaiText(row.time),
      r.enterprise.nameZh,
      row.site,
      row.second,
      factorZh(row.factor),
      kind,
      row.unit || unitOf(row.factor),
      ...fields.map((f) => row.cells.get(f) ?? null),
      row.cells.get('#flag') ?? (r.bucketSeconds ? 0 : null),
      ...(withAggregates
        ? ['#value', '#converted', '#valid', '#aflag', '#coverage'].map((k) => row.cells.get(k) ?? null)
        : []),
    ]);
  const about: [string, string][] = [
    ['企业', `${r.enterprise.nameZh}（${r.enterprise.id}）`],
    [r.site.kind === 'meter' ? '电表' : '排放口', `${r.site.nameZh}（${r.site.id}）`],
    ['数据类型', kind],
    ['开始（北京时间）', shanghaiText(r.from)],
    ['结束（北京时间）', shanghaiText(r.to)],
    ...r.limits.map((l): [string, string] => [
      `许可限值 ${factorZh(l.factor)} ${BASIS_ZH[l.basis] ?? l.basis}`,
      `${l.lowerValue !== null ? `${l.lowerValue}–` : ''}${l.value} ${l.unit}${l.converted ? '（折算）' : ''}`,
    ]),
    ...r.meters.map((m): [string, string] => [`电表 ${m.id}`, ROLE_ZH[m.role] ?? m.role]),
  ];
  return { headers, rows: out, about };
}

/** A cell that a spreadsheet would read as a formula is written as text (CSV/formula injection). */
const safeText = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

export function toCsv(t: ExportTable): Buffer {
  const cell = (v: Cell) => {
    if (v === null) return '';
    if (typeof v === 'number') return String(v);
    const s = safeText(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [t.headers, ...t.rows].map((r) => r.map(cell).join(','));
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

export async function toXlsx(t: ExportTable): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Offsite';
  const ws = wb.addWorksheet('监测数据', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.addRow(t.headers).font = { bold: true };
  for (const r of t.rows) ws.addRow(r.map((v) => (typeof v === 'string' ? safeText(v) : v)));
  ws.columns.forEach((c, i) => (c.width = i === 0 ? 20 : Math.max(10, (t.headers[i]?.length ?? 8) * 2)));
  const about = wb.addWorksheet('查询条件');
  for (const [k, v] of t.about) about.addRow([k, safeText(v)]);
  about.getColumn(1).width = 30;
  about.getColumn(2).width = 50;
  return Buffer.from(await wb.xlsx.writeBuffer());
}
