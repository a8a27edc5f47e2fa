// The case page's evidence chart, by rule: what the rule judged, in units, on the Asia/Shanghai clock.
// - meter rules (treatment idle, late start, early stop, zero while running): production and treatment
//   power on one kW axis with the deviation window shaded; energy per rule window (kWh) below, never the
//   counters; running periods as bands, and the treatment facilities' reported status (HJ 212 `SBn-RS`) as bands
//   of one state each, named with the standard's meaning.
// - exceedance: the converted (折算) hourly (or daily) means against the limit line, invalid hours marked.
// - flatline: the judged series with the repeated value and its span highlighted.
// - anything else: the factor's series with the deviation window shaded.
import { fmtTime, lang } from './i18n';
import { messages } from './forms';
import { enumName, factorName, seriesName } from './labels';
import type { Evidence } from '../../src/evidence';

export type { Evidence };
type Series = Record<string, unknown>;
type MeterEvidence = Evidence['meters'][number];
type EvidenceSeries = Evidence['series'][number];

export const tt = messages({
  zh: {
    window: '偏差时段',
    power: '功率 (kW)',
    energy: '每{n}分钟电量 (kWh)',
    running: '运行',
    reset: '计数器复位，电量未知',
    gap: '数据缺失，电量未知',
    prodThreshold: '生产判定线',
    treatThreshold: '治污判定线',
    converted: '折算均值',
    measured: '实测均值',
    invalid: '无效时段',
    hourly: '小时',
    daily: '日',
    limit: '排放限值',
    repeated: '恒值',
    lasting: '持续',
    minutes: '分钟',
    time: '时间（北京时间）',
    facility: '治污设施 {code}（{outlet}）',
    states: '运行状态',
    rs0: '停运',
    rs1: '运行',
    rs2: '校准',
    rs3: '维护',
    rs4: '故障报警',
    rs5: '反吹',
    rsOther: '状态 {n}',
  },
  en: {
    window: 'Deviation window',
    power: 'Power (kW)',
    energy: 'Energy per {n} min (kWh)',
    running: 'Running',
    reset: 'counter reset, energy unknown',
    gap: 'readings missing, energy unknown',
    prodThreshold: 'Production threshold',
    treatThreshold: 'Treatment threshold',
    converted: 'converted mean',
    measured: 'measured mean',
    invalid: 'Invalid periods',
    hourly: 'Hourly',
    daily: 'Daily',
    limit: 'Limit',
    repeated: 'Repeated value',
    lasting: 'for',
    minutes: 'min',
    time: 'Time (Beijing)',
    facility: 'Treatment facility {code} ({outlet})',
    states: 'State',
    rs0: 'Stopped',
    rs1: 'Running',
    rs2: 'Calibrating',
    rs3: 'Maintenance',
    rs4: 'Fault / alarm',
    rs5: 'Back-blowing',
    rsOther: 'State {n}',
  },
});

const ms = (iso: string) => Date.parse(iso);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const round = (v: number) => Math.round(v * 1000) / 1000;
const timeLabel = (v: number) => fmtTime(new Date(v).toISOString()).slice(-11);
const windowEnd = (ev: Evidence) => ev.window.end ?? ev.stop;
const WINDOW_AREA = { color: 'rgba(217, 54, 62, 0.12)' };

/** The deviation window as a shaded area. */
function windowArea(ev: Evidence, label = tt('window')) {
  return {
    silent: true,
    itemStyle: WINDOW_AREA,
    label: { show: true, position: 'insideTop', color: '#b42318' },
    data: [[{ xAxis: ms(ev.window.start), name: label }, { xAxis: ms(windowEnd(ev)) }]],
  };
}

/** The time span the chart shows: the data's and the window's, within the evidence's range. */
function extent(ev: Evidence): [number, number] {
  const times = [
    ...ev.series.flatMap((s) => s.points.map((p) => p[0])),
    ...ev.aggregates.map((a) => a.start),
    ...ev.meters.flatMap((m) => [...m.powerKw.map((p) => p[0]), ...m.energy.map((e) => e.start)]),
    ...ev.facilities.flatMap((f) => f.bands.flatMap((b) => [b[0], b[1]])),
    ev.window.start,
    windowEnd(ev),
  ].map(ms);
  return [Math.max(ms(ev.start), Math.min(...times)), Math.min(ms(ev.stop), Math.max(...times))];
}

