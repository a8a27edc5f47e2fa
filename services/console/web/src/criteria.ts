// A positive-list criterion's evidence in words and numbers (传输有效率 86.2 %（要求 ≥ 90 %）), from the value the
// eligibility check judged (packages/regulation/src/eligibility.ts), in the chosen language.
import { messages } from './forms';
import { fmtTime, lang } from './i18n';

const tt = messages({
  zh: {
    devices: '已登记启用的监控设备 {n} 台',
    lastData: '最近一次收到数据：{t}',
    noData: '从未收到数据',
    noStability: '尚无稳定达标统计',
    rate: '传输有效率 {v}（要求 ≥ {min}）',
    exceed: '超标时段 {n} 个',
    falsified: '经确认的数据造假 {n} 次',
    period: '统计期 {from} – {to}',
    rating: '环境信用评价 {r}',
    noRating: '无环境信用评价',
    since: '{since} 以来 {n} 次',
    latest: '，最近一次 {d}',
    industry: '行业 {i}',
  },
  en: {
    devices: '{n} enabled monitoring device(s) registered',
    lastData: 'last data received {t}',
    noData: 'no data ever received',
    noStability: 'no stability figures yet',
    rate: 'effective transmission rate {v} (required ≥ {min})',
    exceed: '{n} exceedance window(s)',
    falsified: '{n} confirmed falsification(s)',
    period: 'period {from} – {to}',
    rating: 'environmental credit rating {r}',
    noRating: 'no environmental credit rating',
    since: '{n} since {since}',
    latest: ', latest {d}',
    industry: 'industry {i}',
  },
});

type Key = Parameters<typeof tt>[0];
const fill = (key: Key, v: Record<string, string | number>) =>
  tt(key).replace(/\{(\w+)\}/g, (_, k: string) => String(v[k] ?? ''));
const pct = (x: unknown) => (typeof x === 'number' ? `${Math.round(x * 1000) / 10} %` : '—');
const date = (iso: unknown) => (typeof iso === 'string' ? fmtTime(iso).slice(0, 10) : '—');

export interface Criterion {
  code: string;
  pass: boolean;
  value: unknown;
}

/** The evidence of one criterion as a sentence; never the raw value. */
export function criterionEvidence(c: Criterion): string {
  const v = (c.value && typeof c.value === 'object' ? c.value : {}) as Record<string, unknown>;
  const n = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : 0);
  switch (c.code) {
    case 'MONITORING_INSTALLED':
      return fill('devices', { n: n('devices') });
    case 'MONITORING_CONNECTED':
      return typeof v.lastReceivedAt === 'string'
        ? fill('lastData', { t: fmtTime(v.lastReceivedAt) })
        : tt('noData');
    case 'STABLY_COMPLIANT':
      if (c.value === null || c.value === undefined) return tt('noStability');
      return [
        fill('rate', {
          v: pct(v.effectiveTransmissionRate),
          min: pct(v.minEffectiveTransmissionRate ?? 0.9),
        }),
        fill('exceed', { n: n('exceedanceWindows') }),
        fill('falsified', { n: n('confirmedFalsifications') }),
        fill('period', { from: date(v.windowFrom), to: date(v.windowTo) }),
      ].join(lang.value === 'zh' ? '；' : '; ');
    case 'CREDIT_GOOD':
      return typeof v.rating === 'string' ? fill('rating', { r: v.rating }) : tt('noRating');
    case 'NO_RECENT_VIOLATION':
    case 'NO_RECENT_CRIME':
      return (
        fill('since', { since: String(v.since ?? '—'), n: n('count') }) +
        (typeof v.latest === 'string' ? fill('latest', { d: v.latest }) : '')
      );
    case 'INDUSTRY_NOT_EXCLUDED':
      return fill('industry', { i: String(v.industry ?? '—') });
    default:
      return '';
  }
}
