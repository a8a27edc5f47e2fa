import type { TelemetryV1 } from '@offsite/contracts';
import {
  escapeKey,
  escapeMeasurement,
  floatField,
  InvalidPointError,
  stringField,
  type InfluxPoint,
} from '@offsite/influx';

/**
 * Maps one telemetry.v1 reading to InfluxDB points (README "Measurements and tags"):
 * measurement = kind; tags enterprise, site, device, factor, interval; one field per statistic
 * (Rtd, Avg, Min, Max, Cou, ZsAvg…) plus `flag` and `unit`; time = dataTime in whole seconds.
 * measurement + tags + time identify a point, so a replayed reading overwrites itself.
 */
export function telemetryToPoints(t: TelemetryV1): InfluxPoint[] {
  const timeSeconds = Math.floor(Date.parse(t.dataTime) / 1000);
  if (!Number.isFinite(timeSeconds)) throw new RangeError(`invalid dataTime ${t.dataTime}`);
  const interval = t.periodSeconds !== undefined ? `${t.interval}-${t.periodSeconds}s` : t.interval;
  const byFactor = new Map<string, InfluxPoint>();
  for (const m of t.measurements) {
    let p = byFactor.get(m.factor);
    if (!p) {
      p = {
        measurement: t.kind,
        tags: {
          enterprise: t.enterpriseId,
          site: t.siteId,
          device: t.deviceId,
          factor: m.factor,
          interval,
        },
        fields: {},
        timeSeconds,
      };
      byFactor.set(m.factor, p);
    }
    p.fields[m.stat] = m.value;
    if (m.flag !== undefined) {
      // One flag per factor is the common case (HJ 212 sends one Flag per factor); a statistic
      // whose flag differs from the first one keeps it in its own field so nothing is lost.
      if (p.fields.flag === undefined) p.fields.flag = m.flag;
      else if (p.fields.flag !== m.flag) p.fields[`${m.stat}_flag`] = m.flag;
    }
    if (m.unit !== undefined && p.fields.unit === undefined) p.fields.unit = m.unit;
  }
  return [...byFactor.values()];
}

/**
 * Tag parts of series (`<kind>,device=…,enterprise=…,factor=…,interval=…,site=…`), cached in two levels:
 * by the reading's series key (built once per reading), then by factor, so a 20-factor upload builds
 * one key string instead of twenty.
 */
const seriesCache = new Map<string, Map<string, string>>();
const SERIES_CACHE_MAX = 20_000;

function factorPrefixes(t: TelemetryV1, interval: string): Map<string, string> {
  // \u0001 cannot occur in registry ids; it only separates the parts of the key.
  const key = `${t.kind}\u0001${t.deviceId}\u0001${t.enterpriseId}\u0001${interval}\u0001${t.siteId}`;
  let byFactor = seriesCache.get(key);
  if (byFactor === undefined) {
    if (seriesCache.size >= SERIES_CACHE_MAX) seriesCache.clear();
    byFactor = new Map();
    seriesCache.set(key, byFactor);
  }
  return byFactor;
}

function seriesPrefix(
  byFactor: Map<string, string>,
  t: TelemetryV1,
  factor: string,
  interval: string,
): string {
  let prefix = byFactor.get(factor);
  if (prefix === undefined) {
    if (!t.kind) throw new InvalidPointError('empty measurement');
    // Tags in key order (InfluxDB's fastest path); an empty value cannot be carried, so it is left out.
    prefix = escapeMeasurement(t.kind);
    if (t.deviceId !== '') prefix += `,device=${escapeKey(t.deviceId)}`;
    if (t.enterpriseId !== '') prefix += `,enterprise=${escapeKey(t.enterpriseId)}`;
    if (factor !== '') prefix += `,factor=${escapeKey(factor)}`;
    if (interval !== '') prefix += `,interval=${escapeKey(interval)}`;
    if (t.siteId !== '') prefix += `,site=${escapeKey(t.siteId)}`;
    byFactor.set(factor, prefix);
  }
  return prefix;
}

const indexOf = (_: unknown, k: number) => k;

/** Sets a field (name → encoded value) in first-seen order; a later one of the same name overwrites. */
function setField(names: string[], values: string[], name: string, value: string): void {
  const at = names.indexOf(name);
  if (at >= 0) values[at] = value;
  else {
    names.push(name);
    values.push(value);
  }
}

/**
 * The same points as `telemetryToPoints(t).map(toLine)`, joined by `\n`, built without the
 * intermediate point objects: series prefixes are cached, each factor's fields are encoded straight
 * from the measurements. Throws InvalidPointError (or RangeError for a bad dataTime) like the two steps.
 */
// Readings of many devices share a data time (meters report on the same second): parse each once.
let lastDataTime = '';
let lastSeconds = Number.NaN;
function dataTimeSeconds(dataTime: string): number {
  if (dataTime !== lastDataTime) {
    lastSeconds = Math.floor(Date.parse(dataTime) / 1000);
    lastDataTime = dataTime;
  }
  return lastSeconds;
}

export function telemetryToLines(t: TelemetryV1): { text: string; count: number } {
  const timeSeconds = dataTimeSeconds(t.dataTime);
  if (!Number.isFinite(timeSeconds)) throw new RangeError(`invalid dataTime ${t.dataTime}`);
  const interval = t.periodSeconds !== undefined ? `${t.interval}-${t.periodSeconds}s` : t.interval;
  const ms = t.measurements;
  const byFactor = factorPrefixes(t, interval);
  let text = '';
  let count = 0;
  // Measurements usually come grouped by factor; `done` marks those already written with an earlier one.
  let done: boolean[] | undefined;
  for (let i = 0; i < ms.length; i++) {
    if (done?.[i]) continue;
    const factor = ms[i]!.factor;
    // Field name → encoded value, in first-seen order; a later statistic of the same name overwrites.
    const names: string[] = [];
    const values: string[] = [];
    let flag: string | undefined;
    let unit: string | undefined;
    for (let j = i; j < ms.length; j++) {
      const m = ms[j]!;
      if (m.factor !== factor) continue;
      if (j > i) (done ??= [])[j] = true;
      setField(names, values, m.stat, floatField(m.value, m.stat));
      if (m.flag !== undefined) {
        if (flag === undefined) flag = m.flag;
        else if (flag !== m.flag) setField(names, values, `${m.stat}_flag`, stringField(m.flag));
      }
      if (m.unit !== undefined && unit === undefined) unit = m.unit;
    }
    if (flag !== undefined && !names.includes('flag')) setField(names, values, 'flag', stringField(flag));
    if (unit !== undefined && !names.includes('unit')) setField(names, values, 'unit', stringField(unit));
    let fields: string;
    if (names.length === 1) fields = `${escapeKey(names[0]!)}=${values[0]!}`;
    else {
      const order = names.map(indexOf).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
      fields = '';
      for (const k of order) fields += `${fields ? ',' : ''}${escapeKey(names[k]!)}=${values[k]!}`;
    }
    if (count > 0) text += '\n';
    text += `${seriesPrefix(byFactor, t, factor, interval)} ${fields} ${timeSeconds}`;
    count += 1;
  }
  return { text, count };
}