function timeAxis(ev: Evidence, gridIndex = 0, showLabels = true) {
  const [min, max] = extent(ev);
  return {
    type: 'time',
    gridIndex,
    min,
    max,
    name: showLabels ? tt('time') : '',
    nameLocation: 'middle',
    nameGap: 26,
    axisLabel: { show: showLabels, formatter: timeLabel, hideOverlap: true },
  };
}

interface TooltipParam {
  axisValue?: number;
  marker: string;
  seriesName: string;
  seriesType?: string;
  value?: unknown[];
}
const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What a custom series' renderItem is given (the part used here). */
interface RenderApi {
  value(dim: number): number;
  coord(v: number[]): number[];
  size(v: number[]): number[];
  style(): Record<string, unknown>;
}

const base = () => ({
  animation: false,
  tooltip: {
    trigger: 'axis',
    axisPointer: { type: 'line' },
    // Times in the tooltip on the Asia/Shanghai clock, like the axis.
    formatter: (ps: TooltipParam | TooltipParam[]) => {
      const list = Array.isArray(ps) ? ps : [ps];
      const first = list[0];
      const head = first ? fmtTime(new Date(first.axisValue ?? Number(first.value?.[0])).toISOString()) : '';
      const rows = list.flatMap((p) => {
        const v = p.value ?? [];
        // A band (running, a facility state): its name and period, not a value.
        if (p.seriesType === 'custom')
          return typeof v[1] === 'number' && typeof v[2] === 'number'
            ? [`${p.marker}${escapeHtml(p.seriesName)}: ${timeLabel(v[1])}–${timeLabel(v[2])}`]
            : [];
        return typeof v[1] === 'number' ? [`${p.marker}${escapeHtml(p.seriesName)}: ${round(v[1])}`] : [];
      });
      return [head, ...rows].join('<br/>');
    },
  },
  legend: { top: 0, type: 'scroll' },
});

/** A facility status (`SBn-RS`) in words, with its code: 停运 (RS=0). */
const stateName = (rs: number) =>
  `${Number.isInteger(rs) && rs >= 0 && rs <= 5 ? tt(`rs${rs}` as 'rs0') : tt('rsOther').replace('{n}', String(rs))} (RS=${rs})`;
/** The bands' colours: running green, stopped red, fault orange, the rest greys and blues. */
const STATE_COLOURS: Readonly<Record<number, string>> = {
  0: '#d9363e',
  1: '#3ba272',
  2: '#5470c6',
  3: '#8a8f98',
  4: '#e6862e',
  5: '#73c0de',
};

/** Bands on the chart's third grid: row index, from, to (ms). */
function bandSeries(name: string, colour: string, data: number[][]): Series {
  return {
    name,
    type: 'custom',
    xAxisIndex: 2,
    yAxisIndex: 2,
    encode: { x: [1, 2], y: 0 },
    renderItem: (_params: unknown, api: RenderApi) => {
      const [x0 = 0, y = 0] = api.coord([api.value(1), api.value(0)]);
      const [x1 = 0] = api.coord([api.value(2), api.value(0)]);
      const h = (api.size([0, 1])[1] ?? 0) * 0.6;
      const rect = { x: x0, y: y - h / 2, width: Math.max(x1 - x0, 1), height: h };
      return { type: 'rect', shape: rect, style: api.style() };
    },
    itemStyle: { color: colour, opacity: 0.8 },
    data,
  };
}

/** Name of a meter on the chart: its role and id. */
const meterLabel = (m: MeterEvidence) => `${enumName(m.role) || m.role} ${m.meterId}`.trim();

