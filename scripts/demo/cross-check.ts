/**
 * The demo summary's emissions-against-production cross-check (大数据分析: 排放与生产用电比对): the analyzer's round
 * judging the simulated day (its history-cli, over the 28 days of the emission-drop enterprise's history the
 * simulator sent after the day through the gateway and MQTT, and the day itself), its finding handed to this run's
 * deviation.v1, then what it recorded: each outlet's judgement (analyzer_cross_checks) and the risk score with its
 * reasons (analyzer_risk_v1).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type pg from 'pg';
import type { Scenario } from '@offsite/simulator';

interface Round {
  outlets?: number;
  flagged?: number;
  clear?: number;
  notJudged?: number;
  events?: number;
  failed?: number;
}

interface MetricDetails {
  metric: string;
  unit: string;
  hardHours: number;
  lowHours: number;
  baselineMedian: number | null;
  ratio: { dayMedian: number; median: number; z: number } | null;
  findings: string[];
}

/**
 * Runs one of the analyzer's history-cli rounds as of `asOf`, its findings to this run's deviation.v1, and returns
 * the round it printed (its last line of JSON).
 */
async function runHistoryCli(
  subcommand: 'production-emission' | 'peers' | 'cross-device',
  asOf: number,
  deviationTopic: string,
): Promise<Round> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--conditions=offsite-source',
      '--import',
      'tsx',
      'src/history-cli.ts',
      subcommand,
      '--as-of',
      new Date(asOf).toISOString(),
    ],
    {
      cwd: new URL('../../services/analyzer/', import.meta.url),
      env: { ...process.env, OFFSITE_ANALYZER_DEVIATION_TOPIC: deviationTopic },
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Round;
}

const num = (v: number | null | undefined, digits = 1) => (v == null ? '—' : v.toFixed(digits));

/** One metric's evidence in words (English; the console shows both languages). */
function evidence(m: MetricDetails): string {
  const parts = [
    `${m.lowHours} of ${m.hardHours} hard-production hours under half the baseline median ${num(m.baselineMedian)} ${m.unit}`,
  ];
  if (m.ratio)
    parts.push(
      `${m.unit}/kWh ${num(m.ratio.dayMedian, 3)} against a baseline median ${num(m.ratio.median, 3)} (robust z ${num(m.ratio.z, 2)})`,
    );
  return `${m.metric}: ${parts.join('; ')}${m.findings.length ? ` → ${m.findings.join(', ')}` : ''}`;
}

/** Runs the round as of `asOf` (the end of the simulated day) and returns the section's lines. */
export async function crossCheckSection(
  pool: pg.Pool,
  asOf: number,
  deviationTopic: string,
  scenario: Scenario | undefined,
): Promise<string[]> {
  const out: string[] = [];
  const round = await runHistoryCli('production-emission', asOf, deviationTopic);
  const dayStart = new Date(asOf - 86_400_000);
  const reasons = await pool.query<{ reason: string; n: number }>(
    `select coalesce(reason, status) as reason, count(*)::int as n from analyzer_cross_checks
      where check_name = 'production-emission' and day_start = $1 and status = 'not-judged'
      group by 1 order by 2 desc, 1`,
    [dayStart],
  );
  out.push(
    `  round over the simulated day: ${round.outlets ?? 0} outlets with production meters, ${round.flagged ?? 0} flagged, ` +
      `${round.clear ?? 0} clear, ${round.notJudged ?? 0} not judged (${reasons.rows.map((r) => `${r.reason} ${r.n}`).join(', ') || 'none'}), ` +
      `${round.failed ?? 0} failed; ${round.events ?? 0} deviation(s) sent`,
  );
  if (!scenario) {
    out.push('  ✗ no emission-drop scenario was planned');
    return out;
  }
  const row = await pool.query<{
    site_id: string;
    status: string;
    reason: string | null;
    details: { metrics?: MetricDetails[] };
  }>(
    `select site_id, status, reason, details from analyzer_cross_checks
      where check_name = 'production-emission' and day_start = $1 and enterprise_id = $2 order by site_id`,
    [dayStart, scenario.enterpriseId],
  );
  const risk = await pool.query<{ score: number; reasons: { zh: string; en: string }[] }>(
    'select score, reasons from analyzer_risk_v1 where enterprise_id = $1',
    [scenario.enterpriseId],
  );
  const flagged = row.rows.filter((r) => r.status === 'flagged');
  out.push(
    `  ${flagged.length > 0 ? '✓' : '✗'} ${scenario.enterpriseId} (${scenario.description.zh}, 28 days of history sent after the day): ` +
      (row.rows.map((r) => `${r.site_id} ${r.status}${r.reason ? ` (${r.reason})` : ''}`).join(', ') ||
        'no judgement recorded'),
  );
  for (const r of flagged)
    for (const m of r.details.metrics ?? []) out.push(`    ${r.site_id} ${evidence(m)}`);
  const score = risk.rows[0];
  out.push(
    score
      ? `  ${score.score > 0 ? '✓' : '✗'} risk score ${score.score}: ${score.reasons.map((x) => x.zh).join('；')}`
      : `  ✗ no risk score for ${scenario.enterpriseId}`,
  );
  return out;
}

interface PeerFigure {
  metric: string;
  flagged: boolean;
  en: string;
}

/**
 * The demo summary's peers cross-check (大数据分析: 同行比对): the analyzer's round over the 30 days ending at `asOf`
 * (its history-cli; the backfilled history with one enterprise just below its limits, and the simulated day), its
 * findings handed to this run's deviation.v1, then what it recorded: each outlet's judgement (analyzer_cross_checks)
 * and the stand-out's risk score with its reasons (analyzer_risk_v1).
 */
