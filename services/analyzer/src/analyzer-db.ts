// The analyzer's own Postgres tables besides the checkpoints (migrations 030–033): the deviation log,
// last-seen times, stability metrics, derived rated energies and the review decisions it consumed.
// Functions take the connection.
import type { DeviationOutput, MonthCompliance, RuleName, StabilityMetrics } from '@offsite/domain';
import { OffsiteError } from '@offsite/runtime/errors';
import type pg from 'pg';

export type Db = Pick<pg.Pool, 'query'>;

/** A query of the analyzer's tables; a failure is `ANALYZER_DB_FAILED` naming `op`, retryable. */
export async function q<R extends pg.QueryResultRow>(
  db: Db,
  op: string,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(sql, params);
  } catch (err) {
    throw new OffsiteError('ANALYZER_DB_FAILED', `${op} failed: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * Upserts the latest revision of each deviation (an older or equal revision never overwrites a newer
 * one, so a replay after a crash rewrites the same rows). `rule` is the contract's rule name.
 */
export async function recordDeviations(
  db: Db,
  outputs: readonly { output: DeviationOutput; rule: string; severity: string }[],
): Promise<void> {
  if (outputs.length === 0) return;
  const latest = new Map<string, (typeof outputs)[number]>();
  for (const o of outputs) {
    const prev = latest.get(o.output.id);
    if (!prev || o.output.revision >= prev.output.revision) latest.set(o.output.id, o);
  }
  const rows = [...latest.values()].map(({ output: d, rule, severity }) => ({
    id: d.id,
    revision: d.revision,
    enterprise_id: d.enterpriseId,
    site_id: d.siteId,
    rule,
    domain_rule: d.rule,
    subject: d.subject,
    factor: d.factor ?? null,
    state: d.state,
    severity,
    window_start: iso(d.windowStart),
    window_end: iso(d.windowEnd),
    suspected_falsification: d.suspectedFalsification,
    retracted: d.evidence.retracted === true,
  }));
  await q(
    db,
    'record deviations',
    `insert into analyzer_deviations as a (id, revision, enterprise_id, site_id, rule, domain_rule, subject, factor,
            state, severity, window_start, window_end, suspected_falsification, retracted)
     select id, revision, enterprise_id, site_id, rule, domain_rule, subject, factor, state, severity,
            window_start, window_end, suspected_falsification, retracted
       from jsonb_to_recordset($1::jsonb) as x(id text, revision int, enterprise_id text, site_id text, rule text,
            domain_rule text, subject text, factor text, state text, severity text, window_start timestamptz,
            window_end timestamptz, suspected_falsification boolean, retracted boolean)
     on conflict (id) do update set
       revision = excluded.revision, state = excluded.state, severity = excluded.severity,
       window_start = excluded.window_start, window_end = excluded.window_end,
       suspected_falsification = excluded.suspected_falsification, retracted = excluded.retracted,
       updated_at = now()
     where a.revision <= excluded.revision`,
    [JSON.stringify(rows)],
  );
}

/** Raises each enterprise's last-received time (never lowers it: replays carry older times). */
export async function recordLastSeen(db: Db, lastSeen: ReadonlyMap<string, number>): Promise<void> {
  if (lastSeen.size === 0) return;
  const rows = [...lastSeen].map(([enterprise_id, t]) => ({ enterprise_id, t: new Date(t).toISOString() }));
  await q(
    db,
    'record last seen',
    `insert into analyzer_last_seen as s (enterprise_id, last_received_at)
     select enterprise_id, t from jsonb_to_recordset($1::jsonb) as x(enterprise_id text, t timestamptz)
     on conflict (enterprise_id) do update set last_received_at = greatest(s.last_received_at, excluded.last_received_at),
       updated_at = now()`,
    [JSON.stringify(rows)],
  );
}

/**
 * Marks the devices that reported (the first report wins; a device already marked is not written again). A row
 * is created for a device the analyzer had not watched yet (a meter, a device reporting before its first round).
 */
export async function recordDeviceReports(
  db: Db,
  reports: ReadonlyMap<string, { enterpriseId: string; siteId: string; receivedAt: number }>,
): Promise<void> {
  if (reports.size === 0) return;
  const rows = [...reports].map(([device_id, r]) => ({
    device_id,
    enterprise_id: r.enterpriseId,
    site_id: r.siteId,
    t: new Date(r.receivedAt).toISOString(),
  }));
  await q(
    db,
    'record device reports',
    `insert into analyzer_device_watch as w (device_id, enterprise_id, site_id, watch_from, reported_at)
     select device_id, enterprise_id, site_id, t, t
       from jsonb_to_recordset($1::jsonb) as x(device_id text, enterprise_id text, site_id text, t timestamptz)
     on conflict (device_id) do update set reported_at = excluded.reported_at, updated_at = now()
      where w.reported_at is null`,
    [JSON.stringify(rows)],
  );
}

export async function loadLastSeen(db: Db, enterpriseId: string): Promise<Date | null> {
  const res = await q<{ t: Date }>(
    db,
    'load last seen',
    'select last_received_at as t from analyzer_last_seen where enterprise_id = $1',
    [enterpriseId],
  );
  return res.rows[0]?.t ?? null;
}

/** The latest revision of every deviation of an enterprise whose window overlaps [from, to). */
export async function loadDeviations(
  db: Db,
  enterpriseId: string,
  from: number,
  to: number,
): Promise<DeviationOutput[]> {
  const res = await q<{
    id: string;
    revision: number;
    enterprise_id: string;
    site_id: string;
    domain_rule: string;
    subject: string;
    factor: string | null;
    state: DeviationOutput['state'];
    severity: string;
    window_start: Date;
    window_end: Date | null;
    suspected_falsification: boolean;
    retracted: boolean;
  }>(
    db,
    'load deviations',
    `select id, revision, enterprise_id, site_id, domain_rule, subject, factor, state, severity, window_start,
            window_end, suspected_falsification, retracted
       from analyzer_deviations
      where enterprise_id = $1 and window_start < $3 and (window_end is null or window_end > $2)`,
    [enterpriseId, new Date(from).toISOString(), new Date(to).toISOString()],
  );
  return res.rows.map((r) => ({
    type: 'deviation',
    id: r.id,
    rule: r.domain_rule as RuleName,
    state: r.state,
    revision: r.revision,
    severity: r.severity as DeviationOutput['severity'],
    enterpriseId: r.enterprise_id,
    siteId: r.site_id,
    ...(r.factor !== null ? { factor: r.factor } : {}),
    subject: r.subject,
    windowStart: r.window_start.getTime(),
    ...(r.window_end !== null ? { windowEnd: r.window_end.getTime() } : {}),
    suspectedFalsification: r.suspected_falsification,
    inResumptionWindow: false,
    evidence: r.retracted ? { retracted: true } : {},
  }));
}

/**
 * Ids among `ids` whose case a supervisor ever confirmed (a `confirmed` decision the analyzer consumed
 * from `review.decision.v1`), whatever the case's later state: closing a confirmed case does not undo it.
 */
export async function confirmedDeviationIds(db: Db, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const res = await q<{ deviation_id: string }>(
    db,
    'load confirmed deviations',
    `select deviation_id from analyzer_review_decisions
      where deviation_id = any($1::text[]) and confirmed_at is not null`,
    [ids],
  );
  return new Set(res.rows.map((r) => r.deviation_id));
}

export interface ReviewDecisionRow {
  deviationId: string;
  sequence: number;
  enterpriseId: string;
  reviewState: string;
  suspectedFalsification: boolean;
  decidedAt: string;
}

/**
 * Keeps the latest decision per case: a row moves only to a higher sequence, so a repeated or an
 * older event (a republished outbox row, a replay) changes nothing, except that `confirmed_at` keeps
 * the earliest `confirmed` decision seen in any order (an older confirmation arriving late still counts).
 */
export async function recordReviewDecisions(db: Db, rows: readonly ReviewDecisionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const latest = new Map<string, ReviewDecisionRow>();
  const confirmedAt = new Map<string, string>();
  for (const r of rows) {
    const prev = latest.get(r.deviationId);
    if (!prev || r.sequence > prev.sequence) latest.set(r.deviationId, r);
    const c = confirmedAt.get(r.deviationId);
    if (r.reviewState === 'confirmed' && (c === undefined || Date.parse(r.decidedAt) < Date.parse(c)))
      confirmedAt.set(r.deviationId, r.decidedAt);
  }
  const newer = 'analyzer_review_decisions.sequence < excluded.sequence';
  await q(
    db,
    'record review decisions',
    `insert into analyzer_review_decisions (deviation_id, sequence, enterprise_id, review_state,
            suspected_falsification, decided_at, confirmed_at)
     select deviation_id, sequence, enterprise_id, review_state, suspected_falsification, decided_at, confirmed_at
       from jsonb_to_recordset($1::jsonb) as x(deviation_id text, sequence bigint, enterprise_id text,
            review_state text, suspected_falsification boolean, decided_at timestamptz, confirmed_at timestamptz)
     on conflict (deviation_id) do update set
       sequence = case when ${newer} then excluded.sequence else analyzer_review_decisions.sequence end,
       enterprise_id = case when ${newer} then excluded.enterprise_id else analyzer_review_decisions.enterprise_id end,
       review_state = case when ${newer} then excluded.review_state else analyzer_review_decisions.review_state end,
       suspected_falsification = case when ${newer} then excluded.suspected_falsification
                                      else analyzer_review_decisions.suspected_falsification end,
       decided_at = case when ${newer} then excluded.decided_at else analyzer_review_decisions.decided_at end,
       confirmed_at = least(analyzer_review_decisions.confirmed_at, excluded.confirmed_at),
       updated_at = now()
     where ${newer}
        or (excluded.confirmed_at is not null
            and analyzer_review_decisions.confirmed_at is distinct from
                least(analyzer_review_decisions.confirmed_at, excluded.confirmed_at))`,
    [
      JSON.stringify(
        [...latest.values()].map((r) => ({
          deviation_id: r.deviationId,
          sequence: r.sequence,
          enterprise_id: r.enterpriseId,
          review_state: r.reviewState,
          suspected_falsification: r.suspectedFalsification,
          decided_at: r.decidedAt,
          confirmed_at: confirmedAt.get(r.deviationId) ?? null,
        })),
      ),
    ],
  );
}

export interface StabilityRow {
  enterpriseId: string;
  /** '' for the enterprise as a whole. */
  siteId: string;
  windowFrom: Date;
  windowTo: Date;
  metrics: StabilityMetrics;
  stablyCompliant: boolean;
  lastReceivedAt: Date | null;
}

export async function upsertStability(db: Db, rows: readonly StabilityRow[]): Promise<void> {
  if (rows.length === 0) return;
  await q(
    db,
    'upsert stability',
    `insert into analyzer_stability (enterprise_id, site_id, window_from, window_to, metrics, stably_compliant,
            last_received_at, computed_at)
     select enterprise_id, site_id, window_from, window_to, metrics, stably_compliant, last_received_at, now()
       from jsonb_to_recordset($1::jsonb) as x(enterprise_id text, site_id text, window_from timestamptz,
            window_to timestamptz, metrics jsonb, stably_compliant boolean, last_received_at timestamptz)
     on conflict (enterprise_id, site_id) do update set
       window_from = excluded.window_from, window_to = excluded.window_to, metrics = excluded.metrics,
       stably_compliant = excluded.stably_compliant, last_received_at = excluded.last_received_at,
       computed_at = now()`,
    [
      JSON.stringify(
        rows.map((r) => ({
          enterprise_id: r.enterpriseId,
          site_id: r.siteId,
          window_from: r.windowFrom.toISOString(),
          window_to: r.windowTo.toISOString(),
          metrics: r.metrics,
          stably_compliant: r.stablyCompliant,
          last_received_at: r.lastReceivedAt?.toISOString() ?? null,
        })),
      ),
    ],
  );
}

export interface ComplianceMonthRow extends MonthCompliance {
  enterpriseId: string;
  /** '' for the enterprise as a whole. */
  siteId: string;
}

/**
 * Stores the month's compliance counts; a row is replaced only by one that starts no later (the month at the
 * window's start keeps the figure of an earlier run that saw more of it).
 */
export async function upsertComplianceMonths(db: Db, rows: readonly ComplianceMonthRow[]): Promise<void> {
  if (rows.length === 0) return;
  await q(
    db,
    'upsert compliance months',
    `insert into analyzer_compliance_months as m (enterprise_id, site_id, month, hours_from, hours_to,
            compliant_valid_hours, judged_valid_hours, computed_at)
     select enterprise_id, site_id, month, hours_from, hours_to, compliant, judged, now()
       from jsonb_to_recordset($1::jsonb) as x(enterprise_id text, site_id text, month text, hours_from timestamptz,
            hours_to timestamptz, compliant integer, judged integer)
     on conflict (enterprise_id, site_id, month) do update set
       hours_from = excluded.hours_from, hours_to = excluded.hours_to,
       compliant_valid_hours = excluded.compliant_valid_hours, judged_valid_hours = excluded.judged_valid_hours,
       computed_at = now()
     where excluded.hours_from <= m.hours_from`,
    [
      JSON.stringify(
        rows.map((r) => ({
          enterprise_id: r.enterpriseId,
          site_id: r.siteId,
          month: r.month,
          hours_from: new Date(r.from).toISOString(),
          hours_to: new Date(r.to).toISOString(),
          compliant: r.compliantValidHours,
          judged: r.judgedValidHours,
        })),
      ),
    ],
  );
}

/** Rated window energy per meter derived from history (used unless the registry configures one). */
export async function loadRatedEnergy(db: Db): Promise<Map<string, number>> {
  const res = await q<{ meter_id: string; rated_kwh: number }>(
    db,
    'load rated energy',
    'select meter_id, rated_kwh from analyzer_rated_energy',
    [],
  );
  return new Map(res.rows.map((r) => [r.meter_id, Number(r.rated_kwh)]));
}

export async function upsertRatedEnergy(
  db: Db,
  meterId: string,
  ratedKwh: number,
  windowsUsed: number,
): Promise<void> {
  await q(
    db,
    'upsert rated energy',
    `insert into analyzer_rated_energy (meter_id, rated_kwh, windows_used, derived_at) values ($1, $2, $3, now())
     on conflict (meter_id) do update set rated_kwh = excluded.rated_kwh, windows_used = excluded.windows_used,
       derived_at = now()`,
    [meterId, ratedKwh, windowsUsed],
  );
}

/** The latest revision, state and (contract) severity of each of `ids` in the deviation log. */
/** A deviation's latest revision as the log holds it. */
export interface DeviationHead {
  revision: number;
  state: DeviationOutput['state'];
  severity: string;
}

export async function deviationHeads(db: Db, ids: readonly string[]): Promise<Map<string, DeviationHead>> {
  if (ids.length === 0) return new Map();
  const res = await q<{ id: string; revision: number; state: DeviationOutput['state']; severity: string }>(
    db,
    'load deviation heads',
    'select id, revision, state, severity from analyzer_deviations where id = any($1::text[])',
    [ids],
  );
  return new Map(res.rows.map((r) => [r.id, { revision: r.revision, state: r.state, severity: r.severity }]));
}

/** Deviations of a domain rule still open whose window starts at `windowStart`: site, factor. */
export async function openDeviationsOf(
  db: Db,
  domainRule: RuleName,
  windowStart: number,
): Promise<{ enterpriseId: string; siteId: string; factor: string }[]> {
  const res = await q<{ enterprise_id: string; site_id: string; factor: string }>(
    db,
    'load open deviations',
    `select enterprise_id, site_id, coalesce(factor, subject) as factor from analyzer_deviations
      where domain_rule = $1 and window_start = $2 and state <> 'resolved'`,
    [domainRule, new Date(windowStart).toISOString()],
  );
  return res.rows.map((r) => ({ enterpriseId: r.enterprise_id, siteId: r.site_id, factor: r.factor }));
}