function metersOption(ev: Evidence): Record<string, unknown> {
  const p = ev.params;
  const windowMinutes = num(p.windowMinutes) ?? 15;
  const facilities = ev.facilities;
  const cats = [
    ...ev.meters.map(meterLabel),
    ...facilities.map((f) => tt('facility').replace('{code}', f.code).replace('{outlet}', f.outletId)),
  ];
  const series: Series[] = [];
  ev.meters.forEach((m, i) => {
    series.push({
      name: `${meterLabel(m)} ${tt('power')}`,
      type: 'line',
      xAxisIndex: 0,
      yAxisIndex: 0,
      showSymbol: false,
      data: m.powerKw.map(([t, v]) => [ms(t), v]),
      ...(i === 0 ? { markArea: windowArea(ev) } : {}),
    });
  });
  const thresholds: [string, number | null][] = [
    [tt('prodThreshold'), product(num(p.productionShare), num(p.productionRatedKwh))],
    [tt('treatThreshold'), product(num(p.treatmentShare), num(p.treatmentRatedKwh))],
  ];
  ev.meters.forEach((m) => {
    const unknown = m.energy.filter((e) => e.kwh === null);
    const line = thresholds[m.role === 'production' ? 0 : m.role === 'treatment' ? 1 : -1];
    series.push({
      name: `${meterLabel(m)} ${tt('energy').replace('{n}', String(windowMinutes))}`,
      type: 'bar',
      xAxisIndex: 1,
      yAxisIndex: 1,
      barMaxWidth: 12,
      // Bars start at their window's start; a window with no figure is left empty and marked.
      data: m.energy.map((e) => [
        ms(e.start) + (windowMinutes * 60_000) / 2,
        e.kwh === null ? '-' : round(e.kwh),
      ]),
      ...(line && line[1] !== null
        ? {
            markLine: {
              symbol: 'none',
              lineStyle: { type: 'dashed' },
              data: [{ yAxis: round(line[1]), name: line[0] }],
              label: { formatter: `${line[0]} ${round(line[1])} kWh`, position: 'insideEndTop' },
            },
          }
        : {}),
      ...(unknown.length
        ? {
            markArea: {
              silent: false,
              itemStyle: { color: 'rgba(120, 120, 120, 0.18)' },
              label: { show: true, color: '#555', formatter: (a: { name: string }) => a.name },
              data: unknown.map((e) => [
                { xAxis: ms(e.start), name: tt(e.unknown ?? 'gap') },
                { xAxis: ms(e.start) + windowMinutes * 60_000 },
              ]),
            },
          }
        : {}),
    });
  });
  series.push({
    ...bandSeries(
      tt('running'),
      '#3ba272',
      ev.meters.flatMap((m, i) => m.running.map(([a, b]) => [i, ms(a), ms(b)])),
    ),
    // The deviation window across the bands too, so the states line up with it.
    markArea: windowArea(ev, ''),
  });
  // One series per reported state, so the legend names each state in words.
  const states = [...new Set(facilities.flatMap((f) => f.bands.map((b) => b[2])))].sort((a, b) => a - b);
  for (const rs of states)
    series.push(
      bandSeries(
        stateName(rs),
        STATE_COLOURS[rs] ?? '#b0b4ba',
        facilities.flatMap((f, i) =>
          f.bands.filter((b) => b[2] === rs).map(([a, b]) => [ev.meters.length + i, ms(a), ms(b)]),
        ),
      ),
    );
  const bandRows = Math.max(cats.length, 1);
  return {
    ...base(),
    axisPointer: { link: [{ xAxisIndex: 'all' }] },
    grid: [
      { left: 190, right: 40, top: 60, height: '34%' },
      { left: 190, right: 40, top: '56%', height: bandRows > 2 ? '15%' : '20%' },
      { left: 190, right: 40, top: bandRows > 2 ? '76%' : '82%', height: bandRows > 2 ? '15%' : '9%' },
    ],
    xAxis: [timeAxis(ev, 0, false), timeAxis(ev, 1, false), timeAxis(ev, 2, true)],
    yAxis: [
      { type: 'value', gridIndex: 0, name: tt('power'), nameTextStyle: { align: 'left' } },
      {
        type: 'value',
        gridIndex: 1,
        name: tt('energy').replace('{n}', String(windowMinutes)),
        nameTextStyle: { align: 'left' },
      },
      {
        type: 'category',
        gridIndex: 2,
        data: cats,
        name: facilities.length ? `${tt('running')} / ${tt('states')}` : tt('running'),
        nameLocation: 'middle',
        nameRotate: 90,
        nameGap: 175,
        inverse: true,
      },
    ],
    series,
  };
}