export async function peersSection(
  pool: pg.Pool,
  asOf: number,
  deviationTopic: string,
  nearLimit: string | undefined,
): Promise<string[]> {
  const out: string[] = [];
  const round = await runHistoryCli('peers', asOf, deviationTopic);
  const dayStart = new Date(asOf - 86_400_000);
  const rows = await pool.query<{
    site_id: string;
    enterprise_id: string;
    status: string;
    reason: string | null;
    details: { process?: string; factors?: { factor: string; figures: PeerFigure[] }[] };
  }>(
    `select site_id, enterprise_id, status, reason, details from analyzer_cross_checks
      where check_name = 'peers' and day_start = $1 order by site_id`,
    [dayStart],
  );
  const reasons = new Map<string, number>();
  for (const r of rows.rows)
    if (r.status === 'not-judged') reasons.set(r.reason ?? '?', (reasons.get(r.reason ?? '?') ?? 0) + 1);
  out.push(
    `  round over the 30 days to the end of the simulated day: ${round.outlets ?? 0} outlets, ${round.flagged ?? 0} flagged, ` +
      `${round.clear ?? 0} clear, ${round.notJudged ?? 0} not judged (${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}), ` +
      `${round.failed ?? 0} failed; ${round.events ?? 0} deviation(s) sent`,
  );
  const flagged = rows.rows.filter((r) => r.status === 'flagged');
  const others = flagged.filter((r) => r.enterprise_id !== nearLimit);
  if (!nearLimit) out.push('  ✗ no enterprise was given a history just below its limits');
  else {
    const mine = rows.rows.filter((r) => r.enterprise_id === nearLimit);
    out.push(
      `  ${mine.some((r) => r.status === 'flagged') ? '✓' : '✗'} ${nearLimit} (history at 92–98 % of its limits): ` +
        (mine
          .map(
            (r) =>
              `${r.site_id} (${r.details.process ?? '—'}) ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
          )
          .join(', ') || 'no judgement recorded'),
    );
    for (const r of mine)
      for (const f of r.details.factors ?? [])
        for (const x of f.figures.filter((y) => y.flagged)) out.push(`    ${r.site_id} ${x.en}`);
    const risk = await pool.query<{ score: number; reasons: { check: string; zh: string }[] }>(
      'select score, reasons from analyzer_risk_v1 where enterprise_id = $1',
      [nearLimit],
    );
    const score = risk.rows[0];
    const peerReasons = score?.reasons.filter((x) => x.check === 'peers') ?? [];
    out.push(
      score && peerReasons.length > 0
        ? `  ✓ risk score ${score.score}: ${peerReasons.map((x) => x.zh).join('；')}`
        : `  ✗ no peers risk component for ${nearLimit}`,
    );
  }
  out.push(
    `  ${others.length === 0 ? '✓' : '✗'} other outlets flagged: ${others.map((r) => `${r.site_id} (${r.enterprise_id})`).join(', ') || 'none'}`,
  );
  return out;
}

interface CrossDeviceFigure {
  flagged: boolean;
  en: string;
}

/**
 * The demo summary's cross-device consistency check (大数据分析: 多设备/多参数一致性): the analyzer's round over the
 * simulated day (its history-cli), its findings handed to this run's deviation.v1, then what it recorded per
 * sub-check: the verdicts and why outlets were not judged (analyzer_cross_checks), each flagged outlet's evidence in
 * words, and the risk scores it gave (analyzer_risk_v1).
 */
export async function crossDeviceSection(
  pool: pg.Pool,
  asOf: number,
  deviationTopic: string,
): Promise<string[]> {
  const out: string[] = [];
  const round = await runHistoryCli('cross-device', asOf, deviationTopic);
  const dayStart = new Date(asOf - 86_400_000);
  const rows = await pool.query<{
    check_name: string;
    site_id: string;
    enterprise_id: string;
    status: string;
    reason: string | null;
    details: { figures?: CrossDeviceFigure[] };
  }>(
    `select check_name, site_id, enterprise_id, status, reason, details from analyzer_cross_checks
      where check_name like 'cross-device/%' and day_start = $1 order by check_name, site_id`,
    [dayStart],
  );
  out.push(
    `  round over the simulated day: ${round.outlets ?? 0} outlets with a device, ${round.flagged ?? 0} flagged, ` +
      `${round.clear ?? 0} clear, ${round.notJudged ?? 0} not judged (per sub-check), ${round.failed ?? 0} failed; ` +
      `${round.events ?? 0} deviation(s) sent`,
  );
  for (const check of ['cross-device/flue-gas', 'cross-device/devices']) {
    const mine = rows.rows.filter((r) => r.check_name === check);
    const by = new Map<string, number>();
    for (const r of mine) {
      const k = r.status === 'not-judged' ? `not judged: ${r.reason ?? '?'}` : r.status;
      by.set(k, (by.get(k) ?? 0) + 1);
    }
    out.push(
      `  ${check.slice('cross-device/'.length)}: ${[...by].map(([k, n]) => `${k} ${n}`).join(', ') || 'no judgement recorded'}`,
    );
    for (const r of mine.filter((x) => x.status === 'flagged'))
      for (const f of (r.details.figures ?? []).filter((x) => x.flagged))
        out.push(`    ✓ ${r.site_id} (${r.enterprise_id}) ${f.en}`);
  }
  const risk = await pool.query<{ enterprise_id: string; points: number }>(
    `select enterprise_id, points from analyzer_risk_components where check_name = 'cross-device' and points > 0
      order by enterprise_id`,
  );
  out.push(
    `  risk components: ${risk.rows.map((r) => `${r.enterprise_id} ${r.points}`).join(', ') || 'none (no finding on the simulated day)'}`,
  );
  return out;
}
