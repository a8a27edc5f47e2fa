import type { TelemetryV1 } from '@offsite/contracts';
import type { InfluxPoint } from '@offsite/influx';

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
