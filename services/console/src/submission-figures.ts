// The figures a district's monthly submission shows live and freezes when submitted: the counts of the
// regulation ledger (./regulation/reports.ts `reportFigures`), the district's 传输有效率 of the month
// (./transmission.ts `reportTransmission`) and its emission loads per outlet and factor (./loads.ts
// `emissionLoads`, the one load calculation, per outlet over the month) against the permitted annual load's
// share of the month (annual × the month's share of its Shanghai year). The caller's scope applies to every
// part; a month that has not begun has no transmission or loads.
import { shanghaiYear } from '@offsite/domain';
import { monthRange } from '@offsite/domain/calendar';
import type { ReportLoadRow, ReportLoads, ReportTransmission, SubmissionFigures } from '@offsite/regulation';
import type { Queryable } from '@offsite/store';
import { ConsoleError } from './errors.js';
import type { EvidenceSource } from './evidence.js';
import { emissionLoads } from './loads.js';
import type { Principal } from './principal.js';
import { reportFigures } from './regulation/reports.js';
import { reportTransmission, type TransmissionSource } from './transmission.js';

/** The measured part of a district's month: 传输有效率 and emission loads (null: not computed). */
export interface MonthMeasures {
  transmission: ReportTransmission | null;
  loads: ReportLoads | null;
}

export type MonthMeasuresSource = (p: Principal, districtId: string, month: string) => Promise<MonthMeasures>;

/** An outlet's month without hourly data, or without a factor permitted in a mass unit, has no load row. */
const NO_LOAD = new Set(['NO_DATA', 'INVALID_INPUT']);

/** The district's emission loads of the month, per outlet and factor, in the principal's scope. */
export async function districtLoads(
  db: Queryable,
  src: EvidenceSource,
  p: Principal,
  districtId: string,
  month: string,
  now: number,
): Promise<ReportLoads | null> {
  const range = monthRange(month);
  if (range.from.getTime() > now) return null;
  const outlets = await db.query<{
    id: string;
    enterprise_id: string;
    enterprise_name: string;
    name_zh: string;
  }>(
    `select o.id, o.enterprise_id, e.name_zh as enterprise_name, o.name_zh from outlets o
       join enterprises e on e.id = o.enterprise_id
      where e.district_id = $1 and exists (select 1 from permit_limits l where l.outlet_id = o.id)
      order by o.enterprise_id, o.id`,
    [districtId],
  );
  const year = shanghaiYear(range.from.getTime());
  const share = (range.to.getTime() - range.from.getTime()) / (year.end - year.start);
  const rows: ReportLoadRow[] = [];
  for (const o of outlets.rows) {
    let r;
    try {
      r = await emissionLoads(db, src, p, {
        enterprise: o.enterprise_id,
        site: o.id,
        granularity: 'month',
        from: range.from.toISOString(),
        to: range.to.toISOString(),
      });
    } catch (err) {
      if (err instanceof ConsoleError && NO_LOAD.has(err.code)) continue;
      throw err;
    }
    for (const f of r.factors) {
      const permitMonthKg = f.annualLoadKg === null ? null : f.annualLoadKg * share;
      rows.push({
        enterpriseId: o.enterprise_id,
        enterpriseName: o.enterprise_name,
        outletId: o.id,
        outletName: o.name_zh,
        factor: f.factor,
        loadKg: f.total.computedKg,
        reportedKg: f.total.reportedKg,
        validHours: f.total.validHours,
        missingHours: f.total.missingHours,
        permitAnnualKg: f.annualLoadKg,
        permitMonthKg,
        above: permitMonthKg !== null && f.total.computedKg > permitMonthKg,
      });
    }
  }
  return { rows };
}

/** The measured part of districts' months from the console's InfluxDB sources (either may be absent). */
export function monthMeasures(o: {
  pool: Queryable;
  transmission?: TransmissionSource | undefined;
  evidence?: EvidenceSource | undefined;
  now?: () => number;
}): MonthMeasuresSource {
  const now = o.now ?? Date.now;
  return async (p, districtId, month) => ({
    transmission: o.transmission
      ? await reportTransmission(o.pool, o.transmission, p, districtId, month, now())
      : null,
    loads: o.evidence ? await districtLoads(o.pool, o.evidence, p, districtId, month, now()) : null,
  });
}

/** The figures of a district's period: the counts, and for a month its measures. */
export async function submissionFigures(
  db: Queryable,
  measures: MonthMeasuresSource | undefined,
  p: Principal,
  districtId: string,
  period: { kind: 'monthly' | 'summary'; period: string; from: Date; to: Date },
): Promise<SubmissionFigures> {
  const counts = await reportFigures(db, districtId, period.from, period.to);
  if (period.kind !== 'monthly' || !measures) return { ...counts, transmission: null, loads: null };
  return { ...counts, ...(await measures(p, districtId, period.period)) };
}