function product(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a * b;
}

/** The axis name of a pollutant: factor and unit. */
function valueAxis(ev: Evidence) {
  const unit = ev.limit?.unit ?? ev.unit;
  const f = factorName(ev.factor ?? ev.series[0]?.factor ?? '');
  return { type: 'value', name: unit ? `${f} (${unit})` : f, nameTextStyle: { align: 'left' } };
}

/** A chart of one factor: one time axis, one value axis. */
function oneGrid(ev: Evidence, series: Series[]): Record<string, unknown> {
  return {
    ...base(),
    grid: { left: 70, right: 40, top: 40, bottom: 50 },
    xAxis: timeAxis(ev),
    yAxis: valueAxis(ev),
    series,
  };
}

function limitLine(ev: Evidence) {
  if (!ev.limit) return undefined;
  const label = `${tt('limit')} ${ev.limit.value} ${ev.limit.unit}`;
  return {
    symbol: 'none',
    lineStyle: { color: '#d9363e', type: 'dashed', width: 2 },
    data: [{ yAxis: ev.limit.value, name: label }],
    label: { formatter: label, position: 'insideEndTop' },
  };
}

function exceedanceOption(ev: Evidence): Record<string, unknown> {
  const interval = ev.limit?.basis === 'daily' ? 'day' : 'hour';
  const rows = ev.aggregates.filter((a) => a.interval === interval);
  const which = interval === 'day' ? tt('daily') : tt('hourly');
  const series: Series[] = [];
  if (rows.length) {
    series.push({
      name: `${which}${tt('converted')}`,
      type: 'line',
      showSymbol: true,
      data: rows
        .filter((a) => (a.converted ?? a.value) !== null)
        .map((a) => [ms(a.start), a.converted ?? a.value]),
      markLine: limitLine(ev),
      markArea: windowArea(ev),
      lineStyle: { width: 3 },
    });
    if (rows.some((a) => a.converted !== null && a.value !== null && a.converted !== a.value))
      series.push({
        name: `${which}${tt('measured')}`,
        type: 'line',
        showSymbol: false,
        lineStyle: { type: 'dotted', width: 1 },
        data: rows.filter((a) => a.value !== null).map((a) => [ms(a.start), a.value]),
      });
    series.push({
      name: tt('invalid'),
      type: 'scatter',
      symbol: 'emptyCircle',
      symbolSize: 14,
      itemStyle: { color: '#8a8f98', borderWidth: 2 },
      label: { show: true, position: 'top', formatter: (p: { data: unknown[] }) => String(p.data[2]) },
      data: rows
        .filter((a) => a.valid === false && (a.converted ?? a.value) !== null)
        .map((a) => [ms(a.start), a.converted ?? a.value, flagLabel(a.flag, a.coverage)]),
    });
  } else {
    // No analyzer aggregates stored: the writer's means of the judged interval.
    for (const s of ev.series.filter((x) => x.interval === interval))
      series.push(
        lineOf(s, series.length === 0 ? { markLine: limitLine(ev), markArea: windowArea(ev) } : {}),
      );
  }
  return oneGrid(ev, series);
}

/** Why an hour is invalid: its flag, or its coverage when the flag is N. */
function flagLabel(flag: string | null, coverage: number | null): string {
  if (flag && flag !== 'N') return flag;
  return coverage === null ? '' : `${Math.round(coverage * 100)} %`;
}

function lineOf(s: EvidenceSeries, extra: Record<string, unknown>) {
  return {
    name: seriesName(s),
    type: 'line',
    showSymbol: true,
    data: s.points.map(([t, v]) => [ms(t), v]),
    ...extra,
  };
}

