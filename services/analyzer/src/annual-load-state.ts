// The annual-load round's running sums (table analyzer_annual_loads, migration 125): per outlet and permitted
// factor, the year-to-date sums of the hours already read (@offsite/domain `LoadSums`), so that a round reads only
// the hours since. The round claims its rows before it reads InfluxDB (`read_to`, the end of what it reads), and
// the partitions' checkpoints mark an outlet whose hourly data arrive for an hour the rounds will not read again
// (`markLateLoadHours`): its year is read again.
import type { LoadSums } from '@offsite/domain';
import { q, type Db } from './analyzer-db.js';

/** The row of one outlet and factor, as the round claimed it. */
export interface LoadState {
  siteId: string;
  factor: string;
  yearStart: number;
  /** The sums cover [yearStart, upTo); null: nothing carried. */
  upTo: number | null;
  concentrationUnit: string;
  flowFactor: string;
  flowUnit: string | null;
  sums: LoadSums;
  /** The earliest hour of data that arrived late (null: none), and when that was marked (the database's clock). */
  changedFrom: number | null;
  changedAt: number | null;
}

export interface LoadStateKey {
  siteId: string;
  factor: string;
  yearStart: number;
  concentrationUnit: string;
  flowFactor: string;
}

interface Row {
  site_id: string;
  factor: string;
  year_start: Date;
  up_to: Date | null;
  concentration_unit: string;
  flow_factor: string;
  flow_unit: string | null;
  computed_kg: number;
  reported_kg: number | null;
  valid_hours: number;
  invalid_hours: number;
  check_hours: number;
  check_computed_kg: number;
  check_reported_kg: number;
  changed_from: Date | null;
  changed_at: Date | null;
  read_at: Date;
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * Claims the rows of the permitted outlets and factors for a round reading up to `readTo` (a row is created for
 * a new one, with nothing carried) and drops the rows of those no longer permitted. Returns each row, keyed
 * `site|factor`, and the database's time of the claim (marks after it are not cleared by this round).
 */
export async function claimLoadStates(
  db: Db,
  keys: readonly LoadStateKey[],
  readTo: number,
): Promise<{ states: Map<string, LoadState>; readAt: number }> {
  const rows = keys.map((k) => ({
    site_id: k.siteId,
    factor: k.factor,
    year_start: iso(k.yearStart),
    concentration_unit: k.concentrationUnit,
    flow_factor: k.flowFactor,
  }));
  const json = JSON.stringify(rows);
  await q(
    db,
    'drop annual-load sums',
    `delete from analyzer_annual_loads a
      where not exists (select 1 from jsonb_to_recordset($1::jsonb) as x(site_id text, factor text)
                         where x.site_id = a.site_id and x.factor = a.factor)`,
    [json],
  );
  const res = await q<Row>(
    db,
    'claim annual-load sums',
    `insert into analyzer_annual_loads as a (site_id, factor, year_start, read_to, concentration_unit, flow_factor)
     select site_id, factor, year_start, $2, concentration_unit, flow_factor
       from jsonb_to_recordset($1::jsonb)
         as x(site_id text, factor text, year_start timestamptz, concentration_unit text, flow_factor text)
     on conflict (site_id, factor) do update set read_to = greatest(a.read_to, excluded.read_to), updated_at = now()
     returning a.*, now() as read_at`,
    [json, iso(readTo)],
  );
  const states = new Map<string, LoadState>();
  let readAt = Date.now();
  for (const r of res.rows) {
    readAt = r.read_at.getTime();
    states.set(`${r.site_id}|${r.factor}`, {
      siteId: r.site_id,
      factor: r.factor,
      yearStart: r.year_start.getTime(),
      upTo: r.up_to?.getTime() ?? null,
      concentrationUnit: r.concentration_unit,
      flowFactor: r.flow_factor,
      flowUnit: r.flow_unit,
      sums: {
        computedKg: r.computed_kg,
        reportedKg: r.reported_kg,
        validHours: r.valid_hours,
        invalidHours: r.invalid_hours,
        checkHours: r.check_hours,
        checkComputedKg: r.check_computed_kg,
        checkReportedKg: r.check_reported_kg,
      },
      changedFrom: r.changed_from?.getTime() ?? null,
      changedAt: r.changed_at?.getTime() ?? null,
    });
  }
  return { states, readAt };
}

/**
 * Stores the sums of [yearStart, upTo) of an outlet's factors. A late-data mark made at or before `clearBefore`
 * (the database's clock) is cleared: the sums were read after its data reached InfluxDB; a later one stays.
 */
export async function saveLoadStates(
  db: Db,
  states: readonly (LoadStateKey & { upTo: number; flowUnit: string | null; sums: LoadSums })[],
  clearBefore: number,
): Promise<void> {
  if (states.length === 0) return;
  const rows = states.map((s) => ({
    site_id: s.siteId,
    factor: s.factor,
    year_start: iso(s.yearStart),
    up_to: iso(s.upTo),
    concentration_unit: s.concentrationUnit,
    flow_factor: s.flowFactor,
    flow_unit: s.flowUnit,
    computed_kg: s.sums.computedKg,
    reported_kg: s.sums.reportedKg,
    valid_hours: s.sums.validHours,
    invalid_hours: s.sums.invalidHours,
    check_hours: s.sums.checkHours,
    check_computed_kg: s.sums.checkComputedKg,
    check_reported_kg: s.sums.checkReportedKg,
  }));
  await q(
    db,
    'save annual-load sums',
    `update analyzer_annual_loads a set
       year_start = x.year_start, up_to = x.up_to, concentration_unit = x.concentration_unit,
       flow_factor = x.flow_factor, flow_unit = x.flow_unit, computed_kg = x.computed_kg, reported_kg = x.reported_kg,
       valid_hours = x.valid_hours, invalid_hours = x.invalid_hours, check_hours = x.check_hours,
       check_computed_kg = x.check_computed_kg, check_reported_kg = x.check_reported_kg,
       changed_from = case when a.changed_at <= $2 then null else a.changed_from end,
       changed_at = case when a.changed_at <= $2 then null else a.changed_at end,
       updated_at = now()
      from jsonb_to_recordset($1::jsonb) as x(site_id text, factor text, year_start timestamptz, up_to timestamptz,
             concentration_unit text, flow_factor text, flow_unit text, computed_kg double precision,
             reported_kg double precision, valid_hours int, invalid_hours int, check_hours int,
             check_computed_kg double precision, check_reported_kg double precision)
     where a.site_id = x.site_id and a.factor = x.factor`,
    [JSON.stringify(rows), iso(clearBefore)],
  );
}

/**
 * Marks the outlets whose hourly data (the loggers' or the analyzer's aggregates) arrived for an hour before
 * `read_to` less `rereadMs`: an hour the rounds already carried in their sums and do not read again.
 */
export async function markLateLoadHours(
  db: Db,
  bySite: ReadonlyMap<string, number>,
  rereadMs: number,
): Promise<void> {
  if (bySite.size === 0) return;
  const rows = [...bySite].map(([site_id, t]) => ({ site_id, t: iso(t) }));
  await q(
    db,
    'mark late load hours',
    `update analyzer_annual_loads a set
       changed_from = least(coalesce(a.changed_from, x.t), x.t), changed_at = now(), updated_at = now()
      from jsonb_to_recordset($1::jsonb) as x(site_id text, t timestamptz)
     where a.site_id = x.site_id and x.t < a.read_to - make_interval(secs => $2)`,
    [JSON.stringify(rows), rereadMs / 1000],
  );
}