function flatlineOption(ev: Evidence): Record<string, unknown> {
  const interval = typeof ev.params.interval === 'string' ? ev.params.interval : 'realtime';
  const judged =
    ev.series.find((s) => s.interval === interval && (s.field === 'Rtd' || s.field === 'Avg')) ??
    ev.series.find((s) => s.interval === interval) ??
    ev.series[0];
  const value = num(ev.params.value);
  const from = ms(ev.window.start);
  const to = ms(windowEnd(ev));
  const minutes = Math.round((to - from) / 60_000);
  const unit = ev.unit ?? '';
  const label =
    value === null
      ? tt('repeated')
      : `${tt('repeated')} ${value} ${unit} · ${tt('lasting')} ${minutes} ${tt('minutes')}`;
  const series: Series[] = [];
  if (judged) {
    series.push(lineOf(judged, { showSymbol: false, markArea: windowArea(ev, label) }));
    series.push({
      name: tt('repeated'),
      type: 'line',
      showSymbol: true,
      symbolSize: 5,
      lineStyle: { color: '#d9363e', width: 4 },
      itemStyle: { color: '#d9363e' },
      data: judged.points
        .filter(([t, v]) => ms(t) >= from && ms(t) <= to && (value === null || v === value))
        .map(([t, v]) => [ms(t), v]),
      ...(value === null
        ? {}
        : {
            markLine: {
              symbol: 'none',
              lineStyle: { color: '#d9363e', type: 'dotted' },
              data: [{ yAxis: value, name: label }],
              label: { formatter: `${tt('repeated')} ${value} ${unit}`, position: 'insideEndTop' },
            },
          }),
    });
  }
  return oneGrid(ev, series);
}

function genericOption(ev: Evidence): Record<string, unknown> {
  const series: Series[] = ev.series.map((s, i) => {
    const marks = s.flags
      .map(([time, flag]) => {
        const p = s.points.find((x) => x[0] === time);
        return p ? { coord: [ms(p[0]), p[1]], value: flag } : null;
      })
      .filter(Boolean);
    return lineOf(s, {
      // Points whose data flag is not N (invalid for judgement) are marked with their flag.
      ...(marks.length ? { markPoint: { symbol: 'pin', symbolSize: 36, data: marks } } : {}),
      ...(i === 0 ? { markArea: windowArea(ev), markLine: limitLine(ev) } : {}),
    });
  });
  return oneGrid(ev, series);
}

/** The chart's option for a case's evidence. */
export function evidenceOption(ev: Evidence): Record<string, unknown> {
  // Read for its reactivity: the option is rebuilt when the language changes.
  void lang.value;
  if (ev.kind === 'meters') return metersOption(ev);
  if (ev.rule === 'exceedance') return exceedanceOption(ev);
  if (ev.rule === 'flatline') return flatlineOption(ev);
  return genericOption(ev);
}

/**
 * What the chart shows, read back from ECharts' own option: each axis's name, each series' axis, kind, value
 * range and marks. The page keeps it in `data-summary` for its tests and for anyone checking the chart.
 */
export function chartSummary(opt: unknown) {
  type O = Record<string, unknown>;
  const arr = (x: unknown): O[] => (Array.isArray(x) ? x : x === undefined || x === null ? [] : [x]);
  const get = (o: unknown, k: string): unknown => (o && typeof o === 'object' ? (o as O)[k] : undefined);
  const values = (s: O): number[] =>
    arr(s.data)
      .map((d) => (Array.isArray(d) ? d[s.type === 'custom' ? 0 : 1] : d))
      .filter((v): v is number => typeof v === 'number');
  return {
    yAxes: arr(get(opt, 'yAxis')).map((a) => ({
      name: a.name ?? '',
      type: a.type,
      grid: a.gridIndex ?? 0,
      ...(a.type === 'category' ? { categories: arr(a.data).map(String) } : {}),
    })),
    series: arr(get(opt, 'series')).map((s) => {
      const v = values(s);
      return {
        name: s.name,
        type: s.type,
        yAxis: s.yAxisIndex ?? 0,
        count: arr(s.data).length,
        max: v.length ? Math.max(...v) : null,
        markAreas: arr(get(s.markArea, 'data')).map((d) => {
          const [a, b] = Array.isArray(d) ? d : [];
          return [get(a, 'xAxis') ?? null, get(b, 'xAxis') ?? null, get(a, 'name') ?? ''];
        }),
        markLines: arr(get(s.markLine, 'data')).map((d) => d.yAxis),
      };
    }),
  };
}
